"""Allocating register numbers.

The number is taken inside the caller's transaction by one statement that creates the
register's counter for the year at 1, or increments it, and hands back the new value;
the entry row is inserted right after. The counter row stays locked until the
transaction ends, so concurrent registrations in the same register and year queue on
it, and a rolled-back registration gives its number back. There are never gaps or
duplicates, and numbering restarts each 1 January (a new counter row per year).

Because everyone in a register queues on that lock, the number is taken as late as
possible: the register lookup, the caller's pending changes and the entry's values are
all dealt with first, so the lock covers two short statements and the commit.
See docs/registry.md, "Numbering under load".
"""
import secrets
from datetime import date

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from .models import Register, RegisterCounter, RegisterEntry


class RegistryError(Exception):
    pass


def format_number(prefix: str, number: int, on: date) -> str:
    return f"{prefix}{number}/{on.strftime('%d.%m.%Y')}"


def new_access_code() -> str:
    """Quoted with the number on the public status page: eight characters a citizen
    can type, without 0/O or 1/I/L to confuse."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


_ENTRY = RegisterEntry.__table__
_COUNTER = RegisterCounter.__table__
# Set by the register itself, never by the caller.
_OWN = frozenset({"id", "register_id", "year", "number", "registered_on", "registered_by"})
_FIELDS = frozenset(_ENTRY.columns.keys()) - _OWN
# Statements built once: building and cache-keying them costs more than running them.
_REGISTER_BY_CODE = select(Register).where(Register.code == bindparam("code"))
_INSERT_ENTRY = insert(_ENTRY)
_COUNTER_KEY = {"register_id": bindparam("register_id"), "year": bindparam("year")}
_COUNTER_UPSERTS = {
    # LAST_INSERT_ID(x) makes the server report x with the statement's result, so the
    # number comes back without a second query, for a new year's row and an old one.
    "mysql": mysql_insert(_COUNTER).values(**_COUNTER_KEY, last_number=func.last_insert_id(1))
    .on_duplicate_key_update(last_number=func.last_insert_id(_COUNTER.c.last_number + 1)),
    **{name: upsert(_COUNTER).values(**_COUNTER_KEY, last_number=1).on_conflict_do_update(
        index_elements=["register_id", "year"], set_={"last_number": _COUNTER.c.last_number + 1})
        .returning(_COUNTER.c.last_number)
       for name, upsert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))},
}


def _entry_defaults() -> tuple[dict, dict]:
    """The model's column defaults, so that the entry row is written with every column
    and the returned object needs no reload."""
    fixed, computed = {}, {}
    for column in _ENTRY.columns:
        if column.key in _OWN or (column.default is None and column.server_default is not None):
            continue
        if column.default is None:
            fixed[column.key] = None
        elif column.default.is_callable:
            computed[column.key] = column.default.arg
        else:
            fixed[column.key] = column.default.arg
    return fixed, computed


_FIXED_DEFAULTS, _COMPUTED_DEFAULTS = _entry_defaults()


def _take_number(connection, register_id: int, year: int) -> int:
    """The register's next number for the year; locks its counter until the end of the
    transaction."""
    name = "mysql" if connection.dialect.name in ("mysql", "mariadb") else connection.dialect.name
    upsert = _COUNTER_UPSERTS.get(name)
    if upsert is None:
        raise RegistryError(f"Numerotarea nu este implementată pentru {connection.dialect.name}.")
    result = connection.execute(upsert, {"register_id": register_id, "year": year})
    return result.lastrowid if name == "mysql" else result.scalar_one()


def register_document(session: Session, register_code: str, on: date, actor: str | None,
                      **fields) -> RegisterEntry:
    """Give the document the next number of the register and record its entry.

    Runs in the caller's transaction; the caller commits (or rolls back, and the number
    is given back)."""
    for name in fields:
        if name in _OWN:
            raise RegistryError(f"Câmpul «{name}» nu se completează: îl stabilește registrul.")
    unknown = set(fields) - _FIELDS
    if unknown:
        raise RegistryError(f"Câmpuri necunoscute în registru: {', '.join(sorted(unknown))}")
    # The ORM query also flushes the caller's pending changes: before the lock, not under it.
    register = session.execute(_REGISTER_BY_CODE, {"code": register_code}).scalar_one_or_none()
    if register is None:
        raise RegistryError(f"Registrul «{register_code}» nu există.")
    values = {**_FIXED_DEFAULTS, **{k: make(None) for k, make in _COMPUTED_DEFAULTS.items()},
              **fields, "register_id": register.id, "year": on.year, "registered_on": on,
              "registered_by": actor}
    if not values["access_code"]:
        values["access_code"] = new_access_code()
    entry = RegisterEntry(**values)
    entry.register = register
    connection = session.connection()

    entry.number = _take_number(connection, register.id, on.year)   # the lock starts here
    entry.id = connection.execute(_INSERT_ENTRY, {**values, "number": entry.number}
                                  ).inserted_primary_key[0]
    # The row is written: attach the object to the session as if it had been loaded.
    make_transient_to_detached(entry)
    session.add(entry)
    return entry
