"""Crash safety: kill processes at random while people work, prove nothing is lost or
done twice.

On a fresh MariaDB database (`dosar_bench_crash`) with the demo town hall, the run
starts two web processes (`dosar serve`, serving only), two job workers (`dosar
worker`) and two scheduler candidates. Client threads register petitions at the desk
and claim and complete their first task, alternating between the two web processes;
a feeder starts small cases whose diagram waits a few seconds on a timer, so timers
keep falling due; every registration enqueues an index job. Meanwhile a killer sends
SIGKILL to a random process every 0.3–1 s (workers and schedulers more often than
web processes) and restarts it after a short pause. After `--kills` kills it stops
killing, restarts whatever is down, waits until every due timer fired and the queue
is empty, stops everything and checks the database (benchmarks/_crash_checks.py).

    dosar bench crash [--quick] [--kills 200] [--clients 6] [--keep]

Prints JSON; all of registrations' `gaps`, `duplicates`, `lost_tasks`,
`half_completed_instances`, `timers_fired_twice`, `timers_missed` and `jobs_lost`
must be 0 (exit 1 otherwise; `problems` then says which rows).
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import (ROOT, drop_mariadb_database, free_port,  # noqa: E402
                                 fresh_mariadb_database, login)

DATABASE = "dosar_bench_crash"
# The scheduler candidate: `dosar scheduler` (leader-elected through `scheduler_lease`);
# a tree without it runs `dosar timers --watch` (every candidate fires timers).
SCHEDULER_COMMAND = (["scheduler"] if (ROOT / "webapp/ops/commands_scheduler.py").exists()
                     else ["timers", "--watch"])
LEADER_TTL_SECONDS = "6"     # a dead leader is replaced within this
KILL_WEIGHTS = {"scheduler": 6, "worker": 3, "web": 2}   # among those that may die now
LEADER_SHARE = 0.6        # of scheduler kills, how many aim at the current leader
WAITING_PROCEDURE = "crash_waiting"
DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="crash_waiting" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Trei secunde">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT3S"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="after" name="După așteptare"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
PETITION = {"procedura": "petition", "sender_name": "Gheorghe Ionescu",
            "sender_address": "Str. Lungă nr. 3", "sender_email": "g.ionescu@example.ro",
            "pages": "2", "summary": "Solicită repararea iluminatului public pe strada Lungă.",
            "department": "relatii-publice"}
ASSIGNMENT = {"assignment_decision": "repartizat", "assigned_clerk": "functionar.relatii",
              "instructions": "Verificați cu serviciul tehnic."}
REGISTERED = re.compile(r"/registratura/(\d+)/inregistrat$")
OPEN_TASK = re.compile(r'data-task-id="(\d+)">\s*<td><a href="/sarcini/\d+">Repartizare')


def dosar(env: dict, *args, log=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from webapp.cli import main; main()", *args],
                            env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)


class Process:
    """One of the six: its command, started again under the same name after a kill."""

    def __init__(self, role: str, name: str, args: list[str], env: dict, logs: Path):
        self.role, self.name, self.args, self.env = role, name, args, env
        self.log = open(logs / f"{name}.log", "ab")
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.log_offset = os.path.getsize(self.log.name)
                self.proc = dosar(self.env, *self.args, log=self.log)

    def ready(self, base: str | None) -> bool:
        """Up and working: a web process answers, a worker or scheduler has said it
        runs (killing one still starting up would test nothing)."""
        if self.pid is None:
            return False
        if base is not None:
            return answers(base)
        with open(self.log.name, "rb") as log:
            log.seek(self.log_offset)
            said = log.read()
        return any(word.encode() in said for word in ("rulează", "candidează"))

    def kill(self) -> bool:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                return False
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            return True

    def stop(self) -> None:
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.entries: set[int] = set()
        self.tasks: set[int] = set()
        self.ok = self.failed = 0
        self.failures: Counter = Counter()

    def add(self, ok: bool, entry: int | None = None, task: int | None = None,
            why: str = "") -> None:
        with self.lock:
            if ok:
                self.ok += 1
            else:
                self.failed += 1
                self.failures[why] += 1
            if entry is not None:
                self.entries.add(entry)
            if task is not None:
                self.tasks.add(task)


def client_loop(bases: list[str], tally: Tally, stop: threading.Event, seed: int) -> None:
    """A desk clerk and a department head sharing a terminal: register, then assign."""
    import requests
    rng = random.Random(seed)
    sessions: dict[str, tuple] = {}

    def session_of(user):
        if user not in sessions:
            sessions[user] = login(base, user, "demo1234")
        return sessions[user]

    down_until = {b: 0.0 for b in bases}

    def pick() -> str:
        up = [b for b in bases if down_until[b] < time.monotonic()]
        return rng.choice(up or bases)

    while not stop.is_set():
        base = pick()
        user = "registratura" if rng.random() < 0.55 else "sef.relatii"
        try:
            client, token = session_of(user)
            if user == "registratura":
                response = client.post(base + "/registratura/nou",
                                       data={**PETITION, "csrf_token": token},
                                       allow_redirects=False, timeout=20)
                found = REGISTERED.search(response.headers.get("Location", ""))
                tally.add(bool(found), entry=int(found.group(1)) if found else None,
                          why=f"register {response.status_code}")
                continue
            ids = OPEN_TASK.findall(client.get(base + "/?view=group", timeout=20).text)
            if not ids:
                time.sleep(0.2)
                continue
            task_id = int(rng.choice(ids[:20]))
            base = pick()
            claimed = client.post(f"{base}/sarcini/{task_id}/preia", data={"csrf_token": token},
                                  allow_redirects=False, timeout=20)
            if claimed.status_code != 302:
                tally.add(False, why=f"claim {claimed.status_code}")
                continue
            done = client.post(f"{base}/sarcini/{task_id}/finalizeaza",
                               data={**ASSIGNMENT, "csrf_token": token},
                               allow_redirects=False, timeout=20)
            success = done.status_code == 302 and done.headers["Location"].rstrip("/") in ("", base)
            tally.add(success, task=task_id if success else None,
                      why=f"complete {done.status_code}")
        except (requests.RequestException, AttributeError) as err:
            # The web process died under us: count it, try again (the session cookie
            # is good on both). A login that failed half-way is done again.
            tally.add(False, why=type(err).__name__)
            if isinstance(err, requests.ConnectionError):
                down_until[base] = time.monotonic() + 3     # the other one meanwhile
            if isinstance(err, AttributeError):
                sessions.pop(user, None)
            time.sleep(0.2)


class Started(list):
    reindexed: list


def feeder_loop(app, stop: threading.Event, started: Started) -> None:
    """Cases that wait three seconds on a diagram timer, so timers keep falling due,
    and an entry's index rebuilt now and then, so the workers always have jobs."""
    from sqlalchemy import func, select

    from archive.documents import request_reindex
    from connectors.registry.models import RegisterEntry
    from engine import runtime
    from webapp.database import db
    reindexed = started.reindexed = [0]
    while not stop.is_set():
        with app.app_context():
            try:
                instance = runtime.start_instance(db.session, WAITING_PROCEDURE, {}, None)
                entry_id = db.session.execute(select(RegisterEntry.id)
                                              .order_by(func.rand()).limit(1)).scalar()
                if entry_id:
                    request_reindex(db.session, entry_id)
                    reindexed[0] += 1
                db.session.commit()
                started.append(instance.id)
            finally:
                db.session.remove()
        stop.wait(0.5)


def leader_pid(engine) -> int | None:
    from sqlalchemy import text
    with engine.connect() as conn:
        holder = conn.execute(text("SELECT holder FROM scheduler_lease WHERE name='scheduler' "
                                   "AND expires_at > UTC_TIMESTAMP()")).scalar()
    found = re.match(r"[^:]*:(\d+):", holder or "")     # host:pid:uuid
    return int(found.group(1)) if found else None


def answers(base: str) -> bool:
    import requests
    try:
        return requests.get(base + "/autentificare", timeout=2).ok
    except requests.RequestException:
        return False


def killer_loop(processes: list[Process], wanted: int, engine, kills: Counter,
                rng: random.Random, bases: dict[str, str]) -> None:
    """Never the last working process of a role (the town hall runs two of each so
    that one can die; the clients must keep working for the run to test anything);
    a process still starting up may be killed again. Schedulers are killed while one
    leads, the leader more often than not."""
    restarts = []
    while sum(kills.values()) < wanted:
        time.sleep(rng.uniform(0.3, 1.0))
        # Which roles may lose a process now, and which of their processes.
        eligible = {}
        for role in KILL_WEIGHTS:
            same_role = [p for p in processes if p.role == role]
            ready = [p for p in same_role if p.ready(bases.get(p.name))]
            candidates = [p for p in same_role if p.pid and ready != [p]]
            if role == "scheduler" and SCHEDULER_COMMAND == ["scheduler"]:
                # Kill while someone leads, so that leadership changes hands.
                leader = leader_pid(engine)
                leading = [p for p in candidates if p.pid == leader]
                if not leading:
                    continue
                if rng.random() < LEADER_SHARE:
                    candidates = leading
            if ready and candidates:
                eligible[role] = candidates
        if not eligible:
            continue
        role = rng.choices(list(eligible), weights=[KILL_WEIGHTS[r] for r in eligible])[0]
        victim = rng.choice(eligible[role])
        leader = leader_pid(engine) if role == "scheduler" else None
        label = "scheduler_leader" if leader is not None and victim.pid == leader else role
        if victim.kill():
            kills[label] += 1
            timer = threading.Timer(rng.uniform(0.1, 1.0), victim.start)
            timer.start()
            restarts.append(timer)
    for timer in restarts:
        timer.join()


def wait_for_web(bases: list[str], seconds: float = 60) -> None:
    import requests
    deadline = time.monotonic() + seconds
    for base in bases:
        while True:
            try:
                requests.get(base + "/autentificare", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} did not start")
                time.sleep(0.2)


def settle(app, processes: list[Process], seconds: float) -> dict:
    """Everything up again; wait until due timers fired and the queue is empty. A job
    a killed worker held stays `running` until its lease (connectors/jobs/queue.py
    LEASE, 30 min) runs out: those are counted, then their lease is made to run out
    now, as half an hour of waiting would."""
    from sqlalchemy import func, select, update

    from connectors.db import utcnow
    from connectors.jobs.models import BackgroundJob
    from connectors.jobs.queue import LEASE
    from engine.models_sla import Timer
    from webapp.database import db
    for p in processes:
        p.start()
    started = time.monotonic()
    with app.app_context():
        live = {p.pid for p in processes}
        held = db.session.execute(select(BackgroundJob.id, BackgroundJob.locked_by).where(
            BackgroundJob.status == "running")).all()
        orphaned = [job_id for job_id, holder in held
                    if int((re.search(r":(\d+)$", holder or "") or [0, 0])[1]) not in live]
        if orphaned:
            db.session.execute(update(BackgroundJob).where(BackgroundJob.id.in_(orphaned))
                               .values(locked_at=utcnow() - LEASE - timedelta(seconds=1)))
            db.session.commit()
        while time.monotonic() - started < seconds:
            now = utcnow()
            due = db.session.execute(select(func.count()).select_from(Timer).where(
                Timer.fired_at.is_(None), Timer.cancelled.is_(False),
                Timer.due_at <= now)).scalar()
            busy = db.session.execute(select(func.count()).select_from(BackgroundJob).where(
                BackgroundJob.status.in_(("queued", "running")))).scalar()
            db.session.rollback()
            if not due and not busy:
                break
            time.sleep(1)
        db.session.remove()
    return {"jobs_orphaned_by_kills": len(orphaned),
            "settle_seconds": round(time.monotonic() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="30 kills (unless --kills)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--settle-seconds", type=float, default=180)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="leave the database and files")
    args = parser.parse_args()
    wanted = args.kills or (30 if args.quick else 200)
    rng = random.Random(args.seed)

    url = fresh_mariadb_database(args.database)
    data_dir = Path(tempfile.mkdtemp(prefix="dosar-crash-"))
    logs = data_dir / "logs"
    logs.mkdir()
    env = {"DOSAR_DATABASE_URL": url, "DOSAR_DATA_DIR": str(data_dir),
           "DOSAR_SECRET_KEY": "crash-bench-" + str(os.getpid())}
    os.environ.update(env)
    setup_log = open(logs / "setup.log", "ab")
    if dosar(env, "demo", "--no-serve", log=setup_log).wait():
        raise SystemExit("demo load failed: see " + str(logs / "setup.log"))
    procedure = data_dir / "procedures" / WAITING_PROCEDURE
    procedure.mkdir(parents=True)
    (procedure / "waiting.bpmn").write_text(DIAGRAM, encoding="utf-8")
    (procedure / "procedure.json").write_text(json.dumps(
        {"name": WAITING_PROCEDURE, "title": "Așteptare (test de avarie)",
         "process_id": WAITING_PROCEDURE}), encoding="utf-8")
    if dosar(env, "deploy", str(procedure), log=setup_log).wait():
        raise SystemExit("deploy failed: see " + str(logs / "setup.log"))

    web_env = {**env, "DOSAR_TIMER_INTERVAL_SECONDS": "0", "DOSAR_JOB_INTERVAL_SECONDS": "0"}
    scheduler_env = {**env, "DOSAR_TIMER_INTERVAL_SECONDS": "1", "DOSAR_JOB_INTERVAL_SECONDS": "0",
                     "DOSAR_LEADER_TTL_SECONDS": LEADER_TTL_SECONDS}
    ports = [free_port(), free_port()]
    processes = [Process("web", f"web{i}", ["serve", "--port", str(port), "--threads", "8"],
                         web_env, logs) for i, port in enumerate(ports, 1)]
    processes += [Process("worker", f"worker{i}", ["worker", "--idle-seconds", "0.5"], env, logs)
                  for i in (1, 2)]
    processes += [Process("scheduler", f"scheduler{i}", SCHEDULER_COMMAND, scheduler_env, logs)
                  for i in (1, 2)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]

    from webapp import create_app
    from webapp.database import db
    app = create_app()
    figures: dict = {}
    problems: dict = {}
    tally, kills, stop, feeder_started = Tally(), Counter(), threading.Event(), Started()
    try:
        for p in processes:
            p.start()
        wait_for_web(bases)
        started = time.monotonic()
        threads = [threading.Thread(target=client_loop, args=(bases, tally, stop, rng.random()))
                   for _ in range(args.clients)]
        threads.append(threading.Thread(target=feeder_loop, args=(app, stop, feeder_started)))
        for t in threads:
            t.start()
        with app.app_context():
            killer_loop(processes, wanted, db.engine, kills, rng,
                        {p.name: base for p, base in zip(processes, bases)})
        stop.set()
        for t in threads:
            t.join()
        seconds = time.monotonic() - started
        settled = settle(app, processes, args.settle_seconds)
        from connectors.db import utcnow
        settle_end = utcnow() - timedelta(seconds=2)
        for p in processes:
            p.stop()
        from benchmarks._crash_checks import verify
        with app.app_context():
            checked, problems = verify(db.session, tally.entries, tally.tasks, settle_end)
            db.session.remove()
        figures = {**checked, "kills": sum(kills.values()), "kills_by_role": dict(kills),
                   "seconds": round(seconds, 1), "requests_ok": tally.ok,
                   "requests_failed": tally.failed,
                   "failures_by_kind": dict(tally.failures), "waiting_cases_started": len(feeder_started),
                   "reindex_requests": feeder_started.reindexed[0],
                   **settled, "scheduler_command": " ".join(SCHEDULER_COMMAND)}
    finally:
        stop.set()
        for p in processes:
            p.stop()
    if problems:
        figures["problems"] = problems
        figures["logs"] = str(logs)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    zero = ("gaps", "duplicates", "lost_tasks", "half_completed_instances",
            "timers_fired_twice", "timers_missed", "jobs_lost")
    failed = any(figures[k] for k in zero)
    if not args.keep and not failed:
        drop_mariadb_database(args.database)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
