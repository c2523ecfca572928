"""Who may read which register entries: one rule for the register, the entry page,
its files, the instance page of its case and the archive search.

The register as a whole is for the Registratura, the mayor, the secretary and the
archivist (the overseers); a department sees the entries assigned to it.

A confidential entry (social assistance, child protection, medical, disciplinary —
`connectors.registry.confidential`) is read only by the department handling it (its
clerks and head) and administrators. The overseers still see its line in the register
— number, date, department — with the sender and the summary masked, and nothing more:
not its page, not its files, not in the archive search. Every read of a confidential
entry goes to the audit trail (`registry.confidential_read`).
"""
from flask import abort, g, request
from flask_babel import gettext as _
from sqlalchemy import and_, not_

from connectors.audit import record_event
from connectors.registry.models import RegisterEntry
from webapp.database import db, write_transaction

OVERSEERS = frozenset({"registratura", "primar", "secretar", "admin", "arhiva"})
# Read every confidential entry (they keep the system, and answer for it).
CONFIDENTIAL_READERS = frozenset({"admin"})
# What an overseer sees instead of a confidential entry's personal fields.
MASKED_FIELDS = ("sender_name", "sender_address", "sender_email", "sender_reference",
                 "sender_date", "summary", "annexes", "recipient", "outcome", "access_code",
                 "cancel_reason")


def _groups(groups=None) -> frozenset[str]:
    return frozenset(g.user.groups if groups is None else groups)


def sees_whole_register(groups=None) -> bool:
    return bool(_groups(groups) & OVERSEERS)


def own_departments(groups=None) -> set[str]:
    return {code.split("-", 1)[1] for code in _groups(groups)
            if code.startswith(("dept-", "sef-"))}


def reads_all_confidential(groups=None) -> bool:
    return bool(_groups(groups) & CONFIDENTIAL_READERS)


def may_see_line(entry: RegisterEntry, groups=None) -> bool:
    """Whether the entry's line shows in the user's register (maybe masked)."""
    return sees_whole_register(groups) or entry.department in own_departments(groups)


def may_read_entry(entry: RegisterEntry, groups=None) -> bool:
    """Whether the user may read the entry itself: its page, its files, its case."""
    if entry.confidential:
        return reads_all_confidential(groups) or entry.department in own_departments(groups)
    return may_see_line(entry, groups)


def readable_entry(entry_id: int) -> RegisterEntry:
    """The entry, or 404/403: call first in any handler that shows an entry. A read
    (GET) of a confidential entry is recorded before anything is shown."""
    entry = db.get_or_404(RegisterEntry, entry_id)
    if not may_read_entry(entry):
        abort(403)
    if entry.confidential and request.method in ("GET", "HEAD"):
        record_confidential_read(entry, request.path)
    return entry


def record_confidential_read(entry: RegisterEntry, what: str) -> None:
    """The audit event of one read of a confidential entry (inside a GET: in a
    transaction of its own, committed before the content leaves)."""
    with write_transaction():
        record_event(db.session, g.user.username, "registry.confidential_read",
                     object_ref=f"entry:{entry.id}",
                     summary=f"{entry.label}: {what}"[:1000],
                     after={"entry": entry.id, "label": entry.label, "read": what[:300],
                            "confidential": True})


class MaskedEntry:
    """An entry as an overseer sees a confidential one: the register's line with its
    personal fields replaced. Read-only; everything else comes from the entry."""

    masked = True

    def __init__(self, entry: RegisterEntry):
        self._entry = entry

    def __getattr__(self, name):
        if name in MASKED_FIELDS:
            if name == "sender_date":
                return None
            return _("confidențial") if name in ("sender_name", "summary") else ""
        return getattr(self._entry, name)


def shown(entry: RegisterEntry, groups=None):
    """The entry itself when the user may read it, else its masked line."""
    return entry if may_read_entry(entry, groups) else MaskedEntry(entry)


def visible_entries(stmt, groups=None):
    """Narrow a `select(RegisterEntry)` to the lines the user's register shows."""
    if sees_whole_register(groups):
        return stmt
    return stmt.where(RegisterEntry.department.in_(sorted(own_departments(groups))))


def readable_condition(groups=None):
    """SQL: the entries the user may read (None: all of those they see). Used where a
    search over personal fields (the sender) must not reveal a confidential entry."""
    if reads_all_confidential(groups):
        return None
    hidden = RegisterEntry.confidential.is_(True)
    mine = sorted(own_departments(groups))
    if mine:
        hidden = and_(hidden, RegisterEntry.department.not_in(mine))
    return not_(hidden)


def search_scope(groups=None) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """(allowed departments, departments whose confidential entries may be found) for
    the archive search; None means no limit."""
    allowed = None if sees_whole_register(groups) else frozenset(own_departments(groups))
    confidential = None if reads_all_confidential(groups) else frozenset(own_departments(groups))
    return allowed, confidential
