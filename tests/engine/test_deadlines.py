"""The legal clock of a case and the timers it sets, on both databases.

A petition registered on Monday 2 March 2026 is due on Wednesday 1 April (30
calendar days). Its profile asks for reminders 5 and 1 days before, and for the
head of department to be told the morning after the last day.
"""
import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry.models import NomenclatorFile, Register, RegisterEntry
from engine import deadlines, runtime
from engine.deployment import deploy_folder
from engine.errors import EngineError, NotPermitted
from engine.models import AuditEvent, HumanTask
from engine.models_sla import Notification, SlaClock, Timer
from engine.runtime import Actor
from engine.wakeup import fire_due_timers

PETITION = Path(__file__).resolve().parents[2] / "processes" / "petition"
REGISTERED_ON = date(2026, 3, 2)
REGISTRAR = Actor("registratura", frozenset({"registratura"}))
HEAD = Actor("sef.rp", frozenset({"sef-relatii-publice"}))
CLERK = Actor("ion", frozenset({"dept-relatii-publice"}))


@pytest.fixture
def petition(session):
    session.add(Register(code="general", name="Registrul general", prefix=""))
    session.add(NomenclatorFile(code="RP-1", department="relatii-publice", title="Petiții",
                                retention_years=5))
    deploy_folder(session, PETITION)
    session.commit()
    instance = runtime.start_instance(
        session, "petition", {"sender_name": "Ana Pop", "summary": "Iluminat public stradal",
                              "department": "relatii-publice"}, REGISTRAR, today=REGISTERED_ON)
    session.commit()
    return instance


def utc(*args) -> datetime:
    return datetime(*args)


def pending_timers(session, instance):
    return [(t.kind, t.due_at) for t in session.execute(select(Timer).where(
        Timer.instance_id == instance.id, Timer.fired_at.is_(None),
        Timer.cancelled.is_(False)).order_by(Timer.due_at)).scalars()]


def test_registration_starts_the_clock_and_schedules_reminders_and_escalation(session, petition):
    clock = session.execute(select(SlaClock)).scalar_one()
    assert (clock.started_on, clock.due_on, clock.status) == (REGISTERED_ON, date(2026, 4, 1),
                                                              "running")
    assert session.get(RegisterEntry, petition.document_id).due_on == date(2026, 4, 1)
    # 08:00 in Bucharest: UTC+2 in March, UTC+3 from 29 March (summer time).
    assert pending_timers(session, petition) == [
        ("reminder", utc(2026, 3, 27, 6, 0)), ("reminder", utc(2026, 3, 31, 5, 0)),
        ("escalation", utc(2026, 4, 2, 5, 0))]


def test_a_due_reminder_fires_once_and_tells_whoever_holds_the_task(session, petition):
    assert fire_due_timers(session, utc(2026, 3, 27, 5, 59)) == []     # not yet
    fired = fire_due_timers(session, utc(2026, 3, 27, 6, 0))
    assert [f.kind for f in fired] == ["reminder"]
    note = session.execute(select(Notification)).scalar_one()
    assert note.group_code == "sef-relatii-publice"        # the unassigned «Repartizare»
    assert "expiră la 01.04.2026: mai sunt 5 zile" in note.message
    # Firing again, even much later, does not repeat it.
    assert [f.kind for f in fire_due_timers(session, utc(2026, 3, 27, 9, 0))] == []
    assert session.execute(select(Notification)).scalars().all() == [note]


def test_overdue_escalates_to_the_head_and_marks_the_tasks(session, petition):
    task = session.execute(select(HumanTask).where(HumanTask.status == "open")).scalar_one()
    runtime.complete_task(session, task.id, HEAD, {"assignment_decision": "repartizat",
                                                   "assigned_clerk": "ion"}, today=REGISTERED_ON)
    session.commit()
    fire_due_timers(session, utc(2026, 3, 27, 7, 0))
    # Stopped from 28 March to 3 April: the second reminder comes too late to be of
    # use and is dropped; the escalation still fires.
    fired = fire_due_timers(session, utc(2026, 4, 3, 0, 0))
    assert [(f.kind, f.outcome.startswith("fără efect")) for f in fired] == [
        ("reminder", True), ("escalation", False)]
    notes = session.execute(select(Notification).order_by(Notification.id)).scalars().all()
    assert [n.recipient for n in notes] == ["ion", None]   # the clerk holds the task
    assert notes[1].group_code == "sef-relatii-publice"
    assert "a expirat la 01.04.2026" in notes[1].message and "ion" in notes[1].message
    task = session.execute(select(HumanTask).where(HumanTask.status == "open")).scalar_one()
    assert task.escalated
    assert session.execute(select(AuditEvent).where(
        AuditEvent.action == "deadline.escalated")).scalar_one().instance_id == petition.id


def test_the_head_extends_once_with_a_reason_and_the_timers_follow(session, petition):
    with pytest.raises(NotPermitted):
        deadlines.extend(session, petition, CLERK, 15, "complex", "relatii-publice",
                         date(2026, 3, 20))
    with pytest.raises(EngineError, match="motiv"):
        deadlines.extend(session, petition, HEAD, 15, " ", "relatii-publice", date(2026, 3, 20))
    with pytest.raises(EngineError, match="cel mult 15"):
        deadlines.extend(session, petition, HEAD, 16, "x", "relatii-publice", date(2026, 3, 20))
    deadlines.extend(session, petition, HEAD, 15, "Necesită verificări pe teren.",
                     "relatii-publice", date(2026, 3, 20))
    session.commit()
    # 1 April + 15 days = Thursday 16 April 2026 (after Orthodox Easter, 12-13 April).
    assert session.get(RegisterEntry, petition.document_id).due_on == date(2026, 4, 16)
    assert session.execute(select(HumanTask.due_on).where(
        HumanTask.status == "open")).scalar_one() == date(2026, 4, 16)
    assert pending_timers(session, petition)[-1] == ("escalation", utc(2026, 4, 17, 5, 0))
    with pytest.raises(EngineError, match="de câte ori permite legea"):
        deadlines.extend(session, petition, HEAD, 1, "încă o dată", "relatii-publice",
                         date(2026, 3, 21))
    event = session.execute(select(AuditEvent).where(
        AuditEvent.action == "deadline.extended")).scalar_one()
    assert event.actor == "sef.rp" and "verificări pe teren" in event.summary
    # The old reminders and escalation were cancelled: on 2 April nothing is due.
    assert fire_due_timers(session, utc(2026, 4, 2, 12, 0)) == []


def test_a_pause_for_missing_documents_moves_the_term(session, petition):
    deadlines.pause(session, petition, date(2026, 3, 10), "registratura", "lipsește schița")
    session.commit()
    assert pending_timers(session, petition) == []          # a paused clock reminds no one
    assert fire_due_timers(session, utc(2026, 4, 10, 0, 0)) == []
    deadlines.resume(session, petition, date(2026, 3, 17), "registratura")
    session.commit()
    # Seven days without the clock running: due 8 April instead of 1 April.
    assert session.execute(select(SlaClock.due_on)).scalar_one() == date(2026, 4, 8)
    assert session.get(RegisterEntry, petition.document_id).due_on == date(2026, 4, 8)


def test_dispatch_stops_the_clock_and_cancels_what_has_not_fired(session, petition):
    deadlines.stop(session, petition, date(2026, 3, 20), "registratura")
    session.commit()
    assert pending_timers(session, petition) == []
    assert fire_due_timers(session, utc(2026, 5, 1, 0, 0)) == []
    assert session.execute(select(SlaClock.status)).scalar_one() == "stopped"


@pytest.mark.mariadb
def test_two_schedulers_at_once_fire_each_timer_once(app, session, petition):
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time; the race is MariaDB's")
    for n in range(30):      # many due timers, so both schedulers find work
        session.add(Timer(instance_id=petition.id, kind="reminder",
                          due_at=utc(2026, 3, 3, 0, n), payload_json="{}"))
    session.commit()
    engine = session.get_bind()
    results, errors = [], []

    def scheduler():
        try:
            with Session(engine) as own:
                results.extend(f.timer_id for f in fire_due_timers(own, utc(2026, 3, 4)))
        except Exception as err:     # pragma: no cover - reported below
            errors.append(err)
    threads = [threading.Thread(target=scheduler) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == len(set(results)) == 30
    reminders = session.execute(select(AuditEvent).where(
        AuditEvent.action == "deadline.reminder")).scalars().all()
    assert len(reminders) == 30
