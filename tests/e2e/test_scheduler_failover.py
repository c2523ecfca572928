"""Killing the scheduler leader: the next deadline still fires once. Two real
`dosar scheduler` processes share a database; one leads, it is SIGKILLed before a
timer falls due, the other takes the lease over once it expires and fires the timer —
once. On both databases."""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
TTL = 3
pytestmark = pytest.mark.slow


def start_scheduler(env: dict, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from webapp.cli import main; main()", "scheduler"],
        env=env, cwd=ROOT, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds}s: {what}")


def test_killing_the_leader_the_next_deadline_still_fires_once(database_url, tmp_path):
    from connectors.db import utcnow
    from connectors.jobs.models import SchedulerLease
    from engine import runtime
    from engine.models import AuditEvent
    from engine.models_sla import Notification, Timer
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOSAR_DATABASE_URL": database_url,
           "DOSAR_DATA_DIR": str(tmp_path), "DOSAR_TIMER_INTERVAL_SECONDS": "0.5",
           "DOSAR_LEADER_TTL_SECONDS": str(TTL)}
    subprocess.run([sys.executable, "-c", "from webapp.cli import main; main()", "demo",
                    "--no-serve"], env=env, cwd=ROOT, check=True, capture_output=True)
    engine = create_engine(database_url)

    def lease():
        with Session(engine) as s:
            row = s.get(SchedulerLease, "scheduler")
            return row.holder, row.term

    logs = [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"]
    procs = [start_scheduler(env, log) for log in logs]
    try:
        holder, term = wait_for(lambda: lease()[0] and lease(), 60, "a leader")
        pid = int(holder.split(":")[1])
        leader = next(p for p in procs if p.pid == pid)
        follower = next(p for p in procs if p.pid != pid)
        time.sleep(TTL)                # a few renewals: still the same leader, same term
        assert lease() == (holder, term)

        with Session(engine) as session:
            instance = runtime.start_instance(
                session, "petition", {"sender_name": "Ana Pop", "summary": "Iluminat stradal",
                                      "department": "relatii-publice"},
                runtime.Actor("registratura", frozenset({"registratura"})))
            due_at = (utcnow() + timedelta(seconds=3)).replace(microsecond=0)
            session.add(Timer(instance_id=instance.id, kind="escalation", due_at=due_at,
                              payload_json="{}"))
            session.commit()
            instance_id = instance.id

        def state():
            with Session(engine) as s:
                fired = s.execute(select(Timer.fired_at).where(
                    Timer.instance_id == instance_id, Timer.due_at == due_at)).scalar_one()
                notes = s.execute(select(func.count()).select_from(Notification).where(
                    Notification.instance_id == instance_id,
                    Notification.kind == "escalation")).scalar_one()
                audits = s.execute(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.instance_id == instance_id,
                    AuditEvent.action == "deadline.escalated")).scalar_one()
                return fired, notes, audits

        leader.send_signal(signal.SIGKILL)            # before the timer is due
        leader.wait(timeout=30)
        killed_at = time.monotonic()
        assert state() == (None, 0, 0)

        new_holder, new_term = wait_for(lambda: lease()[0] != holder and lease(), TTL + 5,
                                        "the follower taking the lease over")
        assert time.monotonic() - killed_at <= TTL + 5
        assert int(new_holder.split(":")[1]) == follower.pid and new_term == term + 1
        wait_for(lambda: state()[0], 30, "the escalation firing")
        time.sleep(1.5)                                # several more ticks: nothing more
        fired, notes, audits = state()
        assert fired is not None and fired >= due_at
        assert (notes, audits) == (1, 1)
        follower_log = logs[procs.index(follower)].read_text()
        assert "leads now" in follower_log

        follower.send_signal(signal.SIGTERM)           # a clean stop gives the lease up
        assert follower.wait(timeout=30) == 0
        assert lease() == (None, new_term)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        engine.dispose()
