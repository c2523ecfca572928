"""Allocating register numbers.

The number is taken inside the caller's transaction by incrementing the register's
counter row for the year: the write locks that row until commit, so concurrent
registrations queue on it and a rolled-back registration gives its number back.
There are never gaps or duplicates.
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import Register, RegisterCounter, RegisterEntry


class RegistryError(Exception):
    pass


def format_number(prefix: str, number: int, on: date) -> str:
    return f"{prefix}{number}/{on.strftime('%d.%m.%Y')}"


def _next_number(session: Session, register: Register, year: int) -> int:
    """One atomic upsert: creates the year's counter at 1 or increments it. The row
    stays locked until commit, so concurrent registrations queue on it."""
    values = {"register_id": register.id, "year": year, "last_number": 1}
    bump = {"last_number": RegisterCounter.last_number + 1}
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        statement = mysql_insert(RegisterCounter).values(**values).on_duplicate_key_update(**bump)
    elif dialect in ("sqlite", "postgresql"):
        upsert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = upsert(RegisterCounter).values(**values).on_conflict_do_update(
            index_elements=["register_id", "year"], set_=bump)
    else:
        raise RegistryError(f"Numerotarea nu este implementată pentru {dialect}.")
    session.execute(statement)
    return session.execute(
        select(RegisterCounter.last_number)
        .where(RegisterCounter.register_id == register.id, RegisterCounter.year == year)
    ).scalar_one()


def register_document(session: Session, register_code: str, on: date, actor: str | None,
                      **fields) -> RegisterEntry:
    """Give the document the next number of the register and record its entry."""
    register = session.execute(
        select(Register).where(Register.code == register_code)).scalar_one_or_none()
    if register is None:
        raise RegistryError(f"Registrul «{register_code}» nu există.")
    known = set(RegisterEntry.__table__.columns.keys())
    unknown = set(fields) - known
    if unknown:
        raise RegistryError(f"Câmpuri necunoscute în registru: {', '.join(sorted(unknown))}")
    number = _next_number(session, register, on.year)
    entry = RegisterEntry(register=register, year=on.year, number=number, registered_on=on,
                          registered_by=actor, **fields)
    session.add(entry)
    session.flush()
    return entry
