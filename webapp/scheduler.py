"""The in-process scheduler: fires due timers and hands absent people's tasks over.

It runs inside `dosar serve` (and `dosar scheduler` for a process of its own).
Its first tick runs at start-up, so timers that fell due while the application was
stopped fire then. Running it in several processes at once is safe: each timer is
claimed under a row lock and marked fired in the transaction that fires it.
"""
import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

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


def start(app) -> BackgroundScheduler | None:
    interval = app.config["TIMER_INTERVAL_SECONDS"]
    if interval <= 0:
        return None
    scheduler = BackgroundScheduler(timezone=LOCAL_TZ)
    scheduler.add_job(tick, "interval", args=[app], seconds=interval, id="timers",
                      next_run_time=datetime.now(LOCAL_TZ), max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
