"""Who works in whose place: substitutes during absences, signing delegations,
and a head's reassignment of a task — each move written to the audit trail."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.db import utcnow

from . import audit
from .errors import EngineError, NotPermitted
from .models import HumanTask
from .models_org import Absence, SigningDelegation

SIGNER_GROUPS = {"primar": "primar", "viceprimar": "viceprimar"}
DELEGATED_SIGNER = "semnatar-delegat"   # the group a valid delegation confers


def absence_on(session: Session, username: str, on: date) -> Absence | None:
    return session.execute(select(Absence).where(
        Absence.username == username, Absence.cancelled.is_(False),
        Absence.starts_on <= on, Absence.ends_on >= on)
        .order_by(Absence.id.desc()).limit(1)).scalar_one_or_none()


def substitute_for(session: Session, username: str, on: date) -> str:
    """Who does `username`'s work on that day (follows chains of absences, no loops)."""
    seen = {username}
    while (absence := absence_on(session, username, on)) is not None:
        if absence.substitute in seen:
            break
        username = absence.substitute
        seen.add(username)
    return username


def replaced_by(session: Session, substitute: str, on: date) -> list[str]:
    """The users whose work `substitute` does on that day."""
    return sorted(set(session.execute(select(Absence.username).where(
        Absence.substitute == substitute, Absence.cancelled.is_(False),
        Absence.starts_on <= on, Absence.ends_on >= on)).scalars()))


def record_absence(session: Session, username: str, substitute: str, starts_on: date,
                   ends_on: date, reason: str, actor: str) -> Absence:
    if substitute == username:
        raise EngineError("Înlocuitorul trebuie să fie altă persoană.")
    if ends_on < starts_on:
        raise EngineError("Perioada absenței se termină înainte să înceapă.")
    absence = Absence(username=username, substitute=substitute, starts_on=starts_on,
                      ends_on=ends_on, reason=reason[:300], created_by=actor)
    session.add(absence)
    session.flush()
    audit.record(session, actor, "absence.recorded", object_ref=f"absence:{absence.id}",
                 summary=f"{username} → {substitute}",
                 after={"username": username, "substitute": substitute,
                        "starts_on": starts_on, "ends_on": ends_on, "reason": reason})
    return absence


def cancel_absence(session: Session, absence: Absence, actor: str) -> None:
    absence.cancelled = True
    audit.record(session, actor, "absence.cancelled", object_ref=f"absence:{absence.id}",
                 summary=f"{absence.username} → {absence.substitute}",
                 before={"cancelled": False}, after={"cancelled": True})


def hand_over_absent_tasks(session: Session, today: date) -> int:
    """Move the open tasks of people absent today to their substitutes. Idempotent:
    run at every scheduler tick and when an absence is recorded."""
    moved = 0
    absent = session.execute(select(Absence.username).distinct().where(
        Absence.cancelled.is_(False), Absence.starts_on <= today,
        Absence.ends_on >= today)).scalars().all()
    for username in absent:
        substitute = substitute_for(session, username, today)
        if substitute == username:
            continue
        for task in session.execute(select(HumanTask).where(
                HumanTask.status == "open", HumanTask.assignee == username)).scalars():
            task.assignee, task.delegated_from = substitute, username
            audit.record(session, None, "task.delegated", instance_id=task.instance_id,
                         object_ref=f"task:{task.id}", summary=task.title,
                         before={"assignee": username},
                         after={"assignee": substitute, "reason": "absence"})
            moved += 1
    return moved


def reassign(session: Session, task: HumanTask, actor, to_user: str, reason: str) -> HumanTask:
    """A head of department moves a task to another person, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise EngineError("Redistribuirea unei sarcini cere un motiv.")
    if task.status != "open":
        raise EngineError("Sarcina nu mai este activă.")
    heads = {f"sef-{task.department}"} if task.department else set()
    heads |= {"sef-" + g.split("-", 1)[1] for g in task.group_codes if g.startswith("dept-")}
    if not (heads & set(actor.groups)) and "admin" not in actor.groups:
        raise NotPermitted("Doar șeful compartimentului poate redistribui această sarcină.")
    before = {"assignee": task.assignee}
    task.delegated_from = task.assignee or task.delegated_from
    task.assignee, task.claimed_at = to_user, utcnow()
    audit.record(session, actor.username, "task.reassigned", instance_id=task.instance_id,
                 object_ref=f"task:{task.id}", summary=reason[:500], before=before,
                 after={"assignee": to_user, "reason": reason})
    return task


def delegation_on(session: Session, username: str, on: date) -> SigningDelegation | None:
    return session.execute(select(SigningDelegation).where(
        SigningDelegation.holder == username, SigningDelegation.revoked.is_(False),
        SigningDelegation.starts_on <= on, SigningDelegation.ends_on >= on)
        .order_by(SigningDelegation.id.desc()).limit(1)).scalar_one_or_none()


def signing_capacity(session: Session, username: str, groups, on: date) -> str:
    """In what capacity someone signs on that day; NotPermitted if they may not."""
    for group, capacity in SIGNER_GROUPS.items():
        if group in groups:
            return capacity
    delegation = delegation_on(session, username, on)
    if delegation is not None:
        return f"prin delegare ({delegation.act_reference})"
    raise NotPermitted(f"{username} nu poate semna la {on:%d.%m.%Y}: nu este primar sau "
                       "viceprimar și nu are o delegare valabilă la această dată.")


def effective_groups(session: Session, username: str, groups, on: date,
                     groups_of=lambda username: ()) -> frozenset:
    """A person's groups on a day: their own, those of the people they replace
    (`groups_of` looks a user's groups up), and the delegated signer's while a
    delegation is valid."""
    result = set(groups)
    for absent in replaced_by(session, username, on):
        result |= set(groups_of(absent))
    if delegation_on(session, username, on) is not None:
        result.add(DELEGATED_SIGNER)
    return frozenset(result)
