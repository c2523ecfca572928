"""Login throttling: too many failed attempts lock an account (and an address) for a
while, whatever password comes next. Failures are rows, so every web process and
every machine sees the same count."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .models import LoginFailure


def _limits():
    config = current_app.config
    return (timedelta(minutes=config["LOGIN_LOCK_MINUTES"]),
            config["LOGIN_MAX_FAILURES"], config["LOGIN_MAX_FAILURES_PER_IP"])


def locked_until(session: Session, username: str, ip: str, now: datetime) -> datetime | None:
    """When the lock on this account or address ends, or None if there is none."""
    window, per_user, per_ip = _limits()
    since = now - window
    for column, value, limit in ((LoginFailure.username, username, per_user),
                                 (LoginFailure.ip, ip, per_ip)):
        count, latest = session.execute(
            select(func.count(), func.max(LoginFailure.at))
            .where(column == value, LoginFailure.at >= since)).one()
        if count >= limit:
            return latest + window
    return None


def record_failure(session: Session, username: str, ip: str, now: datetime) -> None:
    window, _, _ = _limits()
    # Old rows are of no use any more; keep the table small.
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - 2 * window))
    session.add(LoginFailure(username=username[:100], ip=ip[:64], at=now))


def clear_failures(session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
