"""Enqueue work in the caller's transaction; workers claim and run it.

A job is enqueued in the same transaction as the change that calls for it, so a
rolled-back registration leaves no orphan job and a committed one never loses its
job. A worker claims a job (a row lock with SKIP LOCKED on MariaDB; on SQLite, a
conditional update that only one writer can win), runs its handler in a transaction
of its own and marks it done in that same transaction. Handlers must be idempotent:
a worker that dies mid-job leaves the job `running` with an old lease, and another
worker takes it again once the lease runs out.
"""
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from connectors.db import utcnow

from .models import BackgroundJob

log = logging.getLogger(__name__)

Handler = Callable[[Session, dict], None]
HANDLERS: dict[str, Handler] = {}

# A running job older than this is taken again (its worker is presumed dead). Long
# enough for OCR of a ~300-page scan; a dead worker's job waits this long.
LEASE = timedelta(minutes=30)
BACKOFF_SECONDS = 30            # 30 s, 60 s, 120 s… between attempts


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help (a recipient refused for good,
    an unreadable file): the job goes to the dead list at once, with the reason."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind`: f(session, payload)."""
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function
    return register


def enqueue(session: Session, kind: str, payload: dict | None = None, *,
            dedupe_key: str | None = None, run_after: datetime | None = None,
            max_attempts: int = 5) -> BackgroundJob | None:
    """Add a job in the caller's transaction. With a dedupe_key, a job with the same
    key still waiting makes this a no-op (returns None)."""
    if dedupe_key is not None:
        waiting = session.execute(select(BackgroundJob.id).where(
            BackgroundJob.dedupe_key == dedupe_key,
            BackgroundJob.status == "queued")).first()
        if waiting is not None:
            return None
    job = BackgroundJob(kind=kind, payload_json=json.dumps(payload or {}, sort_keys=True),
                        dedupe_key=dedupe_key, run_after=run_after or utcnow(),
                        max_attempts=max_attempts, status="queued", attempts=0)
    session.add(job)
    return job


@dataclass
class Outcome:
    job_id: int
    kind: str
    status: str      # done / queued (will retry) / dead
    error: str = ""


def _claim(session: Session, worker: str, kinds: tuple[str, ...] | None) -> int | None:
    now = utcnow()
    due = or_(BackgroundJob.status == "queued",
              (BackgroundJob.status == "running") & (BackgroundJob.locked_at < now - LEASE))
    stmt = (select(BackgroundJob.id).where(due, BackgroundJob.run_after <= now)
            .order_by(BackgroundJob.run_after, BackgroundJob.id).limit(1))
    if kinds:
        stmt = stmt.where(BackgroundJob.kind.in_(kinds))
    if session.get_bind().dialect.name in ("mysql", "mariadb"):
        stmt = stmt.with_for_update(skip_locked=True)
    for _ in range(5):
        job_id = session.execute(stmt).scalar()
        if job_id is None:
            session.rollback()
            return None
        won = session.execute(
            update(BackgroundJob).where(BackgroundJob.id == job_id, due)
            .values(status="running", locked_by=worker, locked_at=now,
                    attempts=BackgroundJob.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if won:
            return job_id
    return None


def run_next(session: Session, worker: str = "worker",
             kinds: tuple[str, ...] | None = None) -> Outcome | None:
    """Claim one due job and run it; None when nothing is due."""
    job_id = _claim(session, worker, kinds)
    if job_id is None:
        return None
    job = session.get(BackgroundJob, job_id)
    kind, payload = job.kind, json.loads(job.payload_json)
    # End the read before the handler: on SQLite an open transaction may hold the
    # write lock, and a handler can run for minutes (OCR of a long scan).
    session.rollback()
    try:
        function = HANDLERS.get(kind)
        if function is None:
            raise LookupError(f"no handler for jobs of kind {kind!r}")
        function(session, payload)
        job = session.get(BackgroundJob, job_id)
        job.status, job.finished_at, job.last_error = "done", utcnow(), ""
        session.commit()
        return Outcome(job_id, kind, "done")
    except Exception as err:           # one broken job must not stop the worker
        session.rollback()
        log.exception("job %s (%s) failed", job_id, kind)
        job = session.get(BackgroundJob, job_id)
        job.last_error = f"{type(err).__name__}: {err}"[:4000]
        job.locked_by = job.locked_at = None
        if job.attempts >= job.max_attempts or isinstance(err, PermanentJobError):
            job.status, job.finished_at = "dead", utcnow()
        else:
            job.status = "queued"
            job.run_after = utcnow() + timedelta(seconds=BACKOFF_SECONDS * 2 ** (job.attempts - 1))
        status = job.status
        session.commit()
        return Outcome(job_id, kind, status, job.last_error)


def run_pending(session: Session, worker: str = "worker", limit: int = 1000,
                kinds: tuple[str, ...] | None = None) -> list[Outcome]:
    """Run due jobs until none is left (or `limit`); what a worker tick does."""
    outcomes = []
    for _ in range(limit):
        outcome = run_next(session, worker, kinds)
        if outcome is None:
            break
        outcomes.append(outcome)
    return outcomes


def retry_dead(session: Session, job_id: int) -> bool:
    """An operator puts a dead job back in the queue after fixing its cause."""
    job = session.get(BackgroundJob, job_id)
    if job is None or job.status != "dead":
        return False
    job.status, job.attempts, job.run_after, job.finished_at = "queued", 0, utcnow(), None
    return True
