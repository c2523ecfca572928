"""From what a browser posted to typed, validated data with clerk-friendly messages.

Browsers post strings only: we coerce them to the schema's types first, then
let jsonschema judge, then turn each jsonschema error into one sentence that
names the field by its title.  A value that cannot be coerced ("abc" for a
number) is kept as typed, so validation reports it and the re-rendered form
shows the user exactly what they wrote.
"""

from __future__ import annotations

import math
import re
from datetime import date

from jsonschema import FormatChecker

from .files import TYPE_NAMES, UploadRejected, check_upload, is_empty_upload
from .messages import count_phrase, format_number, format_size, quote, text

FORM_ERROR_KEY = "_form"  # errors not tied to one field (never a field name: those start with a letter)
REMOVE_SUFFIX = "__remove"  # posted by the "remove the uploaded file" checkbox

_ABSENT = object()
_INT_RE = re.compile(r"[+-]?\d+\Z")
_DECIMAL_RE = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)\Z")  # Romanians write 2,5
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}\Z", re.ASCII)
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\Z")

# Only the formats we enforce; the definition checker refuses any other.
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_DATE_RE.match(value)) and bool(date.fromisoformat(value))


@FORMAT_CHECKER.checks("email")
def _is_email(value) -> bool:
    # jsonschema's own check only looks for an "@"; "ion@" would pass.
    return not isinstance(value, str) or bool(_EMAIL_RE.match(value))


def coerce_value(field, formdata):
    """The typed value of one (non-file) field, or _ABSENT when left empty."""
    if field.kind == "checkbox":
        # An unticked checkbox is simply not posted: absence means "no".
        return any(v.strip() for v in formdata.getlist(field.name))
    if field.kind == "checkboxes":
        values = [v.strip() for v in formdata.getlist(field.name) if v.strip()]
        return values or _ABSENT
    raw = formdata.get(field.name)
    if raw is None:
        return _ABSENT
    raw = raw.replace("\r\n", "\n").strip()  # browsers send CRLF; it would count double
    if not raw:
        return _ABSENT
    if field.kind in ("integer", "number"):
        return _to_number(raw, allow_decimal=field.kind == "number")
    return raw


def _to_number(raw: str, allow_decimal: bool):
    """int/float, or the raw text when it is not a (storable) number."""
    try:
        if _INT_RE.match(raw):
            return int(raw)  # ValueError past Python's 4300-digit limit
        if allow_decimal and _DECIMAL_RE.match(raw):
            number = float(raw.replace(",", "."))
            return number if math.isfinite(number) else raw  # "1e999"-sized input: not JSON
    except ValueError:
        pass
    return raw


def parse(form, formdata, files=None, lang="ro", store_file=None, existing=None):
    """Return (data, errors) for a submission.

    formdata, files: werkzeug MultiDicts (request.form, request.files).
    store_file(file_storage, sniffed_content_type) -> dict: called for each
        accepted upload, even if other fields have errors, so the file
        reference can be kept (pass it back as `existing` next time:
        browsers cannot re-fill a file input).
    existing: data saved earlier for this task; supplies readonly fields and
        files that were not uploaded again.  Posted keys that are not fields
        are ignored.
    """
    existing = existing or {}
    data, errors = {}, {}
    for field in form.fields:
        if field.readonly:
            # Filled in by an earlier step: never taken from the post.
            if field.name in existing:
                data[field.name] = existing[field.name]
        elif field.kind == "file":
            _parse_file(field, formdata, files, lang, store_file, existing, data, errors)
        else:
            value = coerce_value(field, formdata)
            if value is not _ABSENT:
                data[field.name] = value
    for name, message in validate(form, data, lang).items():
        errors.setdefault(name, message)  # an upload problem says more than "required"
    return data, _in_field_order(form, errors)


def _parse_file(field, formdata, files, lang, store_file, existing, data, errors):
    name = field.name
    uploads = [s for s in (files.getlist(name) if files else []) if not is_empty_upload(s)]
    kept = existing.get(name)
    if kept is not None and not field.required and formdata.get(name + REMOVE_SUFFIX):
        kept = None
    if kept is not None:
        data[name] = kept  # replaced below only by a good new upload
    if not uploads:
        return
    reason = None
    if len(uploads) > 1:
        reason = "file_multiple"
    elif store_file is None:
        reason = "file_no_storage"
    else:
        try:
            content_type = check_upload(uploads[0], field.accept, field.max_bytes)
        except UploadRejected as e:
            reason = e.reason
    if reason:
        errors[name] = text(
            lang, reason, field=quote(field.title(lang), lang),
            size=format_size(field.max_bytes, lang),
            types=", ".join(TYPE_NAMES[t] for t in field.accept),
        )
        return
    reference = store_file(uploads[0], content_type)
    if not isinstance(reference, dict):
        raise TypeError(f"store_file must return a dict describing the stored file, got {reference!r}")
    data[name] = reference


def validate(form, data, lang="ro") -> dict[str, str]:
    """One message per field (the most telling one), in form order."""
    errors = {}
    readonly = {f.name for f in form.fields if f.readonly}
    for error in sorted(form.validator.iter_errors(data), key=_priority):
        for name in _fields_of(error, form):
            if name in readonly:
                continue  # checked by the step that filled it; the user cannot fix it here
            field = form.field(name) if name in form else None
            errors.setdefault(name, _message(error, field, lang))
    return _in_field_order(form, errors)


_PRIORITY = {"required": 0, "type": 1, "format": 2, "enum": 3, "const": 3}


def _priority(error):
    return _PRIORITY.get(error.validator, 4), len(error.absolute_path)


def _fields_of(error, form) -> list[str]:
    path = error.absolute_path
    if path:
        return [path[0] if path[0] in form else FORM_ERROR_KEY]
    if error.validator == "required" and isinstance(error.instance, dict):
        return [n for n in error.validator_value if n not in error.instance]
    return [FORM_ERROR_KEY]


def _message(error, field, lang) -> str:
    if field is None:
        return text(lang, "form_invalid")
    kind, value = error.validator, error.validator_value
    params = {"field": quote(field.title(lang), lang)}
    nested = len(error.absolute_path) > 1  # e.g. one of the ticked values of a checkbox group
    if kind == "required":
        key = "required"
    elif kind == "enum":
        key = "enum"
    elif kind == "const":
        key = "must_tick" if field.must_tick else "enum"
    elif nested:
        key = "invalid"
    elif kind == "type" or kind == "format":
        key = f"{kind}_{value}"
    elif kind in ("minLength", "maxLength"):
        key, params["count"] = kind, count_phrase(value, "noun_char", lang)
    elif kind in ("minItems", "maxItems"):
        key, params["count"] = kind, count_phrase(value, "noun_option", lang)
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        key, params["limit"] = kind, format_number(value, lang)
    elif kind in ("pattern", "uniqueItems"):
        key = kind
    else:
        key = "invalid"
    try:
        return text(lang, key, **params)
    except KeyError:  # e.g. a type we have no sentence for
        return text(lang, "invalid", **params)


def _in_field_order(form, errors: dict) -> dict:
    ordered = {f.name: errors[f.name] for f in form.fields if f.name in errors}
    ordered.update((k, v) for k, v in errors.items() if k not in ordered)
    return ordered
