"""Form definitions: loading and checking the JSON files that describe a form.

A definition has three parts (see forms/README.md):
  schema - JSON Schema 2020-12 for the submitted data, Romanian titles;
  ui     - how to show each field (order, widget, help text, ...);
  i18n   - texts in other languages, per field, overriding the Romanian ones.

Everything is checked when the file is loaded, so a mistake in a process
definition shows up once, at start-up, naming the file and the field,
instead of as a broken page in front of a citizen.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator

from . import render as _render
from . import validate as _validate
from .files import DEFAULT_MAX_BYTES, SUPPORTED_TYPES
from .messages import SOURCE_LANG


class FormDefinitionError(ValueError):
    """A form definition we refuse to use; `source` is the file, `field` the property."""

    def __init__(self, source: str, message: str, field: str | None = None):
        self.source, self.field = source, field
        where = f"{source}: field '{field}': " if field else f"{source}: "
        super().__init__(where + message)


@dataclass(frozen=True, eq=False)
class Field:
    """One field of a form, as the renderer and the parser see it."""

    name: str
    kind: str  # text textarea select radio checkbox checkboxes number integer date email file
    required: bool
    schema: dict
    ui: dict
    translations: dict  # lang -> {"title", "help", "placeholder", "enum_titles"}

    def title(self, lang: str = SOURCE_LANG) -> str:
        return self._text("title", lang, self.schema["title"])

    def help(self, lang: str = SOURCE_LANG) -> str | None:
        return self._text("help", lang, self.ui.get("help"))

    def placeholder(self, lang: str = SOURCE_LANG) -> str | None:
        return self._text("placeholder", lang, self.ui.get("placeholder"))

    def _text(self, key, lang, romanian):
        if lang != SOURCE_LANG:
            translated = self.translations.get(lang, {}).get(key)
            if translated:
                return translated
        return romanian

    @property
    def choices(self) -> list[str]:
        """Values offered by select / radio / checkboxes fields ("" never is)."""
        values = self.schema["items"]["enum"] if self.kind == "checkboxes" else self.schema.get("enum", [])
        return [v for v in values if v != ""]

    def choice_title(self, value, lang: str = SOURCE_LANG) -> str:
        if lang != SOURCE_LANG:
            translated = self.translations.get(lang, {}).get("enum_titles", {}).get(value)
            if translated:
                return translated
        return self.ui.get("enum_titles", {}).get(value, str(value))

    def options(self, lang: str = SOURCE_LANG) -> list[tuple[str, str]]:
        return [(value, self.choice_title(value, lang)) for value in self.choices]

    @property
    def readonly(self) -> bool:
        return bool(self.ui.get("readonly"))

    @property
    def rows(self) -> int:
        return self.ui.get("rows", 5)

    @property
    def must_tick(self) -> bool:
        """A checkbox that has to be ticked ("const": true), e.g. a consent."""
        return self.kind == "checkbox" and self.schema.get("const") is True

    @property
    def accept(self) -> tuple[str, ...]:
        return tuple(self.schema.get("x-file", {}).get("accept", SUPPORTED_TYPES))

    @property
    def max_bytes(self) -> int:
        return self.schema.get("x-file", {}).get("max_bytes", DEFAULT_MAX_BYTES)


class FormDefinition:
    """A checked form definition: render it, parse what was posted."""

    def __init__(self, name: str, schema: dict, ui: dict, i18n: dict, fields: list[Field]):
        self.name, self.schema, self.ui, self.i18n = name, schema, ui, i18n
        self.fields = fields
        self._by_name = {f.name: f for f in fields}
        self.validator = Draft202012Validator(schema, format_checker=_validate.FORMAT_CHECKER)

    def __repr__(self):
        return f"<FormDefinition {self.name!r}: {', '.join(self._by_name)}>"

    def field(self, name: str) -> Field:
        return self._by_name[name]

    def __contains__(self, name) -> bool:
        return name in self._by_name

    @property
    def has_files(self) -> bool:
        """True when the caller's <form> needs enctype="multipart/form-data"."""
        return any(f.kind == "file" for f in self.fields)

    # -- loading ---------------------------------------------------------

    @classmethod
    def load(cls, path) -> "FormDefinition":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise FormDefinitionError(str(path), f"cannot read the file ({e.strerror})") from e
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise FormDefinitionError(
                str(path), f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from e
        return cls.from_dict(d, name=str(path))

    @classmethod
    def from_dict(cls, d: dict, name: str = "form") -> "FormDefinition":
        from .checks import check_definition  # checks needs Field from this module

        # A private copy: later changes to `d` by the caller must not alter the form.
        schema, ui, i18n, fields = check_definition(copy.deepcopy(d), name)
        return cls(name, schema, ui, i18n, fields)

    # -- using -----------------------------------------------------------

    def render(self, data=None, errors=None, lang=SOURCE_LANG, readonly=False, file_url=None):
        """HTML fragment (markupsafe.Markup) for the fields; the caller adds <form> and CSRF."""
        return _render.render(self, data, errors, lang, readonly, file_url)

    def parse(self, formdata, files=None, lang=SOURCE_LANG, store_file=None, existing=None):
        """Posted data -> (data, errors); see forms.validate.parse."""
        return _validate.parse(self, formdata, files, lang, store_file, existing)

    def validate(self, data: dict, lang=SOURCE_LANG) -> dict[str, str]:
        """Errors for already-typed data (e.g. from an API), keyed by field."""
        return _validate.validate(self, data, lang)
