"""The urbanism certificate (Legea 50/1991) walked on the real engine.

At most 15 calendar days from registration, rolled over to the next working day; the
days the file waits for the applicant's missing documents do not count. The request
takes its number from the Urbanism series (URB-), not from the general register.
"""
import json
from datetime import date, timedelta

import holidays
import pytest
from sqlalchemy import select

from connectors.registry.models import RegisterEntry
from engine import runtime, timers
from engine.deployment import deploy_folder
from engine.models import AuditEvent, HumanTask
from engine.runtime import Actor

from procedure_testkit import (MAYOR, PROCESSES, REGISTRAR, assert_due, check_diagram,
                               clock_of, complete, entry_of, load_form, new_session,
                               open_tasks, refused, the_open_task)

PROCEDURE = PROCESSES / "urbanism-certificate"

CHIEF_ARCHITECT = Actor("sef.urbanism", frozenset({"sef-urbanism"}))
CLERK = Actor("radu", frozenset({"dept-urbanism"}))
PR_CLERK = Actor("ioana", frozenset({"dept-relatii-publice"}))
PDF = {"sha256": "0" * 64, "name": "cerere.pdf", "size": 1024, "content_type": "application/pdf"}

REQUEST = {
    "sender_name": "Vasile Moraru",
    "sender_address": "Str. Morii nr. 10, Comuna Exemplu",
    "land_address": "Str. Câmpului nr. 22, Comuna Exemplu",
    "cadastral_number": "50123",
    "land_book_number": "50123",
    "purpose": "construire",
    "purpose_details": "Locuință P+1E și împrejmuire.",
    "summary": "Certificat de urbanism pentru construirea unei locuințe P+1E.",
    "pages": 6,
    "channel": "ghiseu",
    "request_scan": PDF,
}
ASSIGNMENT = {"assignment_decision": "repartizat", "assigned_clerk": "radu"}
INCOMPLETE = {"documentation_check": "incompleta",
              "missing_documents": "Planul de situație la scara 1:500, vizat de OCPI."}
COMPLETE = {"documentation_check": "completa"}
COMPLETION = {"completion_received_on": "2026-03-11", "completion_pages": 2,
              "completion_file": PDF}
CERTIFICATE = {
    "certificate_number": "45", "validity_months": 12,
    "regime_juridic": "Imobil situat în intravilan, proprietate privată a solicitantului.",
    "regime_economic": "Folosință actuală: teren arabil; permisă: locuințe.",
    "regime_tehnic": "POT maxim 35%, CUT maxim 0,9, regim de înălțime P+1E.",
    "outcome": "emis",
}
ENDORSED = {"endorsement": "avizat"}
RETURNED = {"endorsement": "returnat", "endorsement_notes": "Completați regimul tehnic."}
SIGNED = {"signature": "semnat"}
NOT_SIGNED = {"signature": "returnat", "signature_notes": "Corectați valabilitatea."}
DISPATCH = {"dispatch_channel": "ghiseu", "dispatch_date": "2026-03-16"}
ARCHIVE = {"file_code": "URB-1"}


@pytest.fixture
def session():
    db, s = new_session()
    deploy_folder(s, PROCEDURE)
    deploy_folder(s, PROCESSES / "petition")
    s.commit()
    yield s
    s.close()
    db.dispose()


def register(session, on: date, **changes):
    instance = runtime.start_instance(session, "urbanism-certificate", {**REQUEST, **changes},
                                      REGISTRAR, today=on)
    session.commit()
    return instance





def reminder_days(session, instance) -> list:
    return [t.due_at for t in timers.pending(session, instance.id) if t.kind == "reminder"]


def test_urbanism_numbers_come_from_its_own_series(session):
    on = date(2026, 3, 2)
    certificate = register(session, on)
    petition = runtime.start_instance(session, "petition", {
        "sender_name": "Maria Popescu", "department": "relatii-publice",
        "summary": "Solicită repararea iluminatului public."}, REGISTRAR, today=on)
    second = register(session, on, sender_name="Elena Dobre")
    session.commit()
    assert entry_of(session, certificate).label == "URB-1/02.03.2026"
    assert entry_of(session, certificate).register.code == "urbanism"
    assert session.get(RegisterEntry, petition.document_id).label == "1/02.03.2026"
    assert entry_of(session, second).label == "URB-2/02.03.2026"

    entry = entry_of(session, certificate)
    assert entry.document_type == "certificat-urbanism"
    assert (entry.department, entry.file_code, entry.pages) == ("urbanism", "URB-1", 6)
    task = the_open_task(session, certificate, "Repartizare")
    assert task.group_codes == ["sef-urbanism"]      # the chief architect assigns it
    data = runtime.instance_data(session, certificate)
    assert data["request_scan"]["name"] == "cerere.pdf"
    assert data["cadastral_number"] == "50123"


@pytest.mark.parametrize("registered, due", [
    # 15 days end on Friday 1 May 2026, Labour Day -> Monday 4 May.
    (date(2026, 4, 16), date(2026, 5, 4)),
    # End on Saturday 30 May 2026; Sunday 31 May and Monday 1 June are Pentecost
    # (1 June is also Children's Day) -> Tuesday 2 June.
    (date(2026, 5, 15), date(2026, 6, 2)),
    # End on Good Friday 30 April 2027; 1 May is a Saturday, then Orthodox Easter
    # Sunday and Monday (2-3 May 2027) -> Tuesday 4 May.
    (date(2027, 4, 15), date(2027, 5, 4)),
    # End on Tuesday 1 June 2027, Children's Day (Pentecost is on 20-21 June) -> 2 June.
    (date(2027, 5, 17), date(2027, 6, 2)),
], ids=["labour-day", "pentecost-2026", "easter-2027", "childrens-day-2027"])
def test_fifteen_days_roll_over_holidays(session, registered, due):
    ro = holidays.country_holidays("RO", years=registered.year)
    fifteenth = registered + timedelta(days=15)
    assert fifteenth in ro or fifteenth.weekday() >= 5
    assert all(d in ro or d.weekday() >= 5
               for d in (fifteenth + timedelta(days=n) for n in range((due - fifteenth).days)))
    instance = register(session, registered)
    assert_due(session, instance, due)
    # Reminders 5 days and 1 day before, escalation the morning after.
    assert reminder_days(session, instance) == [timers.local_moment(due - timedelta(days=5)),
                                                timers.local_moment(due - timedelta(days=1))]
    assert [t.due_at for t in timers.pending(session, instance.id) if t.kind == "escalation"
            ] == [timers.local_moment(due + timedelta(days=1))]


def test_waiting_for_missing_documents_moves_the_term_by_the_days_waited(session):
    instance = register(session, date(2026, 3, 2))      # Monday; due Tuesday 17 March
    assert_due(session, instance, date(2026, 3, 17))
    complete(session, the_open_task(session, instance, "Repartizare"), CHIEF_ARCHITECT,
             ASSIGNMENT, date(2026, 3, 3))

    task = the_open_task(session, instance, "Verificarea documentației")
    assert task.assignee == "radu" and task.form_name == "verification"
    complete(session, task, CLERK, INCOMPLETE, date(2026, 3, 4))
    clock = clock_of(session, instance)
    assert (clock.status, clock.paused_since) == ("paused", date(2026, 3, 4))
    assert reminder_days(session, instance) == []           # nobody is chased meanwhile
    task = the_open_task(session, instance, "Primirea completărilor")
    assert task.group_codes == ["registratura"] and task.assignee is None
    assert_due(session, instance, date(2026, 3, 17))
    event = session.execute(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "deadline.paused")
    ).scalar_one()
    assert event.summary == INCOMPLETE["missing_documents"]

    # The documents arrive a week later: 7 more days, due Tuesday 24 March.
    refused(session, task, CLERK, COMPLETION, date(2026, 3, 11))
    complete(session, task, REGISTRAR, COMPLETION, date(2026, 3, 11))
    clock = clock_of(session, instance)
    assert (clock.status, clock.paused_days) == ("running", 7)
    task = the_open_task(session, instance, "Verificarea documentației")
    assert task.assignee == "radu"
    assert_due(session, instance, date(2026, 3, 24))

    # Still incomplete; 4 more days waited: Saturday 28 March rolls to Monday 30 March.
    complete(session, task, CLERK, INCOMPLETE, date(2026, 3, 12))
    complete(session, the_open_task(session, instance, "Primirea completărilor"), REGISTRAR,
             dict(COMPLETION, completion_received_on="2026-03-16"), date(2026, 3, 16))
    assert clock_of(session, instance).paused_days == 11
    assert_due(session, instance, date(2026, 3, 30))
    assert reminder_days(session, instance) == [timers.local_moment(date(2026, 3, 25)),
                                                timers.local_moment(date(2026, 3, 29))]
    complete(session, the_open_task(session, instance, "Verificarea documentației"), CLERK,
             COMPLETE, date(2026, 3, 17))
    assert the_open_task(session, instance, "Redactare certificat").due_on == date(2026, 3, 30)


def test_full_circuit_with_returns_from_endorsement_and_signature(session):
    on = date(2026, 3, 2)
    instance = register(session, on)
    entry = entry_of(session, instance)
    task = the_open_task(session, instance, "Repartizare")
    refused(session, task, CLERK, ASSIGNMENT, on)
    complete(session, task, CHIEF_ARCHITECT, ASSIGNMENT, on)
    task = the_open_task(session, instance, "Verificarea documentației")
    refused(session, task, PR_CLERK, COMPLETE, on)
    complete(session, task, CLERK, COMPLETE, on)

    drafted = []
    for round_ in range(3):
        task = the_open_task(session, instance, "Redactare certificat")
        assert task.assignee == "radu" and task.form_name == "certificate"
        complete(session, task, CLERK, dict(CERTIFICATE, validity_months=12 + round_), on)
        drafted.append(task.id)
        task = the_open_task(session, instance, "Avizare")
        assert task.group_codes == ["sef-urbanism"]
        refused(session, task, CLERK, ENDORSED, on)
        if round_ == 0:
            complete(session, task, CHIEF_ARCHITECT, RETURNED, on)
            continue
        complete(session, task, CHIEF_ARCHITECT, ENDORSED, on)
        task = the_open_task(session, instance, "Semnare")
        if round_ == 1:
            complete(session, task, MAYOR, NOT_SIGNED, on)
            continue
        complete(session, task, MAYOR, SIGNED, on)
    assert len(set(drafted)) == 3

    complete(session, the_open_task(session, instance, "Expediere"), REGISTRAR, DISPATCH,
             date(2026, 3, 16))
    session.refresh(entry)
    assert (entry.dispatched_on, entry.dispatch_channel, entry.outcome) == (
        date(2026, 3, 16), "ghiseu", "emis")
    clock = clock_of(session, instance)
    assert (clock.status, clock.stopped_on) == ("stopped", date(2026, 3, 16))
    event = session.execute(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "deadline.stopped")
    ).scalar_one()
    assert json.loads(event.after_json)["in_time"] is True     # due 17 March

    task = the_open_task(session, instance, "Arhivare")
    assert task.assignee == "radu"
    complete(session, task, CLERK, ARCHIVE, date(2026, 3, 23))
    session.refresh(entry)
    assert (entry.file_code, entry.archived_on) == ("URB-1", date(2026, 3, 23))
    session.refresh(instance)
    assert instance.status == "completed" and open_tasks(session, instance) == []
    data = runtime.instance_data(session, instance)
    assert data["validity_months"] == 14 and data["certificate_number"] == "45"
    steps = session.execute(select(HumanTask.title).where(
        HumanTask.instance_id == instance.id).order_by(HumanTask.id)).scalars().all()
    assert steps == ["Repartizare", "Verificarea documentației",
                     "Redactare certificat", "Avizare",
                     "Redactare certificat", "Avizare", "Semnare",
                     "Redactare certificat", "Avizare", "Semnare", "Expediere", "Arhivare"]


# --- drawing and forms ---------------------------------------------------------------

def test_diagram_has_a_shape_for_every_element():
    check_diagram(PROCEDURE / "urbanism-certificate.bpmn")


def test_forms_accept_what_the_steps_submit():
    forms = PROCEDURE / "forms"
    circuit = PROCESSES / "circuit" / "forms"
    cases = [(forms / "registration.json", REQUEST), (forms / "verification.json", INCOMPLETE),
             (forms / "verification.json", COMPLETE), (forms / "completion.json", COMPLETION),
             (forms / "certificate.json", CERTIFICATE), (circuit / "endorsement.json", RETURNED),
             (circuit / "signature.json", NOT_SIGNED), (circuit / "dispatch.json", DISPATCH)]
    for path, data in cases:
        assert load_form(path).validate(data) == {}, (path.name, data)
    assignment = load_form(circuit / "assignment.json",
                           {"assigned_clerk": ["radu"], "new_department": ["urbanism"]})
    assert assignment.validate(ASSIGNMENT) == {}
    archiving = load_form(circuit / "archiving.json", {"file_code": ["URB-1", "URB-2"]})
    assert archiving.validate(ARCHIVE) == {}


def test_conditional_fields_report_on_their_own_field():
    registration = load_form(PROCEDURE / "forms" / "registration.json")
    errors = registration.validate({k: v for k, v in REQUEST.items() if k != "purpose_details"}
                                   | {"purpose": "alte-scopuri"})
    assert list(errors) == ["purpose_details"]
    assert "«Detalii despre scop» este obligatoriu" in errors["purpose_details"]
    assert registration.validate({k: v for k, v in REQUEST.items() if k != "purpose_details"}) == {}

    verification = load_form(PROCEDURE / "forms" / "verification.json")
    errors = verification.validate({"documentation_check": "incompleta"})
    assert list(errors) == ["missing_documents"]
    assert list(verification.validate({})) == ["documentation_check"]

    certificate = load_form(PROCEDURE / "forms" / "certificate.json")
    assert list(certificate.validate(dict(CERTIFICATE, validity_months=36))) == ["validity_months"]
    assert list(certificate.validate(dict(CERTIFICATE, outcome="respins"))) == ["outcome"]


def test_only_pdf_documents_are_accepted_with_the_application():
    registration = load_form(PROCEDURE / "forms" / "registration.json")
    files = [f for f in registration.fields if f.kind == "file"]
    assert [f.name for f in files] == ["request_scan", "site_plans", "land_book_extract",
                                       "fee_receipt"]
    assert {tuple(f.accept) for f in files} == {("application/pdf",)}


@pytest.mark.parametrize("waited", [0, 4], ids=["same-day", "four-days"])
def test_completions_received_when_a_reminder_moves_onto_a_cancelled_one(session, waited):
    # Wednesday 4 March: due Thursday 19 March, reminders on 14 and 18 March. Completions
    # the same day leave the term as it was; four days later its 5-day reminder lands on
    # the old 1-day reminder (18 March).
    instance = register(session, date(2026, 3, 4))
    complete(session, the_open_task(session, instance, "Repartizare"), CHIEF_ARCHITECT,
             ASSIGNMENT, date(2026, 3, 4))
    complete(session, the_open_task(session, instance, "Verificarea documentației"), CLERK,
             INCOMPLETE, date(2026, 3, 4))
    complete(session, the_open_task(session, instance, "Primirea completărilor"), REGISTRAR,
             COMPLETION, date(2026, 3, 4) + timedelta(days=waited))
    assert_due(session, instance, date(2026, 3, 19) + timedelta(days=waited))
