"""The petition procedure (OG 27/2002) walked end to end on the real engine.

A registrar registers a petition, the head of the department assigns it to a
clerk, the clerk drafts the answer, the head returns it once, the mayor returns
it once, the registry office sends it and the clerk files it in the nomenclator.
The steps other than drafting are the circuit's reusable diagrams (call activities). At each step we look at what
the people involved would see: their inbox rows, the register, the due date.
"""
import json
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
from engine.deployment import deploy_folder
from engine.errors import NotPermitted, TaskNotAvailable
from engine.models import HumanTask
from engine.runtime import Actor
from procedure_testkit import check_diagram

PROCEDURE = Path(__file__).resolve().parents[2] / "processes" / "petition"

REGISTERED_ON = date(2026, 3, 2)
DUE_ON = date(2026, 4, 1)          # 30 calendar days after 2 March, a Wednesday

REGISTRAR = Actor("registrar", frozenset({"registratura"}))
HEAD = Actor("sef.rp", frozenset({"sef-relatii-publice"}))
OTHER_HEAD = Actor("sef.urb", frozenset({"sef-urbanism"}))
CLERK = Actor("ion", frozenset({"dept-relatii-publice"}))
OTHER_CLERK = Actor("vasile", frozenset({"dept-relatii-publice"}))
MAYOR = Actor("primar", frozenset({"primar"}))
REGISTRY_OFFICE = Actor("reg", frozenset({"registratura"}))

REGISTRATION = {
    "sender_name": "Maria Popescu",
    "sender_address": "Str. Florilor nr. 7, Comuna Exemplu",
    "sender_email": "maria.popescu@example.ro",
    "sender_reference": "12",
    "sender_date": "2026-02-27",
    "pages": 2,
    "annexes": "2 fotografii",
    "summary": "Solicită repararea iluminatului public pe strada Florilor.",
    "department": "relatii-publice",
}
ARCHIVING = {"file_code": "RP-1"}
ASSIGNMENT = {"assignment_decision": "repartizat", "assigned_clerk": "ion", "instructions": "Verificați cu serviciul tehnic."}
ANSWERS = [
    {"answer": "Vom analiza solicitarea dumneavoastră.", "outcome": "partial"},
    {"answer": "Iluminatul va fi reparat până la 20 martie 2026.", "outcome": "favorabil"},
    {"answer": "Iluminatul public de pe strada Florilor va fi reparat până la 20 martie 2026.",
     "outcome": "favorabil"},
]
ENDORSEMENT_RETURNED = {"endorsement": "returnat",
                        "endorsement_notes": "Precizați termenul de remediere."}
ENDORSEMENT_OK = {"endorsement": "avizat", "endorsement_notes": ""}
SIGNATURE_RETURNED = {"signature": "returnat", "signature_notes": "Numiți strada în răspuns."}
SIGNATURE_OK = {"signature": "semnat", "signature_notes": ""}
DISPATCH = {"dispatch_channel": "email", "dispatch_date": "2026-03-16",
            "dispatch_reference": "msg-2026-03-16-001"}


@pytest.fixture
def session():
    db = create_engine("sqlite://")
    Base.metadata.create_all(db)
    with Session(db) as s:
        s.add(Register(code="general", name="Registrul general", prefix=""))
        s.add(NomenclatorFile(code="RP-1", department="relatii-publice", title="Petiții",
                              retention_years=5))
        s.commit()
        yield s
    db.dispose()


@pytest.fixture
def instance(session):
    deploy_folder(session, PROCEDURE)
    session.commit()
    started = runtime.start_instance(session, "petition", dict(REGISTRATION), REGISTRAR,
                                     today=REGISTERED_ON)
    session.commit()
    return started


def open_tasks(session, instance) -> list[HumanTask]:
    return session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")
        .order_by(HumanTask.id)).scalars().all()


def the_open_task(session, instance, title: str) -> HumanTask:
    tasks = open_tasks(session, instance)
    assert [t.title for t in tasks] == [title]
    return tasks[0]


def complete(session, task: HumanTask, actor: Actor, data: dict) -> None:
    runtime.complete_task(session, task.id, actor, dict(data), today=REGISTERED_ON)
    session.commit()


def refused(session, task: HumanTask, actor: Actor, data: dict) -> None:
    with pytest.raises((NotPermitted, TaskNotAvailable)):
        runtime.complete_task(session, task.id, actor, dict(data), today=REGISTERED_ON)
    session.rollback()


def test_registration_numbers_the_petition_and_sets_the_legal_term(session, instance):
    entry = session.execute(select(RegisterEntry)).scalar_one()
    assert (entry.number, entry.year, entry.registered_on) == (1, 2026, REGISTERED_ON)
    assert entry.label == "1/02.03.2026"
    assert entry.document_type == "petitie"
    assert entry.registered_by == "registrar"
    assert entry.sender_name == "Maria Popescu"
    assert entry.sender_email == "maria.popescu@example.ro"
    assert entry.sender_reference == "12"
    assert entry.sender_date == date(2026, 2, 27)
    assert entry.pages == 2
    assert entry.summary == REGISTRATION["summary"]
    assert entry.department == "relatii-publice"

    assert instance.status == "running"
    assert instance.document_id == entry.id
    assert instance.due_on == DUE_ON
    # The registration step is done; the assignment step waits inside its call activity.
    assert runtime.current_elements(session, instance) == ["assign", "assignment"]


def test_full_circuit_with_returns_from_endorsement_and_signature(session, instance):
    entry = session.execute(select(RegisterEntry)).scalar_one()

    # The head of the department chosen at registration assigns a clerk.
    task = the_open_task(session, instance, "Repartizare")
    assert task.group_codes == ["sef-relatii-publice"]
    assert task.form_name == "circuit/assignment"
    assert task.assignee is None
    assert task.department == "relatii-publice"
    refused(session, task, CLERK, ASSIGNMENT)
    refused(session, task, OTHER_HEAD, ASSIGNMENT)
    complete(session, task, HEAD, ASSIGNMENT)

    # Only the chosen clerk drafts; another clerk of the same department cannot.
    drafted = []
    for round_, answer in enumerate(ANSWERS):
        task = the_open_task(session, instance, "Redactare răspuns")
        assert task.group_codes == ["dept-relatii-publice"]
        assert task.assignee == "ion"
        assert task.form_name == "answer"
        refused(session, task, OTHER_CLERK, answer)
        refused(session, task, HEAD, answer)
        complete(session, task, CLERK, answer)
        drafted.append(task.id)

        task = the_open_task(session, instance, "Avizare")
        assert task.group_codes == ["sef-relatii-publice"]
        assert task.assignee is None
        assert task.form_name == "circuit/endorsement"
        refused(session, task, CLERK, ENDORSEMENT_OK)
        if round_ == 0:
            complete(session, task, HEAD, ENDORSEMENT_RETURNED)   # back to the clerk
            continue
        complete(session, task, HEAD, ENDORSEMENT_OK)

        task = the_open_task(session, instance, "Semnare")
        assert task.group_codes == ["primar", "semnatar-delegat", "viceprimar"]
        assert task.form_name == "circuit/signature"
        refused(session, task, HEAD, SIGNATURE_OK)
        if round_ == 1:
            complete(session, task, MAYOR, SIGNATURE_RETURNED)    # back to the clerk
            continue
        complete(session, task, MAYOR, SIGNATURE_OK)
    assert len(set(drafted)) == 3          # each return opens a fresh task for the clerk

    task = the_open_task(session, instance, "Expediere")
    assert task.group_codes == ["registratura"]
    assert task.form_name == "circuit/dispatch"
    refused(session, task, CLERK, DISPATCH)
    complete(session, task, REGISTRY_OFFICE, DISPATCH)
    session.refresh(entry)
    assert (entry.dispatched_on, entry.dispatch_channel) == (date(2026, 3, 16), "email")
    assert entry.outcome == "favorabil"      # the answer's outcome, in the register

    # The clerk who handled it files it in the department's nomenclator.
    task = the_open_task(session, instance, "Arhivare")
    assert task.assignee == "ion"
    refused(session, task, OTHER_CLERK, ARCHIVING)
    complete(session, task, CLERK, ARCHIVING)
    session.refresh(entry)
    assert (entry.file_code, entry.archived_on) == ("RP-1", REGISTERED_ON)

    session.refresh(instance)
    assert instance.status == "completed"
    assert instance.completed_at is not None
    assert open_tasks(session, instance) == []
    assert runtime.current_elements(session, instance) == []

    rows = session.execute(select(HumanTask).where(HumanTask.instance_id == instance.id)
                           .order_by(HumanTask.id)).scalars().all()
    assert [(r.title, r.completed_by) for r in rows] == [
        ("Repartizare", "sef.rp"),
        ("Redactare răspuns", "ion"), ("Avizare", "sef.rp"),
        ("Redactare răspuns", "ion"), ("Avizare", "sef.rp"), ("Semnare", "primar"),
        ("Redactare răspuns", "ion"), ("Avizare", "sef.rp"), ("Semnare", "primar"),
        ("Expediere", "reg"), ("Arhivare", "ion"),
    ]
    assert {r.status for r in rows} == {"completed"}
    assert {r.due_on for r in rows} == {DUE_ON}
    assert {r.document_id for r in rows} == {entry.id}

    data = runtime.instance_data(session, instance)
    assert data["registration"]["number"] == 1
    assert data["registration"]["label"] == "1/02.03.2026"
    assert data["answer"] == ANSWERS[-1]["answer"]
    assert data["signature"] == "semnat"
    assert data["dispatch_channel"] == "email"
    assert data["signer"] == {"signed_by": "primar", "signed_as": "primar",
                              "signed_on": "2026-03-02"}
    assert entry.assigned_to == "ion"


def test_a_petition_for_another_department_goes_to_that_department(session):
    deploy_folder(session, PROCEDURE)
    started = runtime.start_instance(session, "petition",
                                     dict(REGISTRATION, department="urbanism"), REGISTRAR,
                                     today=REGISTERED_ON)
    session.commit()
    task = the_open_task(session, started, "Repartizare")
    assert task.group_codes == ["sef-urbanism"]
    refused(session, task, HEAD, ASSIGNMENT)
    complete(session, task, OTHER_HEAD, {"assignment_decision": "repartizat",
                                         "assigned_clerk": "elena"})
    task = the_open_task(session, started, "Redactare răspuns")
    assert task.group_codes == ["dept-urbanism"]
    assert task.assignee == "elena"


# --- the diagram the web app shows ------------------------------------------------

DIAGRAMS = [PROCEDURE / "petition.bpmn", *sorted((PROCEDURE.parent / "circuit").glob("*.bpmn"))]


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_diagram_has_a_shape_or_edge_for_every_element(path):
    check_diagram(path)


def test_forms_accept_what_the_circuit_submits():
    forms = pytest.importorskip("forms.definition")
    circuit = PROCEDURE.parent / "circuit" / "forms"
    submitted = {"registration": REGISTRATION, "assignment": ASSIGNMENT, "answer": ANSWERS[0],
                 "endorsement": ENDORSEMENT_RETURNED, "signature": SIGNATURE_RETURNED,
                 "dispatch": DISPATCH}
    for name, data in submitted.items():
        folder = PROCEDURE / "forms" if name in ("registration", "answer") else circuit
        definition = json.loads((folder / f"{name}.json").read_text("utf-8"))
        for field, hints in definition["ui"].items():
            if isinstance(hints, dict) and hints.get("options_from") == "departments":
                hints.pop("options_from")
                definition["schema"]["properties"][field]["enum"] = ["relatii-publice", "urbanism"]
        if name == "assignment":
            # The web app offers the department's clerks as the choices.
            source = definition["ui"]["assigned_clerk"].pop("options_from")
            assert source == "group:dept-{department}"
            definition["schema"]["properties"]["assigned_clerk"]["enum"] = ["ion", "vasile"]
        form = forms.FormDefinition.from_dict(definition, name=name)
        filled = {k: v for k, v in data.items() if v != ""}
        assert form.validate(filled) == {}, name
