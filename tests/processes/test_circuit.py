"""The circuit's reusable steps, as every procedure gets them: sending a document on to
another department, who may sign on a given day, and what a library change does to
procedure versions."""
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import connectors.registry.models  # noqa: F401  (tables on the shared metadata)
import engine.models  # noqa: F401
from connectors.db import Base
from connectors.registry.models import NomenclatorFile, Register, RegisterEntry
from engine import runtime
from engine.deployment import deploy_folder, latest_definition
from engine.errors import EngineError, NotPermitted
from engine.models import AuditEvent, HumanTask
from engine.models_org import SigningDelegation
from engine.procedure import read_folder
from engine.runtime import Actor

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
TODAY = date(2026, 3, 2)
REGISTRAR = Actor("registratura", frozenset({"registratura"}))
HEAD_RP = Actor("sef.rp", frozenset({"sef-relatii-publice"}))
HEAD_URB = Actor("sef.urb", frozenset({"sef-urbanism"}))


@pytest.fixture
def session():
    db = create_engine("sqlite://")
    Base.metadata.create_all(db)
    with Session(db) as s:
        s.add_all([Register(code="general", name="Registrul general", prefix=""),
                   Register(code="urbanism", name="Urbanism", prefix="URB-", kind="department",
                            department="urbanism"),
                   NomenclatorFile(code="RP-1", department="relatii-publice", title="Petiții",
                                   retention_years=5)])
        deploy_folder(s, PROCESSES / "petition")
        s.commit()
        yield s
    db.dispose()


def start(session, **data):
    instance = runtime.start_instance(session, "petition", {
        "sender_name": "Ana Pop", "summary": "Autorizație pentru gard", **data}, REGISTRAR,
        today=TODAY)
    session.commit()
    return instance


def open_task(session, instance) -> HumanTask:
    return session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalar_one()


def complete(session, instance, actor, data, today=TODAY):
    runtime.complete_task(session, open_task(session, instance).id, actor, data, today=today)
    session.commit()


def test_a_head_sends_the_document_to_the_competent_department_with_a_reason(session):
    instance = start(session, department="relatii-publice")
    complete(session, instance, HEAD_RP, {
        "assignment_decision": "redirectionat", "new_department": "urbanism",
        "redirect_reason": "Este o cerere de autorizare a unei construcții."})
    task = open_task(session, instance)
    assert (task.title, task.group_codes) == ("Repartizare", ["sef-urbanism"])
    assert task.department == "urbanism"
    entry = session.get(RegisterEntry, instance.document_id)
    assert entry.department == "urbanism"       # the register follows the document
    with pytest.raises(NotPermitted):
        runtime.complete_task(session, task.id, HEAD_RP, {"assignment_decision": "repartizat",
                                                          "assigned_clerk": "ion"})
    session.rollback()
    complete(session, instance, HEAD_URB, {"assignment_decision": "repartizat",
                                           "assigned_clerk": "radu"})
    task = open_task(session, instance)
    assert (task.title, task.assignee, task.group_codes) == (
        "Redactare răspuns", "radu", ["dept-urbanism"])
    assert session.get(RegisterEntry, instance.document_id).assigned_to == "radu"
    reasons = session.execute(select(AuditEvent.after_json).where(
        AuditEvent.action == "task.completed")).scalars().all()
    assert any("Este o cerere de autorizare" in r for r in reasons)


def test_a_department_with_its_own_series_numbers_in_it(session):
    petition = start(session, department="relatii-publice")
    urban = start(session, department="urbanism")
    assert session.get(RegisterEntry, petition.document_id).label == "1/02.03.2026"
    assert session.get(RegisterEntry, urban.document_id).label == "URB-1/02.03.2026"


def _to_signing(session, instance):
    complete(session, instance, HEAD_RP, {"assignment_decision": "repartizat",
                                          "assigned_clerk": "ion"})
    complete(session, instance, Actor("ion", frozenset({"dept-relatii-publice"})),
             {"answer": "Răspunsul complet al primăriei.", "outcome": "favorabil"})
    complete(session, instance, HEAD_RP, {"endorsement": "avizat"})
    assert open_task(session, instance).title == "Semnare"


def test_only_a_delegation_valid_on_the_day_lets_someone_else_sign(session):
    instance = start(session, department="relatii-publice")
    _to_signing(session, instance)
    session.add(SigningDelegation(holder="secretar", act_reference="Dispoziția nr. 7/2026",
                                  starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 15)))
    session.commit()
    # The web layer gives the group only while the delegation is valid; the engine
    # checks the date again, so a stale group cannot sign.
    stale = Actor("secretar", frozenset({"secretar", "semnatar-delegat"}))
    with pytest.raises(NotPermitted, match="delegare valabilă"):
        runtime.complete_task(session, open_task(session, instance).id, stale,
                              {"signature": "semnat"}, today=date(2026, 3, 16))
    session.rollback()
    assert open_task(session, instance).title == "Semnare"     # nothing half-done
    complete(session, instance, stale, {"signature": "semnat"}, today=date(2026, 3, 10))
    data = runtime.instance_data(session, instance)
    assert data["signer"] == {"signed_by": "secretar",
                              "signed_as": "prin delegare (Dispoziția nr. 7/2026)",
                              "signed_on": "2026-03-10"}


def test_a_vice_mayor_signs_in_their_own_right(session):
    instance = start(session, department="relatii-publice")
    _to_signing(session, instance)
    complete(session, instance, Actor("viceprimar", frozenset({"viceprimar"})),
             {"signature": "semnat"})
    assert runtime.instance_data(session, instance)["signer"]["signed_as"] == "viceprimar"


def test_a_change_to_the_circuit_is_a_new_version_of_the_procedures_using_it(session, tmp_path):
    shutil.copytree(PROCESSES / "petition", tmp_path / "petition")
    shutil.copytree(PROCESSES / "circuit", tmp_path / "circuit")
    same, created = deploy_folder(session, tmp_path / "petition")
    assert not created       # the same files as the shipped procedure and library
    running = start(session, department="relatii-publice")
    path = tmp_path / "circuit" / "endorsement.bpmn"
    path.write_text(path.read_text("utf-8").replace('name="Avizare"', 'name="Avizare șef"'),
                    encoding="utf-8")
    assert "circuit/endorsement.bpmn" in read_folder(tmp_path / "petition")
    changed, created = deploy_folder(session, tmp_path / "petition")
    assert created and changed.version_hash != same.version_hash
    assert latest_definition(session, "petition").id == changed.id
    assert running.definition_id == same.id      # a running instance keeps its steps


def test_a_procedure_naming_a_missing_library_is_refused(tmp_path):
    shutil.copytree(PROCESSES / "petition", tmp_path / "petition")
    with pytest.raises(EngineError, match="biblioteca «circuit» nu există"):
        read_folder(tmp_path / "petition")


def test_a_substitute_of_the_mayor_does_not_sign_as_mayor(session):
    instance = start(session, department="relatii-publice")
    _to_signing(session, instance)
    # On the mayor's leave the vice-mayor's office stands in, lending the group «primar»;
    # someone else given that group only as a substitute may not sign.
    lent = Actor("sef.rp", frozenset({"sef-relatii-publice", "primar"}),
                 own_groups=frozenset({"sef-relatii-publice"}))
    with pytest.raises(NotPermitted, match="nu poate semna"):
        runtime.complete_task(session, open_task(session, instance).id, lent,
                              {"signature": "semnat"}, today=TODAY)
    session.rollback()
    assert open_task(session, instance).title == "Semnare"
