"""A deadline that falls due while the application is stopped fires when it starts
again — once, however many times it is restarted. Real `dosar serve` processes,
killed with SIGKILL, on both databases."""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from benchmarks._support import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def start_server(env: dict, log_path: Path) -> subprocess.Popen:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from webapp.cli import main; main()", "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/autentificare", timeout=2)
            return proc
        except requests.ConnectionError:
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_timer_due_during_downtime_fires_once_after_restart(database_url, tmp_path):
    from connectors.db import utcnow
    from engine import runtime
    from engine.models_sla import Notification, Timer
    from engine.models import AuditEvent
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOSAR_DATABASE_URL": database_url,
           "DOSAR_DATA_DIR": str(tmp_path), "DOSAR_TIMER_INTERVAL_SECONDS": "0.5"}
    subprocess.run([sys.executable, "-c", "from webapp.cli import main; main()", "demo",
                    "--no-serve"], env=env, cwd=ROOT, check=True, capture_output=True)
    engine = create_engine(database_url)
    with Session(engine) as session:
        instance = runtime.start_instance(
            session, "petition", {"sender_name": "Ana Pop", "summary": "Iluminat stradal",
                                  "department": "relatii-publice"},
            runtime.Actor("registratura", frozenset({"registratura"})))
        # The legal term's escalation, moved to a few seconds from now.
        due_at = (utcnow() + timedelta(seconds=4)).replace(microsecond=0)   # DATETIME(0)
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

    log = tmp_path / "server.log"
    first = start_server(env, log)
    kill(first)                                  # stopped before the timer is due
    assert state() == (None, 0, 0)
    while utcnow() < due_at + timedelta(seconds=1):
        time.sleep(0.2)                          # it falls due while nothing runs

    second = start_server(env, log)
    deadline = time.monotonic() + 30
    while state()[0] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    kill(second)
    fired, notes, audits = state()
    assert fired is not None and fired >= due_at
    assert (notes, audits) == (1, 1)

    third = start_server(env, log)               # and again: it does not fire twice
    time.sleep(2)
    kill(third)
    assert state() == (fired, 1, 1)
    engine.dispose()
