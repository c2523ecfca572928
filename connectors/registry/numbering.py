"""Allocating register numbers.

The number is taken inside the caller's transaction by one statement that creates the
register's counter for the year at 1, or increments it, and hands back the new value;
the entry row is inserted right after. The counter row stays locked until the
transaction ends, so concurrent registrations in the same register and year queue on
it, and a rolled-back registration gives its number back. There are never gaps or
duplicates, and numbering restarts each 1 January (a new counter row per year).

Everyone registering in a register queues on that lock, so it is taken as late as
possible: the register lookup, the caller's pending changes and the entry's values are
dealt with first, and under the lock only the entry's INSERT and the commit remain.
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
_UPSERTS = {
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


class _PyMySQLWriter:
    """MariaDB through PyMySQL: the entry's INSERT is rendered (escaped by the driver,
    as always) before the counter is touched, and takes its number from the counter
    statement with LAST_INSERT_ID(). Under the lock, no Python work is left but sending
    one ready string; the lock is held for two round trips and the commit. (These two
    statements go straight to the driver, so SQLAlchemy's statement log does not show
    them.)"""

    _COLUMNS = [c for c in _ENTRY.columns if c.key not in ("id", "number")]
    _INSERT = (f"INSERT INTO {_ENTRY.name} ({', '.join(f'`{c.name}`' for c in _COLUMNS)}, "
               f"`number`) VALUES ({', '.join(f'%({c.key})s' for c in _COLUMNS)}, "
               "LAST_INSERT_ID())")
    _UPSERT = (f"INSERT INTO {_COUNTER.name} (register_id, year, last_number) "
               "VALUES (%s, %s, LAST_INSERT_ID(1)) "
               "ON DUPLICATE KEY UPDATE last_number = LAST_INSERT_ID(last_number + 1)")

    def __init__(self, dialect):
        # The same value conversions SQLAlchemy applies before handing values to the driver.
        self.processors = {c.key: p for c in _ENTRY.columns if (
            p := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None}

    def write(self, connection, values: dict) -> tuple[int, int]:
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            row = {c.key: values[c.key] for c in self._COLUMNS}
            for key, process in self.processors.items():
                if key in row:
                    row[key] = process(row[key])
            ready = cursor.mogrify(self._INSERT, row)
            cursor.execute(self._UPSERT, (values["register_id"], values["year"]))
            number = cursor.lastrowid                   # the lock starts here
            cursor.execute(ready)
            return number, cursor.lastrowid
        finally:
            cursor.close()


def _core_write(connection, values: dict) -> tuple[int, int]:
    """Any other database: the counter upsert (RETURNING the number), then the entry."""
    name = "mysql" if connection.dialect.name in ("mysql", "mariadb") else connection.dialect.name
    upsert = _UPSERTS.get(name)
    if upsert is None:
        raise RegistryError(f"Numerotarea nu este implementată pentru {connection.dialect.name}.")
    result = connection.execute(upsert, {"register_id": values["register_id"],
                                         "year": values["year"]})
    number = result.lastrowid if name == "mysql" else result.scalar_one()   # the lock starts here
    result = connection.execute(_INSERT_ENTRY, {**values, "number": number})
    return number, result.inserted_primary_key[0]


_writers: dict = {}


def _writer(dialect):
    if dialect.driver != "pymysql":
        return _core_write
    kind = type(dialect)
    if kind not in _writers:
        _writers[kind] = _PyMySQLWriter(dialect).write
    return _writers[kind]


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
    # An ORM query: it also flushes the caller's pending changes, before the lock.
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
    entry.number, entry.id = _writer(connection.dialect)(connection, values)
    # The row is written: attach the object to the session as if it had been loaded.
    make_transient_to_detached(entry)
    session.add(entry)
    return entry
