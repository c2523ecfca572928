"""The operating permit (acord de funcționare) walked on the real engine.

30 calendar days from registration, rolled over to the next working day. Where the
town hall does not answer in time, the permit is deemed granted (OUG 27/2003): the
clerk's analysis is cut short and the Registratura issues the permit.
"""
import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from connectors.registry.models import NomenclatorFile, RegisterEntry
from engine import runtime, timers
from engine.deployment import deploy_folder
from engine.models import AuditEvent, HumanTask
from engine.runtime import Actor
from engine.wakeup import fire_due_timers

from procedure_testkit import (MAYOR, PROCESSES, REGISTRAR, assert_due, check_diagram,
                               clock_of, complete, entry_of, load_form, new_session,
                               open_tasks, refused, the_open_task)

PROCEDURE = PROCESSES / "operating-permit"

HEAD = Actor("sef.comert", frozenset({"sef-comert"}))
CLERK = Actor("bogdan", frozenset({"dept-comert"}))
URBANISM_CLERK = Actor("radu", frozenset({"dept-urbanism"}))
PDF = {"sha256": "0" * 64, "name": "cerere.pdf", "size": 1024, "content_type": "application/pdf"}

REQUEST = {
    "sender_name": "SC Exemplu Market SRL",
    "company_cui": "RO12345678",
    "sender_address": "Str. Gării nr. 3, Comuna Exemplu",
    "representative_name": "Cornel Ilie",
    "representative_capacity": "administrator",
    "activity_address": "Str. Principală nr. 41, Comuna Exemplu",
    "caen_codes": "4711, 5610",
    "opening_hours": "Luni–Sâmbătă 07:00–22:00",
    "summary": "Acord de funcționare pentru un magazin alimentar.",
    "pages": 5,
    "channel": "ghiseu",
    "request_scan": PDF,
}
ASSIGNMENT = {"assignment_decision": "repartizat", "assigned_clerk": "bogdan"}
ADMITTED = {"analysis_decision": "admis"}
PERMIT = {"outcome": "aprobat", "permit_number": "12",
          "permit_text": "Se acordă funcționarea magazinului alimentar, Luni–Sâmbătă 07:00–22:00."}
TACIT_ISSUE = {"permit_number": "13", "applicant_informed": True,
               "applicant_informed_on": "2026-04-02"}
ENDORSED = {"endorsement": "avizat"}
RETURNED = {"endorsement": "returnat", "endorsement_notes": "Treceți și codul CAEN 5610."}
SIGNED = {"signature": "semnat"}
NOT_SIGNED = {"signature": "returnat", "signature_notes": "Corectați orarul."}
ARCHIVE = {"file_code": "COM-1"}


@pytest.fixture
def session():
    db, s = new_session()
    s.add(NomenclatorFile(code="COM-1", department="comert", title="Acorduri de funcționare",
                          retention_years=10))
    deploy_folder(s, PROCEDURE)
    s.commit()
    yield s
    s.close()
    db.dispose()


def register(session, on: date, **changes):
    instance = runtime.start_instance(session, "operating-permit", {**REQUEST, **changes},
                                      REGISTRAR, today=on)
    session.commit()
    return instance




def audit_actions(session, instance) -> list[str]:
    return session.execute(select(AuditEvent.action).where(
        AuditEvent.instance_id == instance.id).order_by(AuditEvent.id)).scalars().all()


def assigned(session, instance, on: date) -> None:
    complete(session, the_open_task(session, instance, "Repartizare"), HEAD, ASSIGNMENT, on)


def dispatch_and_archive(session, instance, on: date) -> RegisterEntry:
    complete(session, the_open_task(session, instance, "Expediere"), REGISTRAR,
             {"dispatch_channel": "ghiseu", "dispatch_date": on.isoformat()}, on)
    task = the_open_task(session, instance, "Arhivare")
    assert task.assignee == "bogdan"
    complete(session, task, CLERK, ARCHIVE, on)
    session.refresh(instance)
    assert instance.status == "completed" and open_tasks(session, instance) == []
    entry = entry_of(session, instance)
    session.refresh(entry)
    assert (entry.file_code, entry.archived_on) == ("COM-1", on)
    return entry


# Just after midnight at the end of the term (local time), before the morning's escalation.
AFTER_THE_TERM = timers.local_moment(date(2026, 4, 2)) - timedelta(hours=7)


@pytest.mark.parametrize("registered, due", [
    # Monday 2 March 2026: the 30th day is Wednesday 1 April.
    (date(2026, 3, 2), date(2026, 4, 1)),
    # Friday 6 March 2026: the 30th day is Sunday 5 April -> Monday 6 April.
    (date(2026, 3, 6), date(2026, 4, 6)),
], ids=["weekday", "sunday-rolls-to-monday"])
def test_thirty_days_with_reminders_and_tacit_approval_after_them(session, registered, due):
    instance = register(session, registered)
    session.refresh(instance)
    assert instance.due_on == due and entry_of(session, instance).due_on == due
    assert the_open_task(session, instance, "Repartizare").due_on == due
    pending = {(t.kind, t.due_at) for t in timers.pending(session, instance.id)}
    after = due + timedelta(days=1)
    assert pending == {
        ("reminder", timers.local_moment(due - timedelta(days=10))),
        ("reminder", timers.local_moment(due - timedelta(days=3))),
        ("escalation", timers.local_moment(after)),
        ("tacit_approval", timers.local_moment(after, datetime.min.time())),
    }


def test_the_request_is_registered_for_the_trade_department(session):
    instance = register(session, date(2026, 3, 2))
    entry = entry_of(session, instance)
    assert entry.label == "1/02.03.2026" and entry.register.code == "general"
    assert (entry.document_type, entry.department, entry.file_code, entry.pages) == (
        "acord-functionare", "comert", "COM-1", 5)
    assert the_open_task(session, instance, "Repartizare").group_codes == ["sef-comert"]
    data = runtime.instance_data(session, instance)
    assert (data["company_cui"], data["caen_codes"]) == ("RO12345678", "4711, 5610")


def test_full_circuit_with_returns_from_endorsement_and_signature(session):
    on = date(2026, 3, 2)
    instance = register(session, on)
    assigned(session, instance, on)
    task = the_open_task(session, instance, "Analiza documentației")
    assert task.assignee == "bogdan" and task.form_name == "analysis"
    refused(session, task, URBANISM_CLERK, ADMITTED, on)
    complete(session, task, CLERK, ADMITTED, date(2026, 3, 9))

    for round_ in range(3):
        task = the_open_task(session, instance, "Redactarea acordului sau a refuzului")
        assert task.assignee == "bogdan" and task.form_name == "permit"
        complete(session, task, CLERK, PERMIT, on)
        task = the_open_task(session, instance, "Avizare")
        assert task.group_codes == ["sef-comert"]
        if round_ == 0:
            complete(session, task, HEAD, RETURNED, on)
            continue
        complete(session, task, HEAD, ENDORSED, on)
        complete(session, the_open_task(session, instance, "Semnare"), MAYOR,
                 NOT_SIGNED if round_ == 1 else SIGNED, on)

    entry = dispatch_and_archive(session, instance, date(2026, 3, 20))
    assert (entry.dispatched_on, entry.outcome) == (date(2026, 3, 20), "aprobat")
    clock = clock_of(session, instance)
    assert (clock.status, clock.stopped_on) == ("stopped", date(2026, 3, 20))
    # Answered in time: the tacit approval, reminders and escalation are all called off.
    assert timers.pending(session, instance.id) == []
    assert fire_due_timers(session, datetime(2026, 5, 1)) == []
    data = runtime.instance_data(session, instance)
    assert "tacit_approval" not in data and data["permit_number"] == "12"
    steps = session.execute(select(HumanTask.title).where(
        HumanTask.instance_id == instance.id).order_by(HumanTask.id)).scalars().all()
    drafting = "Redactarea acordului sau a refuzului"
    assert steps == ["Repartizare", "Analiza documentației",
                     drafting, "Avizare", drafting, "Avizare", "Semnare",
                     drafting, "Avizare", "Semnare", "Expediere", "Arhivare"]


def test_silence_past_the_term_grants_the_permit_tacitly(session):
    instance = register(session, date(2026, 3, 2))            # due Wednesday 1 April
    assigned(session, instance, date(2026, 3, 3))
    analysis = the_open_task(session, instance, "Analiza documentației")

    # Nothing is due before the end of the last day.
    assert [f.kind for f in fire_due_timers(session, timers.local_moment(date(2026, 3, 29)))
            ] == ["reminder", "reminder"]
    session.refresh(analysis)
    assert analysis.status == "open"

    fired = fire_due_timers(session, AFTER_THE_TERM)
    assert [(f.kind, f.outcome) for f in fired] == [("tacit_approval", "aprobare tacită")]
    session.refresh(analysis)
    assert analysis.status == "cancelled"
    task = the_open_task(session, instance, "Eliberarea acordului (aprobare tacită)")
    assert task.group_codes == ["registratura"] and task.form_name == "tacit_issue"
    data = runtime.instance_data(session, instance)
    assert (data["outcome"], data["tacit_approval"]) == ("aprobat-tacit", True)
    assert "deadline.tacit_approval" in audit_actions(session, instance)

    refused(session, task, CLERK, TACIT_ISSUE, date(2026, 4, 2))
    complete(session, task, REGISTRAR, TACIT_ISSUE, date(2026, 4, 2))
    entry = dispatch_and_archive(session, instance, date(2026, 4, 2))
    assert (entry.dispatched_on, entry.outcome) == (date(2026, 4, 2), "aprobat-tacit")
    clock = clock_of(session, instance)
    assert (clock.status, clock.stopped_on) == ("stopped", date(2026, 4, 2))
    event = session.execute(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "deadline.stopped")
    ).scalar_one()
    assert json.loads(event.after_json)["in_time"] is False     # silence was the answer
    assert runtime.instance_data(session, instance)["permit_number"] == "13"
    # The morning's escalation was called off with the clock; nothing fires twice.
    assert fire_due_timers(session, datetime(2026, 5, 1)) == []
    steps = session.execute(select(HumanTask.title, HumanTask.status).where(
        HumanTask.instance_id == instance.id).order_by(HumanTask.id)).all()
    assert [tuple(s) for s in steps] == [
        ("Repartizare", "completed"), ("Analiza documentației", "cancelled"),
        ("Eliberarea acordului (aprobare tacită)", "completed"),
        ("Expediere", "completed"), ("Arhivare", "completed")]


def test_an_analysis_finished_in_time_is_not_overridden_by_the_term(session):
    """Analysed in time but not yet sent out when the term ends: the drafted answer
    stands, the case is late (escalated), and no tacit approval takes its place."""
    instance = register(session, date(2026, 3, 2))
    assigned(session, instance, date(2026, 3, 3))
    complete(session, the_open_task(session, instance, "Analiza documentației"), CLERK,
             {"analysis_decision": "respins",
              "refusal_reasons": "Activitatea nu este permisă în zona de locuințe."},
             date(2026, 3, 30))
    draft = the_open_task(session, instance, "Redactarea acordului sau a refuzului")

    fired = fire_due_timers(session, timers.local_moment(date(2026, 4, 2)))
    assert [(f.kind, f.outcome) for f in fired if f.kind != "reminder"] == [
        ("tacit_approval", "aprobare tacită: diagrama nu o așteaptă"),
        ("escalation", "escaladat către sef-comert")]
    session.refresh(draft)
    assert draft.status == "open" and draft.escalated
    assert the_open_task(session, instance, "Redactarea acordului sau a refuzului").id == draft.id
    assert "outcome" not in runtime.instance_data(session, instance)

    complete(session, draft, CLERK, dict(PERMIT, outcome="respins", permit_number=""),
             date(2026, 4, 2))
    complete(session, the_open_task(session, instance, "Avizare"), HEAD, ENDORSED,
             date(2026, 4, 2))
    complete(session, the_open_task(session, instance, "Semnare"), MAYOR, SIGNED,
             date(2026, 4, 2))
    entry = dispatch_and_archive(session, instance, date(2026, 4, 3))
    assert entry.outcome == "respins"
    assert fire_due_timers(session, datetime(2026, 5, 1)) == []


# --- drawing and forms ---------------------------------------------------------------

def test_diagram_has_a_shape_for_every_element():
    check_diagram(PROCEDURE / "operating-permit.bpmn")


def test_forms_accept_what_the_steps_submit():
    forms = PROCEDURE / "forms"
    cases = [(forms / "registration.json", REQUEST), (forms / "analysis.json", ADMITTED),
             (forms / "permit.json", PERMIT), (forms / "tacit_issue.json", TACIT_ISSUE)]
    for path, data in cases:
        assert load_form(path).validate(data) == {}, (path.name, data)


@pytest.mark.parametrize("cui, valid", [
    ("12", True), ("RO1234567890", True), ("1234567", True),
    ("1", False), ("12345678901", False), ("RO 123456", False), ("ro123456", False),
    ("J40/123/2020", False)])
def test_the_tax_code_is_two_to_ten_digits_optionally_prefixed_ro(cui, valid):
    errors = load_form(PROCEDURE / "forms" / "registration.json").validate(
        dict(REQUEST, company_cui=cui))
    if valid:
        assert errors == {}
    else:
        assert list(errors) == ["company_cui"]
        assert "Codul unic de înregistrare (CUI)" in errors["company_cui"]


def test_conditional_fields_report_on_their_own_field():
    registration = load_form(PROCEDURE / "forms" / "registration.json")
    assert list(registration.validate(dict(REQUEST, caen_codes="47.11"))) == ["caen_codes"]
    analysis = load_form(PROCEDURE / "forms" / "analysis.json")
    errors = analysis.validate({"analysis_decision": "respins"})
    assert list(errors) == ["refusal_reasons"]
    assert "«Motivele respingerii» este obligatoriu" in errors["refusal_reasons"]
    permit = load_form(PROCEDURE / "forms" / "permit.json")
    assert list(permit.validate({k: v for k, v in PERMIT.items() if k != "permit_number"})
                ) == ["permit_number"]
    assert list(load_form(PROCEDURE / "forms" / "tacit_issue.json").validate(
        dict(TACIT_ISSUE, applicant_informed=False))) == ["applicant_informed"]
