"""The in-process scheduler: fires due timers, hands absent people's tasks over, and
runs background jobs (OCR, indexing, scan batches).

It runs inside `dosar serve` (and `dosar timers --watch` for a process of its own).
Its first tick runs at start-up, so timers that fell due while the application was
stopped fire then. Running it in several processes at once is safe: each timer is
claimed under a row lock and marked fired in the transaction that fires it, and each
job is claimed by one worker (connectors/jobs/queue.py).
"""
import logging
import os
import socket
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from connectors.jobs.queue import run_pending
from engine.substitution import hand_over_absent_tasks
from engine.timers import LOCAL_TZ, local_today
from engine.wakeup import fire_due_timers

from .database import db

log = logging.getLogger(__name__)


def tick(app) -> list:
    """One pass: fire what is due, move tasks of people absent today."""
    with app.app_context():
        try:
            fired = fire_due_timers(db.session)
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


def worker_name(role: str) -> str:
    """Who holds a job's lease: shown by `dosar archive jobs` while it runs."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"[:100]


def start(app) -> BackgroundScheduler | None:
    timers = app.config["TIMER_INTERVAL_SECONDS"]
    jobs = app.config.get("JOB_INTERVAL_SECONDS", 0)
    if timers <= 0 and jobs <= 0:
        return None
    scheduler = BackgroundScheduler(timezone=LOCAL_TZ)
    now = datetime.now(LOCAL_TZ)
    if timers > 0:
        scheduler.add_job(tick, "interval", args=[app], seconds=timers, id="timers",
                          next_run_time=now, max_instances=1, coalesce=True)
    if jobs > 0:
        # One run at a time in this process: a long OCR delays the next tick, it
        # never stacks a second one beside it (dedicated workers add parallelism).
        scheduler.add_job(run_jobs, "interval", args=[app], seconds=jobs, id="jobs",
                          next_run_time=now, max_instances=1, coalesce=True)
        # The scan station's folder is looked at by the process that runs archive jobs.
        from webapp.archive.views_scans import SCAN_POLL_SECONDS, poll_scan_folder
        every = app.config.get("SCAN_POLL_SECONDS") or SCAN_POLL_SECONDS
        scheduler.add_job(poll_scan_folder, "interval", args=[app], seconds=every,
                          id="scan-folder", next_run_time=now, max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
