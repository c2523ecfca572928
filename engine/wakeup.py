"""Firing due timers: reminders, escalations, tacit approvals and diagram timers.

`fire_due_timers` is what the scheduler runs every few seconds and once at start-up
(so whatever fell due while the application was stopped fires then). Each timer
fires in a transaction of its own, and is marked fired in that same transaction:
either its effect and the mark are both committed, or neither — never twice.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnEvent

from connectors.db import utcnow
from connectors.registry.models import RegisterEntry

from . import audit, deadlines, notifications, runtime, timers
from .models import HumanTask

log = logging.getLogger(__name__)
TACIT_APPROVAL_MESSAGE = "aprobare_tacita"


@dataclass(frozen=True)
class Fired:
    timer_id: int
    instance_id: int
    kind: str
    outcome: str


def deliver_message(session: Session, instance_id: int, name: str, payload: dict | None = None,
                    today=None) -> int:
    """Deliver a BPMN message to the instance's events waiting for it. Returns how
    many caught it (0 when the diagram waits for no such message)."""
    def change(workflow):
        waiting = [t for t in workflow.event_manager.tasks.values()
                   if getattr(t.task_spec.event_definition, "name", None) == name]
        if waiting:
            workflow.catch(BpmnEvent(waiting[0].task_spec.event_definition, payload or {}))
        return len(waiting)
    return runtime.wake(session, instance_id, change, "message.delivered", name, today)


def refresh_diagram_timers(session: Session, instance_id: int, today=None) -> int:
    def change(workflow):
        workflow.refresh_timers()
        return 1
    return runtime.wake(session, instance_id, change, "timer.fired", "eveniment temporizat",
                        today)


def fire_due_timers(session: Session, now: datetime | None = None, limit: int = 500) -> list[Fired]:
    """Fire every timer due at `now` (naive UTC), oldest first, one transaction each."""
    now = now or utcnow()
    today = now.replace(tzinfo=timezone.utc).astimezone(timers.LOCAL_TZ).date()
    fired = []
    for _ in range(limit):
        timer = timers.claim_next_due(session, now)
        if timer is None:
            session.rollback()
            break
        timer_id, instance_id, kind = timer.id, timer.instance_id, timer.kind
        try:
            outcome = _fire(session, timer, today)
            timers.mark_fired(timer, now, outcome)
            session.commit()
        except Exception as err:      # one broken timer must not block the queue
            session.rollback()
            log.exception("timer %s failed", timer_id)
            outcome = f"eroare: {err}"
            timer = session.get(timers.Timer, timer_id)
            timers.mark_fired(timer, now, outcome)
            audit.record(session, None, "timer.failed", instance_id=instance_id,
                         object_ref=f"timer:{timer_id}", summary=outcome)
            session.commit()
        fired.append(Fired(timer_id, instance_id, kind, outcome))
    return fired


def _fire(session: Session, timer, today) -> str:
    if timer.kind == timers.DIAGRAM_TIMER:
        refresh_diagram_timers(session, timer.instance_id, today)
        return "eveniment temporizat declanșat"
    instance = runtime.lock_instance(session, timer.instance_id)
    clock = deadlines.clock_of(session, instance.id)
    if instance.status != "running" or clock is None or clock.status != "running":
        return "fără efect: dosarul nu mai așteaptă"
    entry = session.get(RegisterEntry, instance.document_id) if instance.document_id else None
    label = entry.label if entry else f"#{instance.id}"
    department = deadlines.case_department(instance, entry)
    if timer.kind == "reminder":
        return _remind(session, instance, label, clock.due_on, today)
    if timer.kind == "escalation":
        return _escalate(session, instance, label, clock.due_on, department, today)
    if timer.kind == "tacit_approval":
        return _tacit_approval(session, instance, label, clock.due_on, today)
    return f"tip necunoscut: {timer.kind}"


def _open_tasks(session: Session, instance_id: int) -> list[HumanTask]:
    return session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "open")).scalars().all()


def _remind(session, instance, label, due_on, today) -> str:
    left = (due_on - today).days
    if left < 0:      # fired late (after downtime): the escalation says it better
        return "fără efect: termenul a trecut deja"
    message = (f"Termenul documentului {label} ({instance.title or instance.definition.title}) "
               f"expiră la {due_on:%d.%m.%Y}: mai sunt {left} zile.")
    told = []
    for task in _open_tasks(session, instance.id):
        if task.assignee:
            notifications.notify(session, kind="reminder", message=message,
                                 recipient=task.assignee, instance_id=instance.id)
            told.append(task.assignee)
        else:
            for group in task.group_codes:
                notifications.notify(session, kind="reminder", message=message,
                                     group_code=group, instance_id=instance.id)
                told.append(group)
    audit.record(session, None, "deadline.reminder", instance_id=instance.id,
                 summary=message, after={"notified": told})
    return f"memento către {', '.join(told) or 'nimeni'}"


def _escalate(session, instance, label, due_on, department, today) -> str:
    head = f"sef-{department}" if department else "secretar"
    tasks = _open_tasks(session, instance.id)
    holders = ", ".join(t.assignee or "/".join(t.group_codes) for t in tasks) or "—"
    message = (f"Termenul documentului {label} a expirat la {due_on:%d.%m.%Y} și "
               f"documentul nu este rezolvat (la: {holders}).")
    notifications.notify(session, kind="escalation", message=message, group_code=head,
                         instance_id=instance.id)
    for task in tasks:
        task.escalated = True
    audit.record(session, None, "deadline.escalated", instance_id=instance.id,
                 summary=message, after={"notified": head, "tasks": [t.id for t in tasks]})
    return f"escaladat către {head}"


def _tacit_approval(session, instance, label, due_on, today) -> str:
    caught = deliver_message(session, instance.id, TACIT_APPROVAL_MESSAGE,
                             {"tacit_approval_on": today.isoformat()}, today)
    audit.record(session, None, "deadline.tacit_approval", instance_id=instance.id,
                 summary=f"{label}: termen expirat la {due_on:%d.%m.%Y}",
                 after={"caught": caught})
    return "aprobare tacită" if caught else "aprobare tacită: diagrama nu o așteaptă"
