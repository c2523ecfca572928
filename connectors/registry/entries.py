"""What happens to a register entry after it has its number.

A number is never reused or deleted: a cancelled entry stays in the register,
marked cancelled with who, when and why. Related documents are joined
(*conexate*) to the first document of the matter; the answer to a document is
recorded on that document's own entry (same number), with its dispatch.
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.db import utcnow

from .models import Register, RegisterEntry
from .numbering import RegistryError, new_access_code  # noqa: F401 (re-exported)
from .signals import announce_entry_changed

DISPATCH_CHANNELS = ("email", "posta", "portal", "ghiseu")
ARRIVAL_CHANNELS = ("ghiseu", "posta", "email", "fax", "telefon", "portal")


def register_for(session: Session, department: str | None, default: str = "general") -> Register:
    """The department's own series if it keeps one, else the general register."""
    if department:
        own = session.execute(select(Register).where(
            Register.department == department, Register.active.is_(True))).scalars().first()
        if own is not None:
            return own
    register = session.execute(select(Register).where(Register.code == default)).scalar_one_or_none()
    if register is None:
        raise RegistryError(f"Registrul «{default}» nu există.")
    return register


def cancel_entry(session: Session, entry: RegisterEntry, actor: str, reason: str) -> RegisterEntry:
    """Mark an entry cancelled; its number stays taken."""
    reason = (reason or "").strip()
    if not reason:
        raise RegistryError("Anularea unei înregistrări cere un motiv.")
    if entry.cancelled:
        raise RegistryError(f"Înregistrarea {entry.label} este deja anulată.")
    entry.cancelled, entry.cancelled_at, entry.cancelled_by = True, utcnow(), actor
    entry.cancel_reason = reason[:500]
    announce_entry_changed(session, entry.id, "cancelled", actor)
    return entry


def link_entries(session: Session, entry: RegisterEntry, to: RegisterEntry) -> RegisterEntry:
    """Join `entry` to the first document of its matter (*conexare*)."""
    first = to
    while first.linked_entry is not None:       # always join to the head of the chain
        first = first.linked_entry
    if first.id == entry.id:
        raise RegistryError("Un document nu poate fi conexat la el însuși.")
    # Documents already joined to `entry` follow it to the head of the matter, so the
    # matter keeps one head and every document of it is listed from there.
    for joined in session.execute(select(RegisterEntry).where(
            RegisterEntry.linked_entry_id == entry.id)).scalars().all():
        joined.linked_entry = first
    entry.linked_entry = first
    announce_entry_changed(session, entry.id, "linked")
    return entry


def linked_entries(session: Session, entry: RegisterEntry) -> list[RegisterEntry]:
    """Every entry of the same matter, oldest first (the head, then those joined to it)."""
    head = entry
    while head.linked_entry is not None:
        head = head.linked_entry
    joined = session.execute(select(RegisterEntry).where(
        RegisterEntry.linked_entry_id == head.id).order_by(RegisterEntry.id)).scalars().all()
    return [head, *joined]


def record_answer(entry: RegisterEntry, *, on: date, channel: str, outcome: str,
                  recipient: str = "") -> RegisterEntry:
    """The answer leaves under the number it answers: fill the entry's dispatch columns."""
    if channel not in DISPATCH_CHANNELS:
        raise RegistryError(f"Mod de expediere necunoscut: «{channel}».")
    if entry.cancelled:
        raise RegistryError(f"Înregistrarea {entry.label} este anulată.")
    entry.dispatched_on, entry.dispatch_channel = on, channel
    entry.outcome = (outcome or "")[:300]
    entry.recipient = recipient or entry.recipient or entry.sender_name
    return entry
