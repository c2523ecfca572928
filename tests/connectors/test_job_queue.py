"""The background job queue on SQLite and MariaDB: a job runs once however many
workers poll, failures come back later and finally stop, the same request waiting
twice is one job, and a worker that died gives its job back when its lease runs out."""
import threading
import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.db import utcnow
from connectors.jobs import queue
from connectors.jobs.models import BackgroundJob
from connectors.jobs.queue import enqueue, handler, retry_dead, run_next, run_pending

RAN: list[int] = []
LOCK = threading.Lock()


@handler("test.count")
def count_job(session, payload):
    time.sleep(0.005)             # long enough for the other worker to be polling
    with LOCK:
        RAN.append(payload["n"])


@handler("test.fail")
def failing_job(session, payload):
    raise RuntimeError("serverul de index nu răspunde")


def due_now(session, job_id):
    session.get(BackgroundJob, job_id).run_after = utcnow() - timedelta(seconds=1)
    session.commit()


def test_each_job_runs_once_with_two_workers_polling(app, session):
    from webapp.database import db
    RAN.clear()
    for n in range(24):
        enqueue(session, "test.count", {"n": n})
    session.commit()
    outcomes: dict[str, list] = {}

    def worker(name):
        with app.app_context():
            with Session(db.engine) as own:
                outcomes[name] = run_pending(own, worker=name, kinds=("test.count",))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(RAN) == list(range(24))                  # every job, none twice
    done = [o.job_id for name in outcomes for o in outcomes[name]]
    assert len(done) == len(set(done)) == 24
    statuses = session.execute(select(BackgroundJob.status)).scalars().all()
    assert set(statuses) == {"done"}


def test_a_claimed_job_is_not_claimed_by_a_second_session(app, session):
    from webapp.database import db
    job = enqueue(session, "test.count", {"n": 1})
    session.flush()
    job_id = job.id           # read now: reading it after commit opens a transaction
    session.commit()
    with Session(db.engine) as first, Session(db.engine) as second:
        assert queue._claim(first, "first", None) == job_id
        assert queue._claim(second, "second", None) is None
    assert session.get(BackgroundJob, job_id).locked_by == "first"


def test_a_failing_job_comes_back_later_then_stays_dead(session):
    job = enqueue(session, "test.fail", {"entry_id": 7}, max_attempts=3)
    session.commit()
    first = run_next(session, "w")
    assert first.status == "queued" and "nu răspunde" in first.error
    job = session.get(BackgroundJob, first.job_id)
    wait = (job.run_after - utcnow()).total_seconds()
    assert queue.BACKOFF_SECONDS - 5 <= wait <= queue.BACKOFF_SECONDS
    assert run_next(session, "w") is None                  # not due before its backoff

    due_now(session, job.id)
    second = run_next(session, "w")
    job = session.get(BackgroundJob, second.job_id)
    wait = (job.run_after - utcnow()).total_seconds()
    assert 2 * queue.BACKOFF_SECONDS - 5 <= wait <= 2 * queue.BACKOFF_SECONDS  # doubled

    due_now(session, job.id)
    third = run_next(session, "w")
    assert third.status == "dead"
    job = session.get(BackgroundJob, job.id)
    assert job.attempts == 3 and "RuntimeError" in job.last_error
    due_now(session, job.id)
    assert run_next(session, "w") is None                  # dead jobs are not run again

    assert retry_dead(session, job.id)                     # an operator puts it back
    session.commit()
    assert session.get(BackgroundJob, job.id).status == "queued"
    assert run_next(session, "w").status == "queued"       # a fresh set of attempts


def test_the_same_request_waiting_twice_is_one_job(session):
    RAN.clear()
    first = enqueue(session, "test.count", {"n": 5}, dedupe_key="index:5")
    assert enqueue(session, "test.count", {"n": 5}, dedupe_key="index:5") is None
    session.commit()
    assert enqueue(session, "test.count", {"n": 5}, dedupe_key="index:5") is None
    run_pending(session, kinds=("test.count",))
    assert RAN == [5]
    again = enqueue(session, "test.count", {"n": 5}, dedupe_key="index:5")   # after it ran
    session.commit()
    assert again is not None and again.id != first.id


def test_a_dead_workers_job_is_taken_again_after_its_lease(session):
    RAN.clear()
    job = enqueue(session, "test.count", {"n": 9})
    session.commit()
    assert queue._claim(session, "crashed", None) == job.id   # it claimed, then died
    assert run_next(session, "other") is None                  # the lease still holds
    job = session.get(BackgroundJob, job.id)
    job.locked_at = utcnow() - queue.LEASE - timedelta(seconds=1)
    session.commit()
    outcome = run_next(session, "other")
    assert outcome.status == "done" and RAN == [9]
    job = session.get(BackgroundJob, job.id)
    assert job.attempts == 2


def test_only_the_kinds_asked_for_are_run(session):
    RAN.clear()
    enqueue(session, "test.count", {"n": 1})
    fail = enqueue(session, "test.fail", {})
    session.commit()
    assert [o.kind for o in run_pending(session, kinds=("test.count",))] == ["test.count"]
    assert session.get(BackgroundJob, fail.id).status == "queued"
