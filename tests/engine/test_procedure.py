"""Deploying procedure folders: bad input is refused with a message naming the
file or element, and XML is parsed without entities."""
import json
import shutil
from pathlib import Path

import pytest

from engine.errors import ProcedureError
from engine.procedure import load_package

LOOP = Path(__file__).parent / "procedures" / "loop"


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "loop"
    shutil.copytree(LOOP, target)
    return target


def edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_good_folder_has_a_stable_version_hash(folder):
    assert load_package(folder).version_hash == load_package(LOOP).version_hash
    edit(folder / "loop.bpmn", 'name="Revizuire"', 'name="Revizuire 2"')
    assert load_package(folder).version_hash != load_package(LOOP).version_hash


def test_entities_are_refused_before_parsing(folder):
    (folder / "loop.bpmn").write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;'
        '</bpmn:definitions>')
    with pytest.raises(ProcedureError, match="DOCTYPE") as err:
        load_package(folder)
    assert "loop.bpmn" in str(err.value)


def test_billion_laughs_is_refused(folder):
    laughs = "".join(f'<!ENTITY l{i} "&l{i-1};&l{i-1};">' for i in range(1, 10))
    (folder / "loop.bpmn").write_text(f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "ha">'
                                      f'{laughs}]><d>&l9;</d>')
    with pytest.raises(ProcedureError, match="DOCTYPE"):
        load_package(folder)


def test_malformed_xml_names_the_file(folder):
    edit(folder / "loop.bpmn", "</bpmn:process>", "")
    with pytest.raises(ProcedureError, match="XML invalid") as err:
        load_package(folder)
    assert "loop.bpmn" in str(err.value)


def test_a_missing_form_names_the_task(folder):
    edit(folder / "loop.bpmn", '<spiffworkflow:property name="candidateGroups" value="reviewers" />',
         '<spiffworkflow:property name="candidateGroups" value="reviewers" />'
         '<spiffworkflow:property name="form" value="lipsa" />')
    with pytest.raises(ProcedureError, match="«lipsa»") as err:
        load_package(folder)
    assert "Revizuire (review)" in str(err.value)


def test_a_bad_form_names_the_form_file(folder):
    (folder / "forms").mkdir(exist_ok=True)
    (folder / "forms" / "review.json").write_text(json.dumps(
        {"schema": {"type": "object", "properties": {"x": {"type": "string"}}}}))
    with pytest.raises(ProcedureError) as err:
        load_package(folder)
    assert "forms/review.json" in str(err.value)


def test_unknown_keys_in_procedure_json_are_named(folder):
    meta = json.loads((folder / "procedure.json").read_text())
    (folder / "procedure.json").write_text(json.dumps({**meta, "titel": "x"}))
    with pytest.raises(ProcedureError, match="titel"):
        load_package(folder)


def test_a_process_id_not_in_the_diagram_is_refused(folder):
    meta = json.loads((folder / "procedure.json").read_text())
    (folder / "procedure.json").write_text(json.dumps({**meta, "process_id": "nu_exista"}))
    with pytest.raises(ProcedureError):
        load_package(folder)


def test_a_bad_sla_profile_is_refused_at_deploy(folder):
    (folder / "sla.json").write_text('{"term": 30, "unit": "zile"}')
    with pytest.raises(ProcedureError) as err:
        load_package(folder)
    assert "sla.json" in str(err.value) and "unit" in str(err.value)
