"""Engine benchmark over real HTTP, on MariaDB, under concurrent load.

Starts the production server (`dosar serve`: waitress, `--threads` threads) on a fresh
MariaDB database (`dosar_bench_engine_http` on 127.0.0.1:3306) with the benchmark's
loop procedure deployed, then `--clients` load-generator threads, each with its own
logged-in `requests.Session` and its own running instance, claim and complete that
instance's task over and over (each completion loops the diagram back to a new task)
for `--seconds`. In the same run, SpiffWorkflow alone completes the same diagram's
tasks in memory, for the ratio.

Prints one JSON object: http_complete_task_per_s (claim + complete pairs per second,
all clients), p50_ms / p95_ms (one pair, as a client waits for it), clients, threads,
errors, completed, raw_engine_tasks_per_s, ratio_http_to_raw, database, seconds.

    dosar bench engine_http [--quick] [--clients 8] [--threads 8] [--seconds 60]
"""
import argparse
import json
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks._support import (drop_mariadb_database, fresh_mariadb_database,  # noqa: E402
                                 login, served_app, temp_data_dir)
from benchmarks.engine import LOOP, raw_engine  # noqa: E402

DATABASE = "dosar_bench_engine_http"
PASSWORD = "bench-password-1"


def fresh_database(name: str) -> str:
    return fresh_mariadb_database(name)


def drop_database(name: str) -> None:
    drop_mariadb_database(name)


def prepare(url: str, data_dir: str, clients: int) -> list[tuple[str, int]]:
    """Schema, one user per client, the loop procedure, one running instance each."""
    from webapp import create_app
    from webapp.auth.models import User, UserGroup
    from webapp.auth.passwords import hash_password
    from webapp.database import db
    from webapp.migrations import upgrade
    from engine import runtime
    from engine.deployment import deploy_folder
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": data_dir,
                      "STORAGE_DIR": f"{data_dir}/files", "SECRET_KEY": "bench"})
    owners = []
    with app.app_context():
        upgrade()
        password_hash = hash_password(PASSWORD)
        names = [f"bench{i:02d}" for i in range(clients)]
        db.session.add_all(User(username=n, full_name=f"Benchmark {n}",
                                password_hash=password_hash,
                                memberships=[UserGroup(group_code="reviewers")]) for n in names)
        deploy_folder(db.session, LOOP)
        db.session.commit()
        for name in names:
            actor = runtime.Actor(name, frozenset({"reviewers"}))
            instance = runtime.start_instance(db.session, "bench_loop", {"passes": 0}, actor)
            db.session.commit()
            owners.append((name, instance.id))
        db.session.remove()
        db.engine.dispose()
    return owners


def client_loop(base: str, url: str, username: str, instance_id: int, stop_at: float,
                results: dict, lock: threading.Lock) -> None:
    session, token = login(base, username, PASSWORD)
    # The next task's id: the load generator's own look-up, not part of the timing.
    engine = create_engine(url, pool_size=1)
    next_task = text("SELECT id FROM human_task WHERE instance_id = :i AND status = 'open'")
    latencies, errors, first_error = [], 0, None
    with engine.connect() as conn:
        while time.monotonic() < stop_at:
            task_id = conn.execute(next_task, {"i": instance_id}).scalar()
            conn.rollback()
            if task_id is None:
                errors += 1
                first_error = first_error or "no open task"
                break
            t = time.perf_counter()
            try:
                r1 = session.post(f"{base}/sarcini/{task_id}/preia",
                                  data={"csrf_token": token}, allow_redirects=False)
                r2 = session.post(f"{base}/sarcini/{task_id}/finalizeaza",
                                  data={"csrf_token": token, "again": "on"},
                                  allow_redirects=False)
                ok = r1.status_code == 302 and r2.status_code == 302
                problem = f"claim {r1.status_code}, complete {r2.status_code}"
            except Exception as err:  # noqa: BLE001  (an error counts, the load goes on)
                ok, problem = False, repr(err)
            if ok:
                latencies.append(time.perf_counter() - t)
            else:
                errors += 1
                first_error = first_error or problem
    engine.dispose()
    with lock:
        results["latencies"].extend(latencies)
        results["errors"] += errors
        results["first_error"] = results["first_error"] or first_error


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="15 s of load (CI smoke run)")
    parser.add_argument("--clients", type=int, default=8, help="load-generator threads")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--seconds", type=float, help="length of the load (default 60)")
    parser.add_argument("--database", default=DATABASE, help="MariaDB database (dropped first)")
    parser.add_argument("--keep", action="store_true", help="keep the database to look at")
    args = parser.parse_args()
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    started = time.perf_counter()

    raw = raw_engine(instances=10 if args.quick else 50, passes=10)
    url = fresh_database(args.database)
    data_dir = temp_data_dir()
    owners = prepare(url, data_dir, args.clients)
    results = {"latencies": [], "errors": 0, "first_error": None}
    lock = threading.Lock()
    env = {"DOSAR_DATA_DIR": data_dir, "DOSAR_DATABASE_URL": url}
    with served_app(env, threads=args.threads) as base:
        stop_at = time.monotonic() + seconds
        load_start = time.perf_counter()
        threads = [threading.Thread(target=client_loop,
                                    args=(base, url, name, instance_id, stop_at, results, lock))
                   for name, instance_id in owners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - load_start
    latencies = sorted(results["latencies"])
    rate = len(latencies) / elapsed
    report = {
        "http_complete_task_per_s": round(rate, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1)
        if latencies else None,
        "clients": args.clients,
        "threads": args.threads,
        "completed": len(latencies),
        "errors": results["errors"],
        "first_error": results["first_error"],
        "raw_engine_tasks_per_s": round(raw, 1),
        "ratio_http_to_raw": round(rate / raw, 4),
        "database": "mariadb",
        "load_seconds": round(elapsed, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "quick": args.quick,
    }
    print(json.dumps(report, ensure_ascii=False))
    if not args.keep:
        drop_database(args.database)
        shutil.rmtree(data_dir, ignore_errors=True)
    # Failed requests are figures of the run (errors, first_error), not a failed run.
    sys.exit(0 if latencies else 1)


if __name__ == "__main__":
    main()
