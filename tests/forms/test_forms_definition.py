"""Loading and checking form definitions."""

import copy
import json

import pytest

from forms import FormDefinition, FormDefinitionError
from forms_testkit import SAMPLE


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def test_sample_loads_with_fields_in_ui_order(form):
    assert [f.name for f in form.fields] == [
        "registration_no", "answer", "outcome", "pages", "fee", "received_on", "email", "cnp",
        "department", "urgent", "consent", "channels", "annex", "photo"]
    kinds = {f.name: f.kind for f in form.fields}
    assert kinds == {
        "registration_no": "text", "answer": "textarea", "outcome": "radio", "pages": "integer",
        "fee": "number", "received_on": "date", "email": "email", "cnp": "text",
        "department": "select", "urgent": "checkbox", "consent": "checkbox",
        "channels": "checkboxes", "annex": "file", "photo": "file"}
    assert {f.name for f in form.fields if f.required} == {"answer", "outcome", "annex"}
    assert form.has_files


def test_titles_come_in_the_requested_language_with_romanian_fallback(form):
    answer, cnp = form.field("answer"), form.field("cnp")
    assert answer.title() == "Răspuns"
    assert answer.title("en") == "Answer"
    assert answer.help("en") == "Text of the answer to the petitioner."
    assert cnp.title("en") == "CNP"  # no translation: Romanian
    outcome = form.field("outcome")
    assert outcome.options("en") == [
        ("favorabil", "Favourable"), ("nefavorabil", "Unfavourable"), ("partial", "Parțial")]


def test_fields_missing_from_order_follow_in_schema_order():
    d = sample()
    d["ui"]["order"] = ["outcome", "answer"]
    names = [f.name for f in FormDefinition.from_dict(d, name="x.json").fields]
    assert names[:3] == ["outcome", "answer", "registration_no"]
    assert len(names) == 14


def _broken(change):
    d = sample()
    change(d)
    return d


def _set(path, value):
    def change(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _props(name, prop):
    return _set(["schema", "properties", name], prop)


BROKEN = [
    pytest.param(_set(["ui", "order"], ["answer", "nosuch"]), "nosuch", "ui.order", id="order-unknown"),
    pytest.param(_set(["ui", "order"], ["answer", "answer"]), "answer", "more than once", id="order-dup"),
    pytest.param(_props("pages", {"type": "integer", "title": "Pagini", "minimum": "unu"}),
                 "pages", "not valid JSON Schema 2020-12", id="invalid-schema"),
    pytest.param(_props("address", {"type": "object", "title": "Adresă", "properties": {}}),
                 "address", "nested objects", id="nested-object"),
    pytest.param(_props("site", {"type": "string", "title": "Site", "format": "uri"}),
                 "site", "format \"uri\"", id="unsupported-format"),
    pytest.param(_props("count", {"type": "integer", "title": "N", "enum": [1, 2]}),
                 "count", "only supported on string", id="integer-enum"),
    pytest.param(_props("tags", {"type": "array", "title": "Etichete", "items": {"type": "string"}}),
                 "tags", "items", id="free-array"),
    pytest.param(_props("pages", {"type": "integer"}), "pages", "title", id="no-title"),
    pytest.param(_props("zip", {"type": "object", "title": "Arhivă",
                                "x-file": {"accept": ["application/zip"]}}),
                 "zip", "application/zip", id="unsniffable-type"),
    pytest.param(_props("scan", {"type": "object", "title": "Scan", "x-file": {"max_bytes": 0}}),
                 "scan", "max_bytes", id="bad-max-bytes"),
    pytest.param(_props("scan", {"type": "string", "title": "Scan", "x-file": {}}),
                 "scan", "\"type\": \"object\"", id="file-not-object"),
    pytest.param(_set(["ui", "pages"], {"widget": "radio"}), "pages", "widget \"radio\"", id="widget"),
    pytest.param(_set(["ui", "answer"], {"widgte": "textarea"}), "answer", "widgte", id="ui-typo"),
    pytest.param(_set(["ui", "ghost"], {"help": "?"}), "ghost", "not defined", id="ui-unknown"),
    pytest.param(_set(["ui", "outcome"], {"enum_titles": {"aprobat": "Aprobat"}}),
                 "outcome", "'aprobat'", id="enum-title-unknown"),
    pytest.param(_set(["schema", "required"], ["answer", "semnatura"]), "semnatura", "required",
                 id="required-unknown"),
    pytest.param(_set(["i18n", "en", "ghost"], {"title": "Ghost"}), "ghost", "i18n.en", id="i18n-unknown"),
    pytest.param(_props("bad-name", {"type": "string", "title": "X"}), "bad-name", "letter", id="name"),
]


@pytest.mark.parametrize("change, field, words", BROKEN)
def test_bad_definitions_are_refused_naming_file_and_field(change, field, words):
    with pytest.raises(FormDefinitionError) as caught:
        FormDefinition.from_dict(_broken(change), name="processes/petition/forms/answer.json")
    message = str(caught.value)
    assert message.startswith("processes/petition/forms/answer.json: ")
    assert f"field '{field}'" in message
    assert words in message
    assert caught.value.field == field


@pytest.mark.parametrize("change, words", [
    (_set(["schema", "$schema"], "http://json-schema.org/draft-07/schema#"), "2020-12"),
    (_set(["schema", "type"], "array"), "\"type\": \"object\""),
    (_set(["schema", "properties"], {}), "no \"properties\""),
    (_set(["i18n", "ro"], {}), "Romanian"),
    (_set(["layout"], {}), "layout"),
])
def test_bad_form_level_definitions_are_refused(change, words):
    with pytest.raises(FormDefinitionError, match="^cerere.json: ") as caught:
        FormDefinition.from_dict(_broken(change), name="cerere.json")
    assert words in str(caught.value)


def test_load_reports_invalid_json_with_file_and_line(tmp_path):
    path = tmp_path / "stricat.json"
    path.write_text('{\n  "schema": {\n    "type": "object",,\n  }\n}', encoding="utf-8")
    with pytest.raises(FormDefinitionError) as caught:
        FormDefinition.load(path)
    assert str(path) in str(caught.value)
    assert "line 3" in str(caught.value)


def test_load_reports_missing_file(tmp_path):
    with pytest.raises(FormDefinitionError, match="lipsa.json"):
        FormDefinition.load(tmp_path / "lipsa.json")


def test_definition_is_not_modified_by_loading():
    d = sample()
    before = copy.deepcopy(d)
    FormDefinition.from_dict(d)
    assert d == before
