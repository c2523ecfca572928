"""A request for public information (Legea 544/2001) walked on the real engine.

The term is 10 days in which neither the day of registration nor the day the term is
fulfilled counts, rolled over to the next working day; a complex request is extended
to 30 days, a reasoned refusal and a forwarding to the competent authority are due in
5. Dates are fixed so that terms land on weekends and on Orthodox Easter.
"""
from datetime import date, timedelta

import holidays
import pytest
from sqlalchemy import select

from engine import runtime, timers
from engine.deployment import deploy_folder
from engine.errors import EngineError
from engine.models import AuditEvent, HumanTask
from engine.runtime import Actor

from procedure_testkit import (MAYOR, PROCESSES, REGISTRAR, assert_due, check_diagram,
                               clock_of, complete, entry_of, load_form, new_session,
                               open_tasks, refused, the_open_task)

PROCEDURE = PROCESSES / "public-information"

HEAD = Actor("sef.relatii", frozenset({"sef-relatii-publice"}))
CLERK = Actor("ioana", frozenset({"dept-relatii-publice"}))
OTHER_CLERK = Actor("mihai", frozenset({"dept-relatii-publice"}))
URBANISM_CLERK = Actor("radu", frozenset({"dept-urbanism"}))

REQUEST = {
    "sender_name": "Asociația Orașul Verde",
    "sender_address": "Str. Teilor nr. 4, Comuna Exemplu",
    "sender_email": "contact@orasulverde.example.ro",
    "pages": 1,
    "summary": "Solicită lista contractelor de salubrizare încheiate în 2025.",
    "answer_format": "email",
    "channel": "email",
}
ASSIGNMENT = {"assignment_decision": "repartizat", "assigned_clerk": "ioana"}
COMMUNICATE = {"analysis_decision": "comunicare"}
COMPLEX = {"analysis_decision": "complexa",
           "extension_reason": "Contractele sunt la trei servicii și trebuie anonimizate."}
REFUSE = {"analysis_decision": "refuz",
          "refusal_reason": "Informațiile privesc date cu caracter personal ale angajaților."}
FORWARD = {"analysis_decision": "redirectionare",
           "competent_authority": "Agenția pentru Protecția Mediului Exemplu"}
NOTICE = {"extension_notice_date": "2026-04-06", "extension_notice_channel": "email",
          "extension_notice_reference": "msg-0406"}
ANSWER = {"answer": "Vă transmitem lista contractelor de salubrizare din 2025.",
          "partial_answer": False}
ENDORSED = {"endorsement": "avizat"}
RETURNED = {"endorsement": "returnat", "endorsement_notes": "Atașați și actele adiționale."}
SIGNED = {"signature": "semnat"}
NOT_SIGNED = {"signature": "returnat", "signature_notes": "Menționați temeiul legal."}
DISPATCH = {"dispatch_channel": "email", "dispatch_date": "2026-04-09"}
ARCHIVE = {"file_code": "RP-2"}


@pytest.fixture
def session():
    db, s = new_session()
    deploy_folder(s, PROCEDURE)
    s.commit()
    yield s
    s.close()
    db.dispose()


def register(session, on: date, **changes):
    instance = runtime.start_instance(session, "public-information", {**REQUEST, **changes},
                                      REGISTRAR, today=on)
    session.commit()
    return instance





def assign_and_analyse(session, instance, decision: dict, on: date) -> None:
    complete(session, the_open_task(session, instance, "Repartizare"), HEAD, ASSIGNMENT, on)
    task = the_open_task(session, instance, "Analiza solicitării")
    assert task.assignee == "ioana" and task.form_name == "analysis"
    complete(session, task, CLERK, decision, on)


def test_the_holidays_these_dates_rely_on():
    ro = holidays.country_holidays("RO", years=2026)
    assert date(2026, 4, 12) in ro and date(2026, 4, 13) in ro      # Orthodox Easter
    assert date(2026, 6, 1) in ro                                   # Children's Day, Whit Monday
    assert date(2026, 3, 16) not in ro and date(2026, 4, 14) not in ro


def test_registration_numbers_the_request_in_the_general_register(session):
    instance = register(session, date(2026, 4, 2))
    entry = entry_of(session, instance)
    assert entry.label == "1/02.04.2026" and entry.register.code == "general"
    assert entry.document_type == "informatii-publice"
    assert entry.department == "relatii-publice"
    assert entry.file_code == "RP-2"          # the file it will go into is known at once
    assert entry.sender_name == "Asociația Orașul Verde"
    task = the_open_task(session, instance, "Repartizare")
    assert task.group_codes == ["sef-relatii-publice"]


@pytest.mark.parametrize("registered, due", [
    # Thursday 2 April: 10 free days end on Monday 13 April, Easter Monday -> Tuesday.
    (date(2026, 4, 2), date(2026, 4, 14)),
    # Tuesday 3 March: the term ends on Saturday 14 March -> Monday 16 March.
    (date(2026, 3, 3), date(2026, 3, 16)),
    # Thursday 21 May: the term ends on Monday 1 June, Children's Day and Whit Monday.
    (date(2026, 5, 21), date(2026, 6, 2)),
], ids=["easter-monday", "weekend", "whit-monday"])
def test_ten_days_without_the_first_and_last_day_roll_over_to_a_working_day(
        session, registered, due):
    instance = register(session, registered)
    last_counted = registered + timedelta(days=10)
    assert due > last_counted + timedelta(days=1)       # each case does roll over
    assert_due(session, instance, due)
    assert clock_of(session, instance).status == "running"


def test_a_refusal_is_due_in_five_days_and_easter_moves_it(session):
    # Monday 6 April: 10 days would end on Friday 17 April.
    instance = register(session, date(2026, 4, 6))
    assert_due(session, instance, date(2026, 4, 17))
    assign_and_analyse(session, instance, REFUSE, date(2026, 4, 7))
    # 5 free days end on Sunday 12 April (Easter); Monday 13 is Easter Monday.
    assert clock_of(session, instance).variant == "refusal"
    assert_due(session, instance, date(2026, 4, 14))
    task = the_open_task(session, instance, "Redactare răspuns")
    assert task.assignee == "ioana" and task.due_on == date(2026, 4, 14)
    event = session.execute(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "deadline.variant")
    ).scalar_one()
    assert event.summary == "refusal"

    complete(session, task, CLERK, {"answer": "Refuzăm motivat: date cu caracter personal.",
                                    "partial_answer": False}, date(2026, 4, 8))
    finish_circuit(session, instance, date(2026, 4, 9))
    entry = entry_of(session, instance)
    assert entry.outcome == "refuzat"


def test_a_request_we_do_not_hold_is_forwarded_within_five_days(session):
    instance = register(session, date(2026, 3, 3))
    assign_and_analyse(session, instance, FORWARD, date(2026, 3, 4))
    assert clock_of(session, instance).variant == "forwarding"
    assert_due(session, instance, date(2026, 3, 9))     # 3 March + 5 free days, a Monday
    complete(session, the_open_task(session, instance, "Redactare răspuns"), CLERK,
             {"answer": "Am trimis solicitarea la APM Exemplu și vă înștiințăm.",
              "partial_answer": False}, date(2026, 3, 5))
    finish_circuit(session, instance, date(2026, 3, 6))
    assert entry_of(session, instance).outcome == "redirectionat"


def test_a_complex_request_gets_thirty_days_and_the_requester_is_told(session):
    instance = register(session, date(2026, 4, 2))
    assign_and_analyse(session, instance, COMPLEX, date(2026, 4, 6))
    # 30 free days from 2 April end on Sunday 3 May -> Monday 4 May.
    assert_due(session, instance, date(2026, 5, 4))
    clock = clock_of(session, instance)
    assert (clock.extension_days, clock.extensions_used) == (20, 1)
    event = session.execute(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "deadline.extended")
    ).scalar_one()
    assert event.actor == "ioana" and event.summary == COMPLEX["extension_reason"]
    # Reminders follow the new term.
    reminders = [t.due_at for t in timers.pending(session, instance.id) if t.kind == "reminder"]
    assert reminders == [timers.local_moment(date(2026, 5, 1)),      # 3 days before
                         timers.local_moment(date(2026, 5, 3))]      # 1 day before

    task = the_open_task(session, instance, "Înștiințarea solicitantului despre prelungire")
    assert task.assignee == "ioana" and task.form_name == "extension_notice"
    refused(session, task, OTHER_CLERK, NOTICE, date(2026, 4, 6))
    complete(session, task, CLERK, NOTICE, date(2026, 4, 6))
    task = the_open_task(session, instance, "Redactare răspuns")
    assert task.due_on == date(2026, 5, 4)
    data = runtime.instance_data(session, instance)
    assert data["extension_notice_date"] == "2026-04-06"


def test_the_term_cannot_be_extended_once_it_has_passed(session):
    instance = register(session, date(2026, 4, 2))          # due 14 April
    complete(session, the_open_task(session, instance, "Repartizare"), HEAD, ASSIGNMENT,
             date(2026, 4, 3))
    task = the_open_task(session, instance, "Analiza solicitării")
    with pytest.raises(EngineError, match="Termenul a expirat"):
        runtime.complete_task(session, task.id, CLERK, dict(COMPLEX), today=date(2026, 4, 15))
    session.rollback()
    assert the_open_task(session, instance, "Analiza solicitării").id == task.id
    assert_due(session, instance, date(2026, 4, 14))


def finish_circuit(session, instance, on: date) -> None:
    complete(session, the_open_task(session, instance, "Avizare"), HEAD, ENDORSED, on)
    complete(session, the_open_task(session, instance, "Semnare"), MAYOR, SIGNED, on)
    complete(session, the_open_task(session, instance, "Expediere"), REGISTRAR, DISPATCH, on)
    complete(session, the_open_task(session, instance, "Arhivare"), CLERK, ARCHIVE, on)
    session.refresh(instance)
    assert instance.status == "completed"
    assert clock_of(session, instance).status == "stopped"


def test_full_circuit_with_returns_from_endorsement_and_signature(session):
    on = date(2026, 4, 2)
    instance = register(session, on)
    entry = entry_of(session, instance)
    complete(session, the_open_task(session, instance, "Repartizare"), HEAD, ASSIGNMENT, on)
    task = the_open_task(session, instance, "Analiza solicitării")
    refused(session, task, OTHER_CLERK, COMMUNICATE, on)
    refused(session, task, URBANISM_CLERK, COMMUNICATE, on)
    complete(session, task, CLERK, COMMUNICATE, on)
    assert_due(session, instance, date(2026, 4, 14))        # no change of term

    drafted = []
    for round_ in range(3):
        task = the_open_task(session, instance, "Redactare răspuns")
        assert task.assignee == "ioana" and task.form_name == "answer"
        refused(session, task, OTHER_CLERK, ANSWER, on)
        complete(session, task, CLERK, dict(ANSWER, partial_answer=round_ == 2), on)
        drafted.append(task.id)
        task = the_open_task(session, instance, "Avizare")
        assert task.group_codes == ["sef-relatii-publice"]
        if round_ == 0:
            complete(session, task, HEAD, RETURNED, on)     # back to the clerk
            continue
        complete(session, task, HEAD, ENDORSED, on)
        task = the_open_task(session, instance, "Semnare")
        refused(session, task, HEAD, SIGNED, on)
        if round_ == 1:
            complete(session, task, MAYOR, NOT_SIGNED, on)  # back to the clerk
            continue
        complete(session, task, MAYOR, SIGNED, on)
    assert len(set(drafted)) == 3

    task = the_open_task(session, instance, "Expediere")
    assert task.group_codes == ["registratura"]
    complete(session, task, REGISTRAR, DISPATCH, date(2026, 4, 9))
    session.refresh(entry)
    assert (entry.dispatched_on, entry.dispatch_channel) == (date(2026, 4, 9), "email")
    assert entry.outcome == "comunicat-partial"     # the last draft communicated only part
    clock = clock_of(session, instance)
    assert (clock.status, clock.stopped_on) == ("stopped", date(2026, 4, 9))
    assert timers.pending(session, instance.id) == []

    task = the_open_task(session, instance, "Arhivare")
    assert task.assignee == "ioana"
    complete(session, task, CLERK, ARCHIVE, date(2026, 4, 10))
    session.refresh(entry)
    assert (entry.file_code, entry.archived_on) == ("RP-2", date(2026, 4, 10))
    session.refresh(instance)
    assert instance.status == "completed" and open_tasks(session, instance) == []
    steps = session.execute(select(HumanTask.title).where(
        HumanTask.instance_id == instance.id).order_by(HumanTask.id)).scalars().all()
    assert steps == ["Repartizare", "Analiza solicitării",
                     "Redactare răspuns", "Avizare",
                     "Redactare răspuns", "Avizare", "Semnare",
                     "Redactare răspuns", "Avizare", "Semnare", "Expediere", "Arhivare"]


# --- drawing and forms ---------------------------------------------------------------

def test_diagram_has_a_shape_for_every_element():
    check_diagram(PROCEDURE / "public-information.bpmn")


def test_forms_accept_what_the_steps_submit():
    forms = PROCEDURE / "forms"
    circuit = PROCESSES / "circuit" / "forms"
    cases = [(forms / "registration.json", REQUEST), (forms / "analysis.json", COMMUNICATE),
             (forms / "analysis.json", COMPLEX), (forms / "analysis.json", REFUSE),
             (forms / "analysis.json", FORWARD), (forms / "extension_notice.json", NOTICE),
             (forms / "answer.json", ANSWER), (circuit / "endorsement.json", RETURNED),
             (circuit / "signature.json", NOT_SIGNED), (circuit / "dispatch.json", DISPATCH)]
    for path, data in cases:
        assert load_form(path).validate(data) == {}, (path.name, data)
    archiving = load_form(circuit / "archiving.json", {"file_code": ["RP-1", "RP-2"]})
    assert archiving.validate(ARCHIVE) == {}


@pytest.mark.parametrize("decision, field", [
    ("complexa", "extension_reason"), ("refuz", "refusal_reason"),
    ("redirectionare", "competent_authority"),
])
def test_the_analysis_asks_for_the_reason_on_its_own_field(decision, field):
    form = load_form(PROCEDURE / "forms" / "analysis.json")
    errors = form.validate({"analysis_decision": decision})
    assert list(errors) == [field]
    assert "este obligatoriu" in errors[field]
    assert list(form.validate({"analysis_decision": decision, field: "ab"})) == [field]


def test_an_empty_analysis_asks_only_for_the_decision():
    form = load_form(PROCEDURE / "forms" / "analysis.json")
    assert list(form.validate({})) == ["analysis_decision"]
    assert form.validate(COMMUNICATE) == {}
