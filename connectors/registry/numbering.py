"""Allocating register numbers.

The number is taken inside the caller's transaction by incrementing the register's
counter row for the year: the UPDATE locks that row until commit, so concurrent
registrations queue on it and a rolled-back registration gives its number back.
There are never gaps or duplicates.
"""
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import Register, RegisterCounter, RegisterEntry


class RegistryError(Exception):
    pass


def format_number(prefix: str, number: int, on: date) -> str:
    return f"{prefix}{number}/{on.strftime('%d.%m.%Y')}"


def _next_number(session: Session, register: Register, year: int) -> int:
    bumped = session.execute(
        update(RegisterCounter)
        .where(RegisterCounter.register_id == register.id, RegisterCounter.year == year)
        .values(last_number=RegisterCounter.last_number + 1)
    ).rowcount
    if not bumped:
        # First registration of the year: create the counter. A concurrent first
        # registration fails on the primary key and its transaction is retried.
        session.add(RegisterCounter(register_id=register.id, year=year, last_number=1))
        session.flush()
        return 1
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
