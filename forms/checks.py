"""Checking a form definition before we use it (see FormDefinition.from_dict).

Only a small set of field shapes is supported, because each one must have
a widget that works on a phone without JavaScript and a parser for what the
browser posts.  Anything else is refused with a message naming the field.
"""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .definition import Field, FormDefinitionError
from .files import SUPPORTED_TYPES
from .messages import SOURCE_LANG

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SUPPORTED_FORMATS = ("date", "email")  # the ones forms.validate enforces

# Field names become HTML ids, form keys and URL fragments: keep them plain.
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_LANG_RE = re.compile(r"[a-z]{2}\Z")
_TOP_KEYS = {"schema", "ui", "i18n"}
_UI_FIELD_KEYS = {"widget", "help", "placeholder", "rows", "enum_titles", "readonly"}
_I18N_FIELD_KEYS = {"title", "help", "placeholder", "enum_titles"}
_X_FILE_KEYS = {"accept", "max_bytes"}


class _Bad(Exception):
    """Internal: a problem with one field, turned into FormDefinitionError."""


def check_definition(d, source: str):
    """Return (schema, ui, i18n, fields) or raise FormDefinitionError."""
    def fail(message, field=None):
        raise FormDefinitionError(source, message, field)

    if not isinstance(d, dict):
        fail("a form definition must be a JSON object with \"schema\", \"ui\" and \"i18n\"")
    unknown = sorted(set(d) - _TOP_KEYS)
    if unknown:
        fail(f"unknown top-level key(s) {', '.join(unknown)} (allowed: schema, ui, i18n)")
    schema, ui, i18n = d.get("schema"), d.get("ui", {}), d.get("i18n", {})

    # -- schema ----------------------------------------------------------
    if not isinstance(schema, dict):
        fail("\"schema\" is missing or is not an object")
    declared = schema.get("$schema")
    if declared is not None and (not isinstance(declared, str) or declared.rstrip("#") != DRAFT_2020_12):
        fail(f"\"$schema\" must be {DRAFT_2020_12} (found {declared!r})")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        where = "/".join(str(p) for p in e.path)
        field = e.path[1] if len(e.path) > 1 and e.path[0] == "properties" else None
        fail(f"the schema is not valid JSON Schema 2020-12: {e.message}"
             + (f" (at {where})" if where else ""), field)
    if schema.get("type") != "object":
        fail("the schema must have \"type\": \"object\"")
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        fail("the schema has no \"properties\"")
    required = schema.get("required", [])
    for name in required:
        if name not in properties:
            fail("listed in \"required\" but not defined in \"properties\"", name)

    kinds = {}
    for name, prop in properties.items():
        if not _NAME_RE.match(name):
            fail("field names must start with a letter and contain only letters, digits and _", name)
        try:
            kinds[name] = _allowed_kinds(prop)
        except _Bad as e:
            fail(str(e), name)

    # -- ui --------------------------------------------------------------
    if not isinstance(ui, dict):
        fail("\"ui\" must be an object")
    order = ui.get("order", [])
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        fail("\"ui.order\" must be a list of field names")
    for name in order:
        if name not in properties:
            fail("named in \"ui.order\" but not defined in the schema", name)
    if len(set(order)) != len(order):
        dup = next(n for n in order if order.count(n) > 1)
        fail("named more than once in \"ui.order\"", dup)
    for name, hints in ui.items():
        if name == "order":
            continue
        if name not in properties:
            fail("has UI hints in \"ui\" but is not defined in the schema", name)
        try:
            _check_ui(hints, kinds[name], properties[name])
        except _Bad as e:
            fail(str(e), name)

    # -- i18n ------------------------------------------------------------
    if not isinstance(i18n, dict):
        fail("\"i18n\" must be an object of languages")
    for lang, texts in i18n.items():
        if not _LANG_RE.match(lang) or lang == SOURCE_LANG:
            fail(f"\"i18n\" key '{lang}' must be a two-letter language code other than "
                 f"'{SOURCE_LANG}' (Romanian texts go in the schema and ui)")
        if not isinstance(texts, dict):
            fail(f"\"i18n.{lang}\" must be an object of fields")
        for name, entry in texts.items():
            if name not in properties:
                fail(f"has texts in \"i18n.{lang}\" but is not defined in the schema", name)
            try:
                _check_texts(entry, _I18N_FIELD_KEYS, properties[name], f"i18n.{lang}")
            except _Bad as e:
                fail(str(e), name)

    # Fields listed in ui.order come first; any others follow in schema order.
    names = order + [n for n in properties if n not in order]
    fields = []
    for name in names:
        hints = ui.get(name, {})
        kind = hints.get("widget", kinds[name][0])
        fields.append(Field(
            name=name, kind=kind, required=name in required, schema=properties[name], ui=hints,
            translations={lang: texts.get(name, {}) for lang, texts in i18n.items()},
        ))
    return schema, ui, i18n, fields


def _allowed_kinds(prop) -> tuple[str, ...]:
    """Widgets possible for a property, the default first; _Bad if unsupported."""
    if not isinstance(prop, dict):
        raise _Bad("the property must be an object")
    if not isinstance(prop.get("title"), str) or not prop["title"].strip():
        raise _Bad("needs a \"title\" (the Romanian label shown to people and used in messages)")
    type_ = prop.get("type")
    if "x-file" in prop:
        if type_ != "object":
            raise _Bad("a file field (\"x-file\") must have \"type\": \"object\"")
        _check_x_file(prop["x-file"])
        return ("file",)
    if type_ == "string":
        if "enum" in prop:
            _check_choices(prop["enum"])
            return ("select", "radio")
        fmt = prop.get("format")
        if fmt is None:
            return ("text", "textarea")
        if fmt in SUPPORTED_FORMATS:
            return (fmt,)
        raise _Bad(f"format \"{fmt}\" is not supported (supported: {', '.join(SUPPORTED_FORMATS)})")
    if type_ in ("integer", "number"):
        if "enum" in prop:
            raise _Bad("\"enum\" is only supported on string fields")
        return (type_,)
    if type_ == "boolean":
        if "enum" in prop or prop.get("const", True) is not True:
            raise _Bad("a checkbox can only use \"const\": true (meaning it must be ticked)")
        return ("checkbox",)
    if type_ == "array":
        items = prop.get("items")
        if not (isinstance(items, dict) and items.get("type") == "string" and "enum" in items):
            raise _Bad("an array field must have \"items\": {\"type\": \"string\", \"enum\": [...]}")
        _check_choices(items["enum"])
        return ("checkboxes",)
    if type_ == "object":
        raise _Bad("nested objects are not supported; mark file fields with \"x-file\"")
    raise _Bad(f"\"type\" must be one of string, integer, number, boolean, array "
               f"or object with \"x-file\" (found {type_!r})")


def _check_choices(values):
    # "" may appear (e.g. an enum filled from an empty group of users) but is
    # never offered: it is how a browser posts "nothing chosen".
    if not all(isinstance(v, str) for v in values):
        raise _Bad("\"enum\" values must be strings")


def _check_x_file(spec):
    if not isinstance(spec, dict):
        raise _Bad("\"x-file\" must be an object with \"accept\" and/or \"max_bytes\"")
    unknown = sorted(set(spec) - _X_FILE_KEYS)
    if unknown:
        raise _Bad(f"unknown \"x-file\" key(s) {', '.join(unknown)} (allowed: accept, max_bytes)")
    accept = spec.get("accept", list(SUPPORTED_TYPES))
    if not isinstance(accept, list) or not accept:
        raise _Bad("\"x-file.accept\" must be a non-empty list of content types")
    for content_type in accept:
        if content_type not in SUPPORTED_TYPES:
            raise _Bad(f"\"x-file.accept\": we cannot recognise {content_type!r} from its bytes "
                       f"(supported: {', '.join(SUPPORTED_TYPES)})")
    max_bytes = spec.get("max_bytes", 1)
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes <= 0:
        raise _Bad("\"x-file.max_bytes\" must be a positive whole number of bytes")


def _check_ui(hints, kinds, prop):
    if not isinstance(hints, dict):
        raise _Bad("the UI hints must be an object")
    _check_texts(hints, _UI_FIELD_KEYS, prop, "ui")
    widget = hints.get("widget")
    if widget is not None and widget not in kinds:
        raise _Bad(f"widget \"{widget}\" does not fit this field (possible: {', '.join(kinds)})")
    rows = hints.get("rows")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 1):
        raise _Bad("\"rows\" must be a positive whole number")
    if "readonly" in hints and not isinstance(hints["readonly"], bool):
        raise _Bad("\"readonly\" must be true or false")


def _check_texts(entry, allowed, prop, where):
    if not isinstance(entry, dict):
        raise _Bad(f"the entry in \"{where}\" must be an object")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise _Bad(f"unknown key(s) {', '.join(unknown)} in \"{where}\" "
                   f"(allowed: {', '.join(sorted(allowed))})")
    for key in ("title", "help", "placeholder"):
        if key in entry and not isinstance(entry[key], str):
            raise _Bad(f"\"{where}\": \"{key}\" must be a string")
    titles = entry.get("enum_titles")
    if titles is not None:
        choices = prop.get("enum") or (prop.get("items") or {}).get("enum") or []
        if not isinstance(titles, dict) or not all(isinstance(t, str) for t in titles.values()):
            raise _Bad(f"\"{where}\": \"enum_titles\" must map values to texts")
        for value in titles:
            if value not in choices:
                raise _Bad(f"\"{where}\": \"enum_titles\" names {value!r}, which is not an allowed value")
