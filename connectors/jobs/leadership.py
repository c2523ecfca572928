"""Exactly one scheduler leader among many processes, through a lease row.

The row `scheduler_lease(name)` says who leads and until when. A candidate takes it
with one conditional UPDATE when it is free or expired, and the holder renews it the
same way well before it expires (every ttl/3). When the holder dies its lease simply
runs out and the next candidate's UPDATE matches. `term` grows by one each time the
lease changes hands, so logs and metrics can tell one reign from the next.

Fencing: besides the row, a candidate remembers (on its own monotonic clock) until
when its last successful renewal lets it lead, counted from *before* the UPDATE was
sent. `held()` is false as soon as that moment passes, even if the process was paused
(SIGSTOP, a long GC, a frozen VM) and has not noticed yet: the leader-only duties ask
`held()` before each piece of work and renew when it runs low, so an old leader stops
rather than fire beside a new one. Timers are, besides, claimed under row locks and
marked fired in the transaction that fires them (engine/wakeup.py), so even a leader
that was paused in the middle of one cannot make it fire twice.

Clocks: expiry is compared with the candidates' wall clocks (UTC), so the machines
must keep time (NTP); a skew of s seconds shortens or lengthens a lease by s.
"""
import os
import socket
import time
import uuid
from datetime import timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.orm import Session

from connectors.db import utcnow

from .models import SchedulerLease


def default_holder() -> str:
    """host:pid:uuid — unique per process, and readable by whoever looks at the row."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class LeaderElection:
    def __init__(self, name: str = "scheduler", holder: str | None = None,
                 ttl_seconds: float = 15):
        self.name = name
        self.holder = (holder or default_holder())[:100]
        self.ttl = float(ttl_seconds)
        self.term: int | None = None          # the term of our lease, when we hold it
        self._held_until = 0.0                # time.monotonic() deadline of our lease
        self._renewed_at = 0.0

    def try_lead(self, session: Session, now=None) -> bool:
        """Take the lease if it is free or expired, or renew it if it is ours; commits.
        True while this candidate leads."""
        sent_at = time.monotonic()
        now = now or utcnow()
        lease = SchedulerLease
        mine = lease.holder == self.holder
        # Assignments in this order: MariaDB evaluates SET left to right with the new
        # values, so `holder` must change last for the CASEs to see the old holder.
        stmt = (update(lease)
                .where(lease.name == self.name,
                       or_(mine, lease.holder.is_(None), lease.expires_at.is_(None),
                           lease.expires_at < now))
                .ordered_values(
                    (lease.term, case((mine, lease.term), else_=lease.term + 1)),
                    (lease.acquired_at, case((mine, lease.acquired_at), else_=now)),
                    (lease.expires_at, now + timedelta(seconds=self.ttl)),
                    (lease.holder, self.holder))
                .execution_options(synchronize_session=False))
        try:
            taken = session.execute(stmt).rowcount == 1
            term = session.get(SchedulerLease, self.name, populate_existing=True).term \
                if taken else None
            session.commit()
        except Exception:
            session.rollback()
            self._held_until = 0.0
            raise
        if taken:
            self.term = term
            self._held_until = sent_at + self.ttl
            self._renewed_at = sent_at
        else:
            self.term, self._held_until = None, 0.0
        return taken

    def held(self) -> bool:
        """Whether our last renewal still covers this moment (no database access)."""
        return time.monotonic() < self._held_until

    def needs_renewal(self) -> bool:
        return time.monotonic() - self._renewed_at >= self.ttl / 3

    def ensure(self, session: Session) -> bool:
        """Before a piece of leader-only work: renew if a third of the lease is used
        up (or it has lapsed); True only if we still lead."""
        if self.held() and not self.needs_renewal():
            return True
        return self.try_lead(session)

    def release(self, session: Session) -> None:
        """Give the lease up (on shutdown), so another candidate need not wait for it
        to expire. The next holder bumps the term."""
        self._held_until, self.term = 0.0, None
        session.execute(update(SchedulerLease)
                        .where(SchedulerLease.name == self.name,
                               SchedulerLease.holder == self.holder)
                        .values(holder=None, expires_at=None)
                        .execution_options(synchronize_session=False))
        session.commit()
