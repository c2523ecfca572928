"""Texts shown to people: validation messages and the few words the renderer needs.

Romanian is the source language; English is kept complete so that a test
(or a future language) notices a missing key.  Messages always name the
field by its title, in the quotation marks usual for the language.
"""

from __future__ import annotations

SOURCE_LANG = "ro"

_CATALOG: dict[str, dict[str, str]] = {
    "ro": {
        # validation
        "required": "{field} este obligatoriu.",
        "type_integer": "{field} trebuie să fie un număr întreg.",
        "type_number": "{field} trebuie să fie un număr.",
        "type_string": "{field} trebuie să fie un text.",
        "type_object": "{field} trebuie să fie un fișier încărcat.",
        "minLength": "{field} trebuie să aibă cel puțin {count}.",
        "maxLength": "{field} trebuie să aibă cel mult {count}.",
        "minimum": "{field} trebuie să fie cel puțin {limit}.",
        "maximum": "{field} trebuie să fie cel mult {limit}.",
        "exclusiveMinimum": "{field} trebuie să fie mai mare decât {limit}.",
        "exclusiveMaximum": "{field} trebuie să fie mai mic decât {limit}.",
        "multipleOf": "{field} trebuie să fie multiplu de {limit}.",
        "pattern": "{field} nu are formatul cerut.",
        "enum": "{field}: alegeți una dintre valorile permise.",
        "must_tick": "Trebuie să bifați {field}.",
        "format_date": "{field} nu este o dată validă (AAAA-LL-ZZ).",
        "format_email": "{field} nu este o adresă de e-mail validă.",
        "uniqueItems": "{field} conține valori repetate.",
        "minItems": "{field}: alegeți cel puțin {count}.",
        "maxItems": "{field}: alegeți cel mult {count}.",
        "invalid": "{field} are o valoare nevalidă.",
        "form_invalid": "Datele formularului nu sunt valide.",
        # files
        "file_too_large": "{field}: fișierul depășește dimensiunea maximă de {size}.",
        "file_type": "{field}: tipul fișierului nu este permis (se acceptă: {types}).",
        "file_image_too_large": "{field}: imaginea declară prea mulți pixeli sau prea multe "
                                "pagini pentru a fi deschisă; scanați la cel mult 600 dpi.",
        "file_empty": "{field}: fișierul încărcat este gol.",
        "file_multiple": "{field}: încărcați un singur fișier.",
        "file_no_storage": "{field}: încărcarea fișierelor nu este disponibilă aici.",
        # nouns for counted phrases
        "noun_char": "caracter|caractere",
        "noun_option": "opțiune|opțiuni",
        # rendering
        "summary_title": "Formularul conține erori. Corectați câmpurile de mai jos:",
        "required_marker": "(obligatoriu)",
        "choose": "— alegeți —",
        "yes": "Da",
        "no": "Nu",
        "not_filled": "necompletat",
        "file_current": "Fișier încărcat:",
        "file_keep": "Dacă nu alegeți alt fișier, îl păstrăm pe cel existent.",
        "file_remove": "Șterge fișierul încărcat",
        "file_hint": "Tipuri acceptate: {types}. Mărime maximă: {size}.",
    },
    "en": {
        "required": "{field} is required.",
        "type_integer": "{field} must be a whole number.",
        "type_number": "{field} must be a number.",
        "type_string": "{field} must be text.",
        "type_object": "{field} must be an uploaded file.",
        "minLength": "{field} must have at least {count}.",
        "maxLength": "{field} must have at most {count}.",
        "minimum": "{field} must be at least {limit}.",
        "maximum": "{field} must be at most {limit}.",
        "exclusiveMinimum": "{field} must be greater than {limit}.",
        "exclusiveMaximum": "{field} must be less than {limit}.",
        "multipleOf": "{field} must be a multiple of {limit}.",
        "pattern": "{field} is not in the required format.",
        "enum": "{field}: choose one of the allowed values.",
        "must_tick": "You must tick {field}.",
        "format_date": "{field} is not a valid date (YYYY-MM-DD).",
        "format_email": "{field} is not a valid e-mail address.",
        "uniqueItems": "{field} contains repeated values.",
        "minItems": "{field}: choose at least {count}.",
        "maxItems": "{field}: choose at most {count}.",
        "invalid": "{field} has an invalid value.",
        "form_invalid": "The form data is not valid.",
        "file_too_large": "{field}: the file is larger than the maximum of {size}.",
        "file_type": "{field}: this type of file is not allowed (accepted: {types}).",
        "file_image_too_large": "{field}: the image declares too many pixels or pages to be "
                                "opened; scan at 600 dpi at most.",
        "file_empty": "{field}: the uploaded file is empty.",
        "file_multiple": "{field}: upload a single file.",
        "file_no_storage": "{field}: file uploads are not available here.",
        "noun_char": "character|characters",
        "noun_option": "option|options",
        "summary_title": "The form has errors. Please correct the fields below:",
        "required_marker": "(required)",
        "choose": "— choose —",
        "yes": "Yes",
        "no": "No",
        "not_filled": "not filled in",
        "file_current": "Uploaded file:",
        "file_keep": "If you do not choose another file, the current one is kept.",
        "file_remove": "Remove the uploaded file",
        "file_hint": "Accepted types: {types}. Maximum size: {size}.",
    },
}


def messages(lang: str) -> dict[str, str]:
    """The catalogue for `lang`; unknown languages get Romanian."""
    return _CATALOG.get(lang, _CATALOG[SOURCE_LANG])


def text(lang: str, key: str, **params) -> str:
    return messages(lang)[key].format(**params)


def quote(title: str, lang: str) -> str:
    """A field title in the quotation marks of the language: «Răspuns» / "Answer"."""
    if lang == "en":
        return f'"{title}"'
    return f"«{title}»"


def format_number(value, lang: str) -> str:
    """2.5 -> "2,5" in Romanian; whole floats lose their ".0"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    shown = str(value)
    return shown.replace(".", ",") if lang != "en" else shown


def count_phrase(n: int, noun_key: str, lang: str) -> str:
    """"10 caractere", "1 caracter", "20 de caractere" / "1 character", "10 characters".

    Romanian puts "de" between a number and its noun when the number's last
    two digits are 00 or 20..99 (20 de caractere, 101 caractere, 120 de caractere).
    """
    singular, plural = messages(lang)[noun_key].split("|")
    if n == 1:
        return f"1 {singular}"
    if lang != "en" and n >= 20 and (n % 100 == 0 or n % 100 >= 20):
        return f"{n} de {plural}"
    return f"{n} {plural}"


def format_size(n_bytes: int, lang: str) -> str:
    """Sizes as clerks speak of them: 10485760 -> "10 MB" (binary multiples)."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n_bytes >= factor:
            return f"{format_number(round(n_bytes / factor, 1), lang)} {unit}"
    return f"{n_bytes} B"
