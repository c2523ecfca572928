"""Server-side HTML for a form: accessible, usable on a phone without JavaScript.

Conventions (the web app's CSS and tests rely on them):
  - input id "field-<name>", input name "<name>"; radio/checkbox groups give
    the first option that id, so the error summary's "#field-<name>" link
    lands on something focusable;
  - help "field-<name>-help", error "field-<name>-error", both referenced by
    aria-describedby; aria-invalid="true" on fields with an error;
  - the error summary (role="alert") comes first and links to each field.
Every text from data or definitions goes through markupsafe escaping.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup

from .files import EXTENSIONS, TYPE_NAMES
from .messages import format_number, format_size, text
from .validate import REMOVE_SUFFIX

_TEXT_INPUTS = {
    "text": {"type": "text"},
    "email": {"type": "email"},
    "date": {"type": "date"},
    # type="number" drops what it cannot parse (the user's text is lost) and
    # changes on scroll; a text box with a numeric keyboard does neither.
    "integer": {"type": "text", "inputmode": "numeric"},
    "number": {"type": "text", "inputmode": "decimal"},
}
_CHECKED = "da"  # value posted by a ticked checkbox; any non-empty value means "yes"


def render(form, data=None, errors=None, lang="ro", readonly=False, file_url=None) -> Markup:
    """See FormDefinition.render.  file_url(reference) -> URL links stored files (optional)."""
    if data is None:
        data = {} if readonly else {f.name: f.schema["default"] for f in form.fields
                                    if "default" in f.schema}
    if readonly:
        return _values(form.fields, data, lang, file_url)
    errors = errors or {}
    parts = [_summary(form, errors, lang)] if errors else []
    for field in form.fields:
        if field.readonly:
            parts.append(_values([field], data, lang, file_url))
        else:
            parts.append(_field(field, data.get(field.name), errors.get(field.name), lang))
    return Markup("\n").join(parts)


# -- small HTML helpers ---------------------------------------------------

def _attrs(attrs: dict) -> Markup:
    """' name="value"' pairs; True gives a bare attribute, None/False leaves it out."""
    out = Markup("")
    for key, value in attrs.items():
        if value is True:
            out += Markup(" ") + Markup(key)
        elif value is not None and value is not False:
            out += Markup(' {}="{}"').format(Markup(key), value)
    return out


def _tag(element: str, content=None, /, **attrs) -> Markup:
    """An element; keyword `class_` -> class, `aria_x` -> aria-x.  No content: a void element."""
    attrs = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
    if content is None:
        return Markup("<{}{}>").format(Markup(element), _attrs(attrs))
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(element), _attrs(attrs), content)


def _join(*parts) -> Markup:
    return Markup("").join(p for p in parts if p)


# -- the error summary ----------------------------------------------------

def _summary(form, errors, lang) -> Markup:
    items = []
    linked = {f.name for f in form.fields if not f.readonly}
    for field in form.fields:
        if field.name in errors and field.name in linked:
            link = _tag("a", errors[field.name], href=f"#field-{field.name}")
            items.append(_tag("li", link))
    for key, message in errors.items():
        if key not in linked:
            items.append(_tag("li", message))
    return _tag(
        "div",
        _join(_tag("h2", text(lang, "summary_title"), id="form-errors-title"),
              _tag("ul", Markup("").join(items))),
        class_="form-errors", role="alert", aria_labelledby="form-errors-title",
        tabindex="-1", id="form-errors",
    )


# -- one editable field ---------------------------------------------------

def _field(field, value, error, lang) -> Markup:
    fid = f"field-{field.name}"
    described, notes = [], []

    def note(suffix, content, css):
        described.append(f"{fid}-{suffix}")
        notes.append(_tag("p", content, class_=css, id=f"{fid}-{suffix}"))

    if field.help(lang):
        note("help", field.help(lang), "field-help")
    if field.kind == "file":
        types = ", ".join(TYPE_NAMES[t] for t in field.accept)
        note("hint", text(lang, "file_hint", types=types, size=format_size(field.max_bytes, lang)),
             "field-hint")
        if isinstance(value, dict):
            note("current", _join(text(lang, "file_current"), " ", _file_label(value, lang, None),
                                  ". ", text(lang, "file_keep")), "field-file-current")
    if error:
        note("error", error, "field-error")

    common = {
        "aria_describedby": " ".join(described) or None,
        "aria_invalid": "true" if error else None,
    }
    css = f"field field-{field.kind}" + (" field-invalid" if error else "")
    # A required boolean is always posted (unticked = false): only "must tick" is marked.
    marked = field.must_tick if field.kind == "checkbox" else field.required
    marker = _tag("span", text(lang, "required_marker"), class_="field-required")
    label_text = _join(field.title(lang), Markup(" ") + marker if marked else None)

    if field.kind in ("radio", "checkboxes"):
        # A group: the legend is the question, each option has its own label.
        input_type = "radio" if field.kind == "radio" else "checkbox"
        chosen = value if isinstance(value, list) else [value]
        options = []
        for i, (option, title) in enumerate(field.options(lang)):
            oid = fid if i == 0 else f"{fid}-{i + 1}"
            options.append(_tag("div", _join(
                _tag("input", type=input_type, id=oid, name=field.name, value=option,
                     checked=option in chosen,
                     # required on a checkbox group would demand every box
                     required=field.required and input_type == "radio",
                     aria_invalid=common["aria_invalid"]),
                _tag("label", title, for_=oid)), class_="field-option"))
        return _tag("fieldset", _join(_tag("legend", label_text), *notes, *options),
                    class_=css, aria_describedby=common["aria_describedby"])

    if field.kind == "checkbox":
        control = _tag("input", type="checkbox", id=fid, name=field.name, value=_CHECKED,
                       checked=value is True, required=field.must_tick, **common)
        return _tag("div", _join(control, _tag("label", label_text, for_=fid), *notes), class_=css)

    label = _tag("label", label_text, for_=fid)
    control = _control(field, fid, value, lang, common)
    extra = None
    if field.kind == "file" and isinstance(value, dict) and not field.required:
        rid = f"{fid}-remove"
        extra = _tag("div", _join(
            _tag("input", type="checkbox", id=rid, name=field.name + REMOVE_SUFFIX, value=_CHECKED),
            _tag("label", text(lang, "file_remove"), for_=rid)), class_="field-option")
    return _tag("div", _join(label, *notes, control, extra), class_=css)


def _control(field, fid, value, lang, common) -> Markup:
    shown = None if value is None or isinstance(value, (dict, list)) else str(value)
    if field.kind == "number" and isinstance(value, float):
        shown = format_number(value, lang)  # give back "2,5" as the user wrote it, not "2.5"
    required = field.required
    if field.kind == "textarea":
        # The newline after <textarea> is eaten by the HTML parser, so a
        # value starting with a newline keeps it.
        return _tag("textarea", Markup("\n") + (shown or ""), id=fid, name=field.name,
                    rows=str(field.rows), required=required,
                    placeholder=field.placeholder(lang), **common)
    if field.kind == "select":
        options = [_tag("option", text(lang, "choose"), value="")]
        for option, title in field.options(lang):
            options.append(_tag("option", title, value=option, selected=option == shown))
        return _tag("select", Markup("").join(options), id=fid, name=field.name,
                    required=required, **common)
    if field.kind == "file":
        accept = ",".join(list(field.accept) + [e for t in field.accept for e in EXTENSIONS[t]])
        return _tag("input", type="file", id=fid, name=field.name, accept=accept,
                    # a stored file already satisfies "required"
                    required=required and not isinstance(value, dict), **common)
    return _tag("input", **_TEXT_INPUTS[field.kind], id=fid, name=field.name, value=shown,
                required=required, placeholder=field.placeholder(lang), **common)


# -- read-only values (earlier steps, or readonly=True) ---------------------

def _values(fields, data, lang, file_url) -> Markup:
    rows = []
    for field in fields:
        value = data.get(field.name)
        if value is None or value == "" or value == []:
            dd = _tag("dd", text(lang, "not_filled"), class_="form-value-empty")
        else:
            dd = _tag("dd", _display(field, value, lang, file_url))
        rows.append(_tag("div", _join(_tag("dt", field.title(lang)), dd),
                         class_="form-value", id=f"value-{field.name}"))
    return _tag("dl", Markup("").join(rows), class_="form-values")


def _display(field, value, lang, file_url) -> Markup | str:
    kind = field.kind
    if kind in ("select", "radio"):
        return field.choice_title(value, lang)
    if kind == "checkboxes" and isinstance(value, list):
        return ", ".join(field.choice_title(v, lang) for v in value)
    if kind == "checkbox":
        return text(lang, "yes" if value is True else "no")
    if kind in ("integer", "number") and isinstance(value, (int, float)):
        return format_number(value, lang)
    if kind == "date" and lang != "en":
        try:
            return date.fromisoformat(str(value)).strftime("%d.%m.%Y")  # as written in Romania
        except ValueError:
            return str(value)
    if kind == "textarea":
        return Markup("<br>\n").join(str(value).split("\n"))
    if kind == "file" and isinstance(value, dict):
        return _file_label(value, lang, file_url)
    return str(value)


def _file_label(reference: dict, lang, file_url) -> Markup:
    name = _tag("span", str(reference.get("name") or reference.get("sha256") or "?"),
                class_="file-name")
    if file_url is not None:
        name = _tag("a", name, href=file_url(reference))
    size = reference.get("size")
    if isinstance(size, int) and not isinstance(size, bool):
        return _join(name, f" ({format_size(size, lang)})")
    return name
