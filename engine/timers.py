"""Persistent timers: due rows in the database.

Every timer is a `timer` row. `claim_next_due` hands them out oldest first; the caller
fires each in its own transaction, marking it fired in that same transaction, so
a crash rolls back both the effect and the mark, and a timer never fires twice.
On MariaDB several schedulers may poll at once: `FOR UPDATE SKIP LOCKED` lets
each take different rows. SQLite serialises writers anyway.
"""
import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import false, select, update
from sqlalchemy.orm import Session

from .models_sla import Timer

LOCAL_TZ = ZoneInfo("Europe/Bucharest")
MORNING = time(8, 0)      # reminders and escalations reach people at the start of the day
SLA_KINDS = ("reminder", "escalation", "tacit_approval")
DIAGRAM_TIMER = "bpmn_timer"     # a timer event drawn in the diagram
TIMER_EVENT_TYPES = {"TimerEventDefinition", "TimeDateEventDefinition",
                     "DurationTimerEventDefinition", "CycleTimerEventDefinition"}


def local_today() -> date:
    """Deadlines are days at the town hall, whatever the server's clock zone."""
    return datetime.now(LOCAL_TZ).date()


def local_moment(day: date, at: time = MORNING) -> datetime:
    """A local day and hour as the naive UTC datetime the timer table stores."""
    aware = datetime.combine(day, at, tzinfo=LOCAL_TZ)
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


def schedule(session: Session, instance_id: int, kind: str, due_at: datetime,
             payload: dict | None = None) -> Timer:
    """One row per (instance, kind, moment): a term recomputed onto a moment it had
    before revives that cancelled row, and a moment that already fired stays fired."""
    payload_json = json.dumps(payload or {}, ensure_ascii=False)
    timer = session.execute(select(Timer).where(
        Timer.instance_id == instance_id, Timer.kind == kind, Timer.due_at == due_at)
    ).scalar_one_or_none()
    if timer is None:
        timer = Timer(instance_id=instance_id, kind=kind, due_at=due_at,
                      payload_json=payload_json)
        session.add(timer)
    elif timer.fired_at is None:
        timer.cancelled, timer.payload_json = False, payload_json
    return timer


def cancel_pending(session: Session, instance_id: int, kinds) -> int:
    """Cancel the instance's unfired timers of these kinds (fired ones stay as history)."""
    return session.execute(update(Timer).where(
        Timer.instance_id == instance_id, Timer.kind.in_(list(kinds)),
        Timer.fired_at.is_(None), Timer.cancelled == false()).values(cancelled=True)).rowcount


def pending(session: Session, instance_id: int) -> list[Timer]:
    return session.execute(select(Timer).where(
        Timer.instance_id == instance_id, Timer.fired_at.is_(None),
        Timer.cancelled == false()).order_by(Timer.due_at)).scalars().all()


def claim_next_due(session: Session, now: datetime) -> Timer | None:
    """The oldest due timer, locked for this transaction (skipped if another has it)."""
    stmt = (select(Timer).where(Timer.fired_at.is_(None), Timer.cancelled == false(),
                                Timer.due_at <= now)
            .order_by(Timer.due_at, Timer.id).limit(1))
    if session.get_bind().dialect.name in ("mysql", "mariadb"):
        stmt = stmt.with_for_update(skip_locked=True)
    return session.execute(stmt).scalars().first()


def mark_fired(timer: Timer, now: datetime, outcome: str) -> None:
    timer.fired_at, timer.outcome = now, outcome[:500]


def sla_timers_for(due_on: date, reminders_days_before, escalate: bool,
                   tacit_approval: bool) -> list[tuple[str, datetime, dict]]:
    """The timers a legal term sets: reminders before it, escalation and tacit
    approval the morning after its last day."""
    timers = [("reminder", local_moment(due_on - timedelta(days=n)), {"days_before": n})
              for n in sorted(set(reminders_days_before), reverse=True)]
    after = due_on + timedelta(days=1)
    if escalate:
        timers.append(("escalation", local_moment(after), {}))
    if tacit_approval:
        timers.append(("tacit_approval", local_moment(after, time(0, 0)), {}))
    return timers


def schedule_diagram_timers(session: Session, instance_id: int, workflow) -> None:
    """Each waiting timer event of the diagram becomes a due row, so it fires even
    if the application was stopped when it fell due."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
    wanted = set()
    for event in workflow.waiting_events():
        if event.event_type not in TIMER_EVENT_TYPES or event.value is None:
            continue
        value = event.value["next"] if isinstance(event.value, dict) else event.value
        try:
            moment = TimerEventDefinition.get_datetime(value)
        except (TypeError, ValueError):
            continue
        # Whole seconds (MariaDB's DATETIME keeps no fraction), rounded up with a
        # second to spare: the library checks the wall clock again when it fires,
        # and a row that fired early would be spent with the event still waiting.
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        wanted.add(moment.replace(microsecond=0) + timedelta(seconds=2 if moment.microsecond else 1))
    existing = {t.due_at: t for t in pending(session, instance_id) if t.kind == DIAGRAM_TIMER}
    for due_at, timer in existing.items():
        if due_at not in wanted:
            timer.cancelled = True
    for due_at in wanted - set(existing):
        schedule(session, instance_id, DIAGRAM_TIMER, due_at)
