"""The legal clock of a case: started at registration, extended, paused, stopped.

One `SlaClock` row per instance holds what the term depends on (start day,
extension days granted, days paused while waiting for the sender, the variant in
force). The due date is always recomputed from those by the procedure's
`SlaProfile`, then mirrored where lists read it (instance, register entry, open
tasks) and the reminder/escalation timers are rescheduled from it.
"""
import json
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.registry.models import RegisterEntry

from . import audit, timers
from .deployment import definition_files
from .errors import EngineError, NotPermitted
from .models import HumanTask, ProcessDefinition, ProcessInstance
from .models_sla import SlaClock
from .sla import WORKING_DAYS, SlaProfile, SlaProfileError, working_days_between

# Roles an SLA profile may name in `extension.who`, as group codes.
ROLE_GROUPS = {
    "head_of_department": "sef-{department}",
    "clerk": "dept-{department}",
    "mayor": "primar",
    "secretary": "secretar",
    "registry": "registratura",
}


def profile_of(definition: ProcessDefinition) -> SlaProfile | None:
    text = definition_files(definition).get("sla.json")
    return SlaProfile.from_dict(json.loads(text)) if text else None


def clock_of(session: Session, instance_id: int) -> SlaClock | None:
    return session.execute(select(SlaClock).where(SlaClock.instance_id == instance_id)
                           ).scalar_one_or_none()


def profile_in_force(session: Session, instance: ProcessInstance) -> SlaProfile | None:
    """The procedure's profile with the variant the case's clock uses (a refusal's 5 days)."""
    profile = profile_of(instance.definition)
    clock = clock_of(session, instance.id) if profile is not None else None
    return profile.variant(clock.variant) if clock is not None else profile


def case_department(instance: ProcessInstance, entry: RegisterEntry | None) -> str:
    """The department handling the case: the register's (it follows redirections),
    else the procedure's."""
    return (entry.department if entry else "") or instance.definition.department or ""


def _profile(clock: SlaClock, variant: str | None = None) -> SlaProfile:
    base = SlaProfile.from_dict(json.loads(clock.profile_json))
    return base.variant(clock.variant if variant is None else variant)


def _paused_so_far(clock: SlaClock, profile: SlaProfile, today: date) -> int:
    if clock.paused_since is None:
        return clock.paused_days
    if profile.unit == WORKING_DAYS:
        return clock.paused_days + max(working_days_between(clock.paused_since, today), 0)
    return clock.paused_days + max((today - clock.paused_since).days, 0)


def start(session: Session, instance: ProcessInstance, started_on: date) -> SlaClock | None:
    """Start the case's clock on its registration day (no profile, no clock)."""
    profile = profile_of(instance.definition)
    if profile is None:
        return None
    clock = clock_of(session, instance.id)
    if clock is None:
        clock = SlaClock(instance_id=instance.id, document_id=instance.document_id,
                         profile_json=definition_files(instance.definition)["sla.json"],
                         started_on=started_on, due_on=started_on, variant="",
                         extension_days=0, extensions_used=0, paused_days=0,
                         status="running")
        session.add(clock)
    _recompute(session, clock)
    return clock


def _recompute(session: Session, clock: SlaClock) -> None:
    profile = _profile(clock)
    clock.due_on = profile.due_date(clock.started_on, clock.extension_days, clock.paused_days)
    # Through the ORM: the step that started the clock goes on to project its
    # tasks from these very objects.
    session.get(ProcessInstance, clock.instance_id).due_on = clock.due_on
    if clock.document_id:
        session.get(RegisterEntry, clock.document_id).due_on = clock.due_on
    session.execute(update(HumanTask).where(HumanTask.instance_id == clock.instance_id,
                                            HumanTask.status == "open")
                    .values(due_on=clock.due_on))
    # Cancel, then schedule afresh: a moment the new term shares with the old one
    # revives its row (timers.schedule).
    timers.cancel_pending(session, clock.instance_id, timers.SLA_KINDS)
    if clock.status != "running":
        return
    for kind, due_at, payload in timers.sla_timers_for(
            clock.due_on, profile.reminders_days_before, profile.escalate_when_overdue,
            profile.tacit_approval):
        if kind == "reminder" and due_at <= timers.local_moment(clock.started_on):
            continue   # a reminder before the case even started is noise
        timers.schedule(session, clock.instance_id, kind, due_at, payload)


def _running_clock(session: Session, instance: ProcessInstance) -> SlaClock:
    clock = clock_of(session, instance.id)
    if clock is None:
        raise EngineError("Dosarul nu are un termen legal.")
    if clock.status == "stopped":
        raise EngineError("Termenul este închis: răspunsul a fost deja expediat.")
    return clock


def may_extend(profile: SlaProfile, groups, department: str) -> bool:
    if profile.extension is None:
        return False
    allowed = {ROLE_GROUPS.get(role, role).format(department=department)
               for role in profile.extension.who}
    return bool(allowed & set(groups))


def extend(session: Session, instance: ProcessInstance, actor, days: int, reason: str,
           department: str, today: date) -> SlaClock:
    """Extend the term (who may, how often and by how much come from the profile)."""
    clock = _running_clock(session, instance)
    profile = _profile(clock)
    reason = (reason or "").strip()
    if not reason:
        raise EngineError("Prelungirea termenului cere un motiv.")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise EngineError("Prelungirea trebuie să fie de cel puțin o zi.")
    if profile.extension is None:
        raise EngineError("Termenul acestei proceduri nu poate fi prelungit.")
    if actor is not None and not may_extend(profile, actor.groups, department):
        raise NotPermitted("Nu aveți dreptul să prelungiți acest termen.")
    if clock.extensions_used >= profile.extension.times:
        raise EngineError("Termenul a fost deja prelungit de câte ori permite legea.")
    if days > profile.extension.max_days:
        raise EngineError(f"Prelungirea poate fi de cel mult {profile.extension.max_days} zile.")
    if today > clock.due_on:
        raise EngineError("Termenul a expirat; nu mai poate fi prelungit.")
    before = {"due_on": clock.due_on, "extension_days": clock.extension_days}
    try:
        profile.check_extension(clock.extension_days + days)
    except SlaProfileError as err:
        raise EngineError(str(err)) from None
    clock.extension_days += days
    clock.extensions_used += 1
    _recompute(session, clock)
    audit.record(session, actor.username if actor else None, "deadline.extended",
                 instance_id=instance.id, summary=reason[:500], before=before,
                 after={"due_on": clock.due_on, "extension_days": clock.extension_days,
                        "reason": reason})
    return clock


def use_variant(session: Session, instance: ProcessInstance, variant: str,
                actor_name) -> SlaClock:
    """Switch the case to another term of its profile, e.g. a refusal's 5 days."""
    clock = _running_clock(session, instance)
    before = {"due_on": clock.due_on, "variant": clock.variant}
    try:
        _profile(clock, variant)
    except SlaProfileError as err:
        raise EngineError(str(err)) from None
    clock.variant = variant
    _recompute(session, clock)
    audit.record(session, actor_name, "deadline.variant", instance_id=instance.id,
                 summary=variant, before=before, after={"due_on": clock.due_on,
                                                        "variant": variant})
    return clock


def pause(session: Session, instance: ProcessInstance, today: date, actor_name,
          reason: str = "") -> SlaClock:
    """Stop the clock while the case waits for the sender's missing documents."""
    clock = _running_clock(session, instance)
    if clock.status == "paused":
        return clock
    clock.status, clock.paused_since = "paused", today
    _recompute(session, clock)
    audit.record(session, actor_name, "deadline.paused", instance_id=instance.id,
                 summary=reason[:500], after={"paused_since": today})
    return clock


def resume(session: Session, instance: ProcessInstance, today: date, actor_name) -> SlaClock:
    clock = _running_clock(session, instance)
    if clock.status != "paused":
        return clock
    profile = _profile(clock)
    before = {"due_on": clock.due_on, "paused_since": clock.paused_since}
    clock.paused_days = _paused_so_far(clock, profile, today)
    clock.status, clock.paused_since = "running", None
    _recompute(session, clock)
    audit.record(session, actor_name, "deadline.resumed", instance_id=instance.id,
                 before=before, after={"due_on": clock.due_on, "paused_days": clock.paused_days})
    return clock


def stop(session: Session, instance: ProcessInstance, today: date, actor_name) -> SlaClock | None:
    """The answer left: no more reminders or escalations."""
    clock = clock_of(session, instance.id)
    if clock is None or clock.status == "stopped":
        return clock
    clock.status, clock.stopped_on = "stopped", today
    timers.cancel_pending(session, instance.id, timers.SLA_KINDS)
    audit.record(session, actor_name, "deadline.stopped", instance_id=instance.id,
                 after={"stopped_on": today, "due_on": clock.due_on,
                        "in_time": today <= clock.due_on})
    return clock
