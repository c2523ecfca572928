"""Inbox benchmark: the group inbox page of a clerk, on a town hall with a million tasks.

Builds a fresh database per backend (SQLite file in a temp dir; MariaDB database
`dosar_bench_inbox` on 127.0.0.1:3306), migrated to head, and bulk-loads `--tasks`
human tasks (default 1,000,000) with their candidate groups and process instances:
25 departments of unequal size, `--open` of them open (default 100,000; about a third
of those claimed by someone), due dates spread over five months, the rest completed.
Then a clerk in three departments' groups opens the real page — the app's own view,
SQL and template, through the Flask test client: `/?view=group&sort=due`, 50 rows.
Prints one JSON object per backend (the last line holds the list of all):
backend, tasks, open_tasks, clerk_group_tasks, rows, p50_ms, p95_ms, load_s, and the
group count three ways: as the page asks it (stops past the inbox's count limit),
exact over the groups' waiting flag, and exact over the task rows.

    dosar bench inbox [--tasks N] [--open N] [--backend sqlite|mariadb|both] [--quick]
"""
import argparse
import gc
import json
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks._support import drop_mariadb_database, fresh_mariadb_database  # noqa: E402

DATABASE = "dosar_bench_inbox"
CLERK, PASSWORD = "functionar", "bench-password-1"
BATCH = 20_000
TASKS_PER_INSTANCE = 4
# Departments of a town hall, weighted by how much paperwork each one handles.
DEPARTMENTS = [(f"dep{i:02d}", weight) for i, weight in enumerate(
    [30, 22, 18, 15, 12, 10, 9, 8, 7, 6, 6, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1])]
CLERK_DEPARTMENTS = ["dep03", "dep07", "dep12"]   # mid-sized ones, as most clerks have
TITLES = ["Analizează petiția", "Redactează răspunsul", "Avizează răspunsul",
          "Verifică documentația", "Semnează certificatul", "Întocmește referatul"]
PROCEDURES = ["petition", "certificat_urbanism", "adeverinta", "autorizatie_construire"]
PEOPLE = [f"clerk{i:03d}" for i in range(300)]
ROW = re.compile(r'data-task-id="\d+"')


def create_database(backend: str, data_dir: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{data_dir}/dosar.db"
    return fresh_mariadb_database(DATABASE)


def make_app(url: str, data_dir: str):
    from webapp import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": data_dir,
                       "STORAGE_DIR": f"{data_dir}/files", "SECRET_KEY": "bench",
                       "SEARCH_PATH": f"{data_dir}/search.sqlite"})


def migrate_and_seed(app) -> int:
    """Schema at head, the clerk, one deployed procedure version; returns its id."""
    from engine.models import ProcessDefinition
    from webapp.auth.models import User, UserGroup
    from webapp.auth.passwords import hash_password
    from webapp.database import db
    from webapp.migrations import upgrade
    with app.app_context():
        upgrade()
        db.session.add(User(username=CLERK, full_name="Ana Funcționar",
                            password_hash=hash_password(PASSWORD),
                            memberships=[UserGroup(group_code=f"dept-{d}")
                                         for d in CLERK_DEPARTMENTS]))
        definition = ProcessDefinition(
            name="petition", version_hash="bench-inbox", title="Petiție",
            process_id="petition", metadata_json="{}", files_json="{}", spec_json="{}")
        db.session.add(definition)
        db.session.commit()
        definition_id = definition.id
        db.session.remove()
        db.engine.dispose()
    return definition_id


def generate(tasks: int, open_tasks: int, definition_id: int, seed: int = 8):
    """Yield (instances, tasks, groups) batches of rows, ids ascending."""
    rng = random.Random(seed)
    instances = (tasks + TASKS_PER_INSTANCE - 1) // TASKS_PER_INSTANCE
    # An open task is the last step of a running instance; every other step is done.
    running = set(rng.sample(range(1, instances + 1), min(open_tasks, instances)))
    names, weights = zip(*DEPARTMENTS)
    today = date.today()
    now = datetime.now().replace(microsecond=0)
    task_id = 0
    batch_i, batch_t, batch_g = [], [], []
    for instance_id in range(1, instances + 1):
        department = rng.choices(names, weights)[0]
        procedure = rng.choice(PROCEDURES)
        started = now - timedelta(days=rng.randint(0, 1500))
        is_running = instance_id in running
        due = today + timedelta(days=rng.randint(-30, 120)) if rng.random() > 0.05 else None
        steps = min(TASKS_PER_INSTANCE, tasks - task_id)
        batch_i.append((instance_id, definition_id, "running" if is_running else "completed",
                        0, "{}", f"Petiție {instance_id} — {department}", due, started,
                        rng.choice(PEOPLE), None if is_running else started + timedelta(days=20)))
        for step in range(steps):
            task_id += 1
            is_open = is_running and step == steps - 1
            assignee = rng.choice(PEOPLE) if is_open and rng.random() < 0.3 else None
            done_by = None if is_open else rng.choice(PEOPLE)
            batch_t.append((task_id, instance_id, f"bench-{task_id:030d}", procedure,
                            f"Task_{step}", TITLES[step % len(TITLES)], None, department,
                            assignee, due, department, "open" if is_open else "completed",
                            False, started + timedelta(days=step),
                            started + timedelta(days=step) if assignee or done_by else None,
                            None if is_open else started + timedelta(days=step + 1), done_by))
            batch_g.append((task_id, f"dept-{department}"))
            if rng.random() < 0.15:   # some tasks also wait in the registry office's list
                batch_g.append((task_id, "registratura"))
        if len(batch_t) >= BATCH:
            yield batch_i, batch_t, batch_g
            batch_i, batch_t, batch_g = [], [], []
    if batch_t:
        yield batch_i, batch_t, batch_g


INSERTS = [
    "INSERT INTO process_instance (id, definition_id, status, lock_version, workflow_json, "
    "title, due_on, started_at, started_by, completed_at) VALUES ({})",
    "INSERT INTO human_task (id, instance_id, engine_task_id, `procedure`, spec_name, title, "
    "form_name, lane, assignee, due_on, department, status, escalated, created_at, claimed_at, "
    "completed_at, completed_by) VALUES ({})",
    "INSERT INTO human_task_group (human_task_id, group_code) VALUES ({})",
]


def load(backend: str, url: str, tasks: int, open_tasks: int, definition_id: int) -> float:
    """Bulk-load the rows with the driver's executemany; returns seconds taken."""
    start = time.perf_counter()
    if backend == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        # Only for the load: nothing is worth keeping if it stops half-way.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA cache_size=-200000")
        mark, begin, commit = "?", "BEGIN", "COMMIT"
        # Indexes built once over the loaded rows cost far less than kept up row by row.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('process_instance', 'human_task', 'human_task_group')").fetchall()
        for name, _sql in indexes:
            conn.execute(f"DROP INDEX {name}")
    else:
        import pymysql
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=DATABASE,
                               charset="utf8mb4", autocommit=True)
        # pymysql turns executemany of one INSERT into multi-row INSERT statements.
        for setting in ("foreign_key_checks=0", "unique_checks=0"):
            conn.cursor().execute(f"SET SESSION {setting}")
        mark, begin, commit = "%s", "BEGIN", "COMMIT"
    cursor = conn.cursor()
    statements = [s.format(", ".join([mark] * s.split("(", 2)[1].count(",") + [mark]))
                  for s in INSERTS]
    for batch in generate(tasks, open_tasks, definition_id):
        cursor.execute(begin)
        for statement, rows in zip(statements, batch):
            cursor.executemany(statement, rows)
        cursor.execute(commit)
    # What the engine keeps on every flush: a group row of an open, unclaimed task waits.
    cursor.execute(begin)
    cursor.execute("UPDATE human_task_group SET waiting = 1 WHERE human_task_id IN "
                   "(SELECT id FROM human_task WHERE status = 'open' AND assignee IS NULL)")
    cursor.execute(commit)
    if backend == "sqlite":
        for _name, sql in indexes:
            conn.execute(sql)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    else:
        for table in ("process_instance", "human_task", "human_task_group"):
            cursor.execute(f"ANALYZE TABLE {table}")
            cursor.fetchall()
    conn.close()
    return time.perf_counter() - start


def login(client) -> None:
    page = client.get("/autentificare").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/autentificare", data={
        "username": CLERK, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError("the clerk could not log in")


def measure(app, requests_count: int, warmup: int) -> dict:
    url = "/?view=group&sort=due"
    client = app.test_client()
    login(client)
    gc.freeze()     # as `dosar serve` does once the app is loaded
    for _ in range(warmup):
        client.get(url)
    samples, cpu, rows = [], [], None
    for _ in range(requests_count):
        t, c = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if response.status_code != 200:
            raise RuntimeError(f"inbox answered {response.status_code}")
        rows = len(ROW.findall(response.text))
    samples.sort()
    cpu.sort()
    return {"rows": rows, "requests": requests_count,
            # This process's CPU per page (Python, and SQLite's own work): less
            # disturbed than wall time when other programs share the machine.
            "cpu_p50_ms": round(statistics.median(cpu) * 1000, 2),
            "cpu_p95_ms": round(cpu[int(len(cpu) * 0.95) - 1] * 1000, 2),
            "p50_ms": round(statistics.median(samples) * 1000, 2),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1] * 1000, 2),
            "max_ms": round(samples[-1] * 1000, 2)}


def query_plan(app) -> dict:
    """The plans of the page's queries (rows, count), to see which index each takes."""
    from sqlalchemy.dialects import mysql, sqlite
    from webapp.database import db
    from sqlalchemy import func, select
    from webapp.inbox import queries
    from engine.models import HumanTask
    groups = {f"dept-{d}" for d in CLERK_DEPARTMENTS}
    with app.app_context():
        stmt = queries.group_tasks(groups)
        statements = {
            "rows": stmt.where(HumanTask.due_on.is_not(None)).order_by(*queries._order("due"))
            .limit(50),
            "count": queries.waiting_count_query(groups, app.config["INBOX_COUNT_LIMIT"])}
        dialect = sqlite.dialect() if db.engine.dialect.name == "sqlite" else mysql.dialect()
        explain = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
        plans = {}
        for name, statement in statements.items():
            sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            plans[name] = [" | ".join(str(c) for c in row)
                           for row in db.session.execute(text(explain + sql)).all()]
        db.session.remove()
    return plans


GROUPS_SQL = ", ".join(f"'dept-{d}'" for d in CLERK_DEPARTMENTS)
COUNT_NOW = ("SELECT count(*) FROM human_task WHERE status = 'open' AND assignee IS NULL AND "
             "EXISTS (SELECT 1 FROM human_task_group g WHERE g.human_task_id = human_task.id "
             f"AND g.group_code IN ({GROUPS_SQL}))")
COUNT_FLAG = ("SELECT count(DISTINCT human_task_id) FROM human_task_group "
              f"WHERE waiting = 1 AND group_code IN ({GROUPS_SQL})")
COUNT_BOUNDED = ("SELECT count(*) FROM (SELECT DISTINCT human_task_id FROM human_task_group "
                 f"WHERE waiting = 1 AND group_code IN ({GROUPS_SQL}) LIMIT {{}}) AS waiting")


def timed_ms(conn, sql: str, times: int = 15) -> tuple[float, int]:
    samples = []
    for _ in range(times):
        t = time.perf_counter()
        value = conn.execute(text(sql)).scalar_one()
        samples.append(time.perf_counter() - t)
    return round(statistics.median(samples) * 1000, 2), value


def count_figures(url: str, limit: int) -> dict:
    """The group count as the inbox asks it (over the groups' `waiting` flag, stopping
    past `limit`), against the exact count over the flag and over the task rows, for
    contrast: why the flag and the limit are there."""
    engine = create_engine(url)
    with engine.begin() as conn:
        scan_ms, scan_value = timed_ms(conn, COUNT_NOW)
        flag_ms, flag_value = timed_ms(conn, COUNT_FLAG)
        bounded_ms, bounded_value = timed_ms(conn, COUNT_BOUNDED.format(limit + 1))
    engine.dispose()
    return {"count_ms": bounded_ms, "exact_count_ms": flag_ms,
            "count_without_flag_ms": scan_ms, "count_limit": limit,
            "counts_agree": scan_value == flag_value
            and bounded_value == min(flag_value, limit + 1)}


def clerk_group_tasks(app) -> int:
    from webapp.database import db
    from webapp.inbox import queries
    from sqlalchemy import func, select
    groups = {f"dept-{d}" for d in CLERK_DEPARTMENTS}
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(
            queries.group_tasks(groups).subquery())).scalar_one()
        db.session.remove()
    return n


def run(backend: str, tasks: int, open_tasks: int, requests_count: int, keep: bool,
        waiting_flag: bool) -> dict:
    data_dir = tempfile.mkdtemp(prefix="dosar-bench-inbox-")
    url = create_database(backend, data_dir)
    app = make_app(url, data_dir)
    definition_id = migrate_and_seed(app)
    load_s = load(backend, url, tasks, open_tasks, definition_id)
    figures = {"backend": backend, "tasks": tasks, "open_tasks": open_tasks,
               "clerk_groups": len(CLERK_DEPARTMENTS), "clerk_group_tasks": clerk_group_tasks(app),
               **measure(app, requests_count, warmup=max(requests_count // 10, 3)),
               "load_s": round(load_s, 2), "plan": query_plan(app)}
    if waiting_flag:
        figures.update(count_figures(url, app.config["INBOX_COUNT_LIMIT"]))
    with app.app_context():
        from webapp.database import db
        db.engine.dispose()
    if not keep:
        if backend == "mariadb":
            drop_mariadb_database(DATABASE)
        shutil.rmtree(data_dir, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="100,000 tasks, 10,000 open")
    parser.add_argument("--tasks", type=int, help="human tasks in all (default 1,000,000)")
    parser.add_argument("--open", type=int, help="open tasks among them (default a tenth)")
    parser.add_argument("--backend", choices=["sqlite", "mariadb", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200, help="measured page loads")
    parser.add_argument("--keep", action="store_true", help="keep the databases to look at")
    parser.add_argument("--no-flag-trial", action="store_true",
                        help="skip timing the group count with and without the waiting flag")
    args = parser.parse_args()
    tasks = args.tasks or (100_000 if args.quick else 1_000_000)
    open_tasks = args.open if args.open is not None else tasks // 10
    backends = ["sqlite", "mariadb"] if args.backend == "both" else [args.backend]
    started = time.perf_counter()
    results = []
    for backend in backends:
        figures = run(backend, tasks, open_tasks, args.requests, args.keep,
                      not args.no_flag_trial)
        print(json.dumps(figures, ensure_ascii=False), flush=True)
        results.append(figures)
    summary = {f"{r['backend']}_{key}": r[key] for r in results
               for key in ("p50_ms", "p95_ms", "cpu_p95_ms", "load_s", "rows", "count_ms",
                           "exact_count_ms", "count_without_flag_ms") if key in r}
    print(json.dumps({"tasks": tasks, "open_tasks": open_tasks, **summary,
                      "results": [{k: v for k, v in r.items() if k != "plan"} for r in results],
                      "seconds": round(time.perf_counter() - started, 1), "quick": args.quick},
                     ensure_ascii=False))
    if any(r["rows"] != min(50, r["clerk_group_tasks"]) or not r.get("counts_agree", True)
           for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
