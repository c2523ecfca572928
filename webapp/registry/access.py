"""Who may read which register entries: one rule for the register, the entry page,
its files and the archive search.

The register as a whole is for the Registratura, the mayor, the secretary and the
archivist; a department sees the entries assigned to it.
"""
from flask import abort, g

from connectors.registry.models import RegisterEntry
from webapp.database import db

OVERSEERS = frozenset({"registratura", "primar", "secretar", "admin", "arhiva"})


def sees_whole_register(groups=None) -> bool:
    return bool(set(g.user.groups if groups is None else groups) & OVERSEERS)


def own_departments(groups=None) -> set[str]:
    groups = g.user.groups if groups is None else groups
    return {code.split("-", 1)[1] for code in groups if code.startswith(("dept-", "sef-"))}


def may_read_entry(entry: RegisterEntry) -> bool:
    return sees_whole_register() or entry.department in own_departments()


def readable_entry(entry_id: int) -> RegisterEntry:
    """The entry, or 404/403: call first in any handler that shows an entry."""
    entry = db.get_or_404(RegisterEntry, entry_id)
    if not may_read_entry(entry):
        abort(403)
    return entry
