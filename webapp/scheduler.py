"""The in-process scheduler: fires due timers, hands absent people's tasks over, looks
at the scan folder, and runs background jobs (OCR, indexing, scan batches).

Background jobs run in every process that starts it (`dosar serve`, `dosar timers
--watch`): each job is claimed by one worker (connectors/jobs/queue.py). The other
duties are the leader's: every process is a candidate, tries for the scheduler lease
every ttl/3 seconds (connectors/jobs/leadership.py), and only the one holding it fires
timers, hands tasks over, polls the scan folder and makes the nightly backup.
`dosar scheduler` is a candidate with no jobs of its own. The first tick runs as soon as a candidate leads,
so timers that fell due while nothing ran fire then. Even two leaders at once could
not fire a timer twice: each is claimed under a row lock and marked fired in the
transaction that fires it.
"""
import logging
import os
import socket
import threading
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from connectors.jobs.leadership import LeaderElection
from connectors.jobs.queue import run_pending
from engine.substitution import hand_over_absent_tasks
from engine.timers import LOCAL_TZ, local_today
from engine.wakeup import fire_due_timers

from .database import db

log = logging.getLogger(__name__)
MAX_TIMERS_PER_TICK = 500

# The candidate of this process, if it runs one (read by /metrics).
current: "Candidate | None" = None


class Candidate:
    """This process's bid for the scheduler lease, and what it does while it leads."""

    def __init__(self, app, holder: str | None = None):
        self.app = app
        self.election = LeaderElection("scheduler", holder,
                                       app.config.get("LEADER_TTL_SECONDS", 15))
        self.leading = False
        self._lock = threading.Lock()
        self.ticking = threading.Lock()       # one tick at a time, whoever starts it

    def campaign(self) -> bool:
        """One attempt: take or renew the lease; logs when leadership changes."""
        with self.app.app_context():
            try:
                with self._lock:
                    return self._note(self.election.try_lead(db.session))
            except Exception:
                log.exception("scheduler lease: the database did not answer")
                return self._note(False)
            finally:
                db.session.remove()

    def ensure(self, session) -> bool:
        """Before leader-only work: still leading (renewing if due)?"""
        with self._lock:
            return self._note(self.election.ensure(session))

    def _note(self, leading: bool) -> bool:
        if leading and not self.leading:
            log.info("scheduler: %s leads now (term %s)", self.election.holder,
                     self.election.term)
        elif self.leading and not leading:
            log.warning("scheduler: %s is no longer the leader", self.election.holder)
        self.leading = leading
        return leading

    def resign(self) -> None:
        with self.app.app_context():
            try:
                with self._lock:
                    self.election.release(db.session)
                if self.leading:
                    log.info("scheduler: %s gave the lease up", self.election.holder)
                self.leading = False
            except Exception:
                log.exception("scheduler lease: could not give it up (it will expire)")
            finally:
                db.session.remove()


def tick(app, candidate: Candidate | None = None) -> list:
    """One pass: fire what is due, move tasks of people absent today. With a
    candidate, only while it holds the lease: checked at the start, and again (renewing
    it) before each timer, so a leader that lost the lease mid-tick stops there."""
    if candidate is not None and not candidate.ticking.acquire(blocking=False):
        return []                     # a tick is on already (the new leader's first)
    try:
        return _tick(app, candidate)
    finally:
        if candidate is not None:
            candidate.ticking.release()


def _tick(app, candidate: Candidate | None) -> list:
    with app.app_context():
        try:
            if candidate is not None and not candidate.ensure(db.session):
                return []
            fired = []
            while len(fired) < MAX_TIMERS_PER_TICK:
                if candidate is not None and fired and not candidate.ensure(db.session):
                    break
                one = fire_due_timers(db.session, limit=1)
                if not one:
                    break
                fired.extend(one)
            if candidate is None or candidate.ensure(db.session):
                if hand_over_absent_tasks(db.session, local_today()):
                    db.session.commit()
                else:
                    db.session.rollback()
            for item in fired:
                log.info("timer %s (%s) of instance %s: %s", item.timer_id, item.kind,
                         item.instance_id, item.outcome)
            return fired
        finally:
            db.session.remove()


def run_jobs(app) -> list:
    """Run the background jobs that are due, until none is left."""
    with app.app_context():
        try:
            outcomes = run_pending(db.session, worker=worker_name("serve"))
            for outcome in outcomes:
                log.info("job %s (%s): %s %s", outcome.job_id, outcome.kind, outcome.status,
                         outcome.error)
            return outcomes
        finally:
            db.session.remove()


def poll_scans(app, candidate: Candidate) -> None:
    from webapp.archive.views_scans import poll_scan_folder
    with app.app_context():
        try:
            leading = candidate.ensure(db.session)
        finally:
            db.session.remove()
    if leading:
        poll_scan_folder(app)


def worker_name(role: str) -> str:
    """Who holds a job's lease: shown by `dosar archive jobs` while it runs."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"[:100]


def start(app, with_jobs: bool = True) -> BackgroundScheduler | None:
    """Start this process's scheduler: background jobs (unless `with_jobs` is False or
    their interval is 0) and a candidate for the leader's duties (unless the timer
    interval is 0)."""
    global current
    timers = app.config["TIMER_INTERVAL_SECONDS"]
    jobs = app.config.get("JOB_INTERVAL_SECONDS", 0) if with_jobs else 0
    if timers <= 0 and jobs <= 0:
        return None
    scheduler = BackgroundScheduler(timezone=LOCAL_TZ)
    now = datetime.now(LOCAL_TZ)
    if timers > 0:
        candidate = current = Candidate(app)
        scheduler.candidate = candidate
        every = max(candidate.election.ttl / 3, 0.2)

        def campaign():
            was = candidate.leading
            if candidate.campaign() and not was:
                # A new leader fires at once what fell due while nobody led. (Here,
                # not through the scheduler: shutdown() holds its lock while waiting
                # for this job, so asking it to reschedule could deadlock.)
                tick(app, candidate)
        scheduler.add_job(campaign, "interval", seconds=every, id="leadership",
                          next_run_time=now, max_instances=1, coalesce=True)
        scheduler.add_job(tick, "interval", args=[app, candidate], seconds=timers,
                          id="timers", next_run_time=now, max_instances=1, coalesce=True)
        # The scan station's folder: looked at by the leader only, so two processes
        # never race for the same file.
        from webapp.archive.views_scans import SCAN_POLL_SECONDS
        scan_every = app.config.get("SCAN_POLL_SECONDS") or SCAN_POLL_SECONDS
        scheduler.add_job(poll_scans, "interval", args=[app, candidate], seconds=scan_every,
                          id="scan-folder", next_run_time=now, max_instances=1,
                          coalesce=True)
        # The nightly backup (webapp/ops/backup.py), by the leader only; a night
        # missed by less than an hour (a restart at that moment) still runs.
        if app.config.get("BACKUP_HOUR") is not None:
            from webapp.ops.backup import scheduled_backup
            scheduler.add_job(scheduled_backup, "cron", args=[app, candidate],
                              hour=app.config["BACKUP_HOUR"], minute=0, id="backup",
                              max_instances=1, coalesce=True, misfire_grace_time=3600)
        # The audit trail's hash chain (webapp/audit/sealing.py), by the leader only.
        if app.config.get("AUDIT_SEAL_SECONDS", 60) > 0:
            from webapp.audit.sealing import scheduled_seal
            scheduler.add_job(scheduled_seal, "interval", args=[app, candidate],
                              seconds=app.config.get("AUDIT_SEAL_SECONDS", 60),
                              id="audit-seal", max_instances=1, coalesce=True)
    if jobs > 0:
        # One run at a time in this process: a long OCR delays the next tick, it
        # never stacks a second one beside it (dedicated workers add parallelism).
        scheduler.add_job(run_jobs, "interval", args=[app], seconds=jobs, id="jobs",
                          next_run_time=now, max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler


def stop(scheduler: BackgroundScheduler | None) -> None:
    """Stop the scheduler and give the lease up, for a quick hand-over."""
    if scheduler is None:
        return
    scheduler.shutdown(wait=True)
    candidate = getattr(scheduler, "candidate", None)
    if candidate is not None:
        candidate.resign()
