"""The job queue table. A job is claimed by one worker at a time; a failed job is
retried with backoff and, after its last attempt, stays as `dead` for an operator."""
from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from connectors.db import utcnow, Base


class BackgroundJob(Base):
    __tablename__ = "background_job"
    __table_args__ = (Index("ix_background_job_due", "status", "run_after"),
                      Index("ix_background_job_dedupe", "dedupe_key", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))        # e.g. archive.extract_text
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    # queued → running → done; or back to queued (retry) → dead after max_attempts
    status: Mapped[str] = mapped_column(String(20), default="queued")
    # A queued job with the same key is not enqueued twice (re-index an entry once).
    dedupe_key: Mapped[Optional[str]] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_by: Mapped[Optional[str]] = mapped_column(String(100))
    locked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime)


class SchedulerLease(Base):
    """Who leads a singleton duty (the scheduler) until when. The holder renews it
    well before it expires; when a holder dies, another candidate takes the expired
    lease. A duty's row exists from the migration on, so taking it is one UPDATE."""
    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[Optional[str]] = mapped_column(String(100))
    term: Mapped[int] = mapped_column(Integer, default=0)   # +1 each time it changes hands
    acquired_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    expires_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
