"""Register numbering under load: many clerk processes registering at the same time.

Each worker is a separate process with its own SQLAlchemy engine and connection. For a
fixed time every worker registers documents, one registration per transaction
(`register_document` + commit), at random in the general register and in the
Urbanism series (`URB-`), across a year boundary: the run starts on 31 December and
moves to 1 January, so the new year's numbering starts while everybody is busy. A few
per cent of registrations are rolled back on purpose (their numbers must be given
back) and a few per cent are cancelled after their commit (they must stay).

Before that, in the same run, the same workers insert register entries with the number
chosen by the worker (no counter) for the same time: `baseline_insert_per_s`, so that
`ratio_to_baseline` shows what gap-free numbering costs on this machine.

Afterwards everything is checked from the rows: per register and year the numbers must
be exactly 1..max (`gaps`, `duplicates` count what is not), the rows must be exactly
the registrations the workers saw committed, and cancelled entries must all be there.
Exits 1 if any check fails.

    dosar bench registry [--quick] [--workers 8] [--backend mariadb|sqlite] [--seconds S]

MariaDB is the server of DOSAR_BENCH_MARIADB (default mysql+pymysql://root@127.0.0.1:3306);
the database `dosar_bench_registry` (`--database`) is created afresh for the run and
dropped at the end (`--keep` leaves it to look at).
"""
import argparse
import json
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATABASE = "dosar_bench_registry"
LAST_DAY, FIRST_DAY = date(2026, 12, 31), date(2027, 1, 1)
URB_SHARE, ROLLBACK_SHARE, CANCEL_SHARE = 0.3, 0.03, 0.03
BASELINE_YEAR = 3000          # + worker index: numbers the workers choose themselves

SENDERS = ["Popescu Ion", "Ionescu Maria", "Dumitrescu Ana", "Stan Gheorghe",
           "SC Construct Ardeal SRL", "Asociația de proprietari nr. 12", "Mureșan Ștefan"]
STREETS = ["Str. Mihai Viteazu nr. 4", "Bd. Decebal nr. 17, bl. C2, ap. 9",
           "Str. Avram Iancu nr. 101", "Calea Turzii nr. 33"]
SUMMARIES = {
    "general": [("Petiție", "Solicită repararea iluminatului public pe strada sa."),
                ("Cerere", "Solicită eliberarea unei adeverințe de rol fiscal."),
                ("Sesizare", "Semnalează gropi în carosabil în dreptul imobilului.")],
    "URB": [("Cerere certificat de urbanism", "Certificat de urbanism pentru alipire teren."),
            ("Cerere autorizație de construire", "Autorizație pentru locuință P+1E.")],
}


def entry_fields(rng: random.Random, register: str, worker: int) -> dict:
    document_type, summary = rng.choice(SUMMARIES[register])
    return {"document_type": document_type, "summary": summary,
            "sender_name": rng.choice(SENDERS), "sender_address": rng.choice(STREETS),
            "sender_reference": f"{rng.randint(1, 999)}/{rng.randint(1, 28)}.12.2026",
            "channel": rng.choice(["ghiseu", "posta", "email", "portal"]),
            "pages": rng.randint(1, 30), "direction": "in",
            "department": "urbanism" if register == "URB" else "",
            "assigned_to": f"functionar{worker}"}


def day_of(rng: random.Random, progress: float) -> date:
    """All on 31 December for the first 30% of the run, all on 1 January for the last
    30%, both in between, so the new year's counter is created under full load."""
    return FIRST_DAY if rng.random() < (progress - 0.3) / 0.4 else LAST_DAY


def worker(index: int, url: str, seconds: float, barrier, results) -> None:
    from sqlalchemy import create_engine, insert, select
    from sqlalchemy.orm import Session
    import webapp.database  # noqa: F401  (SQLite: WAL and BEGIN IMMEDIATE on every engine)
    from webapp.database import engine_options
    from connectors.registry import Register, RegisterEntry, cancel_entry, register_document

    rng = random.Random(index)
    engine = create_engine(url, **engine_options(url))
    actor = f"functionar{index}"
    with Session(engine) as session:    # connected before the start signal
        general_id = session.execute(
            select(Register.id).where(Register.code == "general")).scalar_one()

    # Phase 1: the same inserts without numbering, one per transaction.
    barrier.wait()
    start = time.monotonic()
    count = 0
    while time.monotonic() < start + seconds:
        count += 1
        with Session(engine) as session:
            session.execute(insert(RegisterEntry), [dict(
                entry_fields(rng, "general", index), register_id=general_id,
                year=BASELINE_YEAR + index, number=count, registered_on=LAST_DAY,
                registered_by=actor, access_code="BASELINE")])
            session.commit()
    results.put({"phase": "baseline", "count": count, "start": start, "end": time.monotonic()})
    barrier.wait()                      # the main process removes the baseline rows
    barrier.wait()

    # Phase 2: registrations.
    start = time.monotonic()
    committed, rolled_back, cancelled, errors = [], 0, 0, []
    while (now := time.monotonic()) < start + seconds:
        register = "URB" if rng.random() < URB_SHARE else "general"
        on = day_of(rng, (now - start) / seconds)
        fate = rng.random()
        try:
            with Session(engine) as session:
                entry = register_document(session, register, on, actor,
                                          **entry_fields(rng, register, index))
                if fate < ROLLBACK_SHARE:        # e.g. the clerk's browser gave up
                    session.rollback()
                    rolled_back += 1
                    continue
                key, entry_id = (register, on.year, entry.number), entry.id
                session.commit()
                committed.append(key)
            if fate > 1 - CANCEL_SHARE:          # registered by mistake, cancelled later
                with Session(engine) as session:
                    cancel_entry(session, session.get(RegisterEntry, entry_id), actor,
                                 "Înregistrat din greșeală de două ori.")
                    session.commit()
                    cancelled += 1
        except Exception as error:               # a failed registration is a finding
            errors.append(repr(error)[:300])
    results.put({"phase": "registrations", "committed": committed, "rolled_back": rolled_back,
                 "cancelled": cancelled, "errors": errors, "start": start,
                 "end": time.monotonic()})
    engine.dispose()


def prepare(backend: str, database: str) -> tuple[str, str]:
    """A fresh database with the app's schema and two registers; returns its URL."""
    from benchmarks._support import fresh_mariadb_database
    from webapp import create_app
    from webapp.database import db
    from webapp.migrations import upgrade
    from connectors.registry import Register
    data_dir = tempfile.mkdtemp(prefix="dosar-bench-registry-")
    if backend == "sqlite":
        url = f"sqlite:///{data_dir}/dosar.db"
    else:
        url = fresh_mariadb_database(database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": data_dir,
                      "STORAGE_DIR": f"{data_dir}/files", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        db.session.add_all([
            Register(code="general", name="Registrul general de intrare-ieșire", kind="in_out"),
            Register(code="URB", name="Urbanism", prefix="URB-", kind="department",
                     department="urbanism")])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url, data_dir


def drop(backend: str, database: str, data_dir: str) -> None:
    if backend == "mariadb":
        from benchmarks._support import drop_mariadb_database
        drop_mariadb_database(database)
    shutil.rmtree(data_dir, ignore_errors=True)


def server_setting(url: str, name: str) -> str | None:
    if not url.startswith("mysql"):
        return None
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(f"SELECT @@{name}")).scalar_one()
    engine.dispose()
    return str(value)


def check(url: str, committed: list, cancelled: int) -> dict:
    """Everything from the rows: numbers per register and year, against what the
    workers saw committed."""
    from sqlalchemy import create_engine, func, select
    from connectors.registry import Register, RegisterCounter, RegisterEntry
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Register.code, RegisterEntry.year, RegisterEntry.number)
                            .join(Register, Register.id == RegisterEntry.register_id)).all()
        counters = {(code, year): last for code, year, last in conn.execute(
            select(Register.code, RegisterCounter.year, RegisterCounter.last_number)
            .join(Register, Register.id == RegisterCounter.register_id))}
        cancelled_rows = conn.execute(select(func.count()).select_from(RegisterEntry)
                                      .where(RegisterEntry.cancelled.is_(True))).scalar_one()
    engine.dispose()
    numbers = defaultdict(list)
    for code, year, number in rows:
        numbers[(code, year)].append(number)
    gaps = duplicates = 0
    for values in numbers.values():
        present = set(values)
        duplicates += len(values) - len(present)
        gaps += sum(1 for n in range(1, max(values) + 1) if n not in present)
    rows_as_keys = Counter((code, year, number) for code, year, number in rows)
    return {
        "gaps": gaps, "duplicates": duplicates, "rows": len(rows),
        "rows_match_committed": rows_as_keys == Counter(map(tuple, committed)),
        "counters_match_rows": counters == {k: max(v) for k, v in numbers.items()},
        "cancelled_rows": cancelled_rows, "cancelled_rows_match": cancelled_rows == cancelled,
        "last_numbers": {f"{code}/{year}": max(v) for (code, year), v in sorted(numbers.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a few seconds (CI smoke run)")
    parser.add_argument("--workers", type=int, default=8, help="clerk processes (default 8)")
    parser.add_argument("--backend", choices=["mariadb", "sqlite"], default="mariadb")
    parser.add_argument("--seconds", type=float, help="length of each phase")
    parser.add_argument("--database", default=DATABASE, help="MariaDB database (dropped first)")
    parser.add_argument("--keep", action="store_true", help="keep the database to look at")
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 20.0)

    url, data_dir = prepare(args.backend, args.database)
    context = multiprocessing.get_context("spawn")   # nothing shared with this process
    barrier, results = context.Barrier(args.workers + 1), context.Queue()
    processes = [context.Process(target=worker, args=(i, url, seconds, barrier, results))
                 for i in range(args.workers)]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)                         # all connected: baseline starts
    baseline = [results.get(timeout=seconds + 300) for _ in processes]
    barrier.wait(timeout=300)
    from sqlalchemy import create_engine, delete
    from connectors.registry import RegisterEntry
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(RegisterEntry).where(RegisterEntry.year >= BASELINE_YEAR))
    engine.dispose()
    barrier.wait(timeout=300)                         # registrations start
    runs = [results.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    committed = [key for run in runs for key in run["committed"]]
    cancelled = sum(run["cancelled"] for run in runs)
    errors = [e for run in runs for e in run["errors"]]
    elapsed = max(r["end"] for r in runs) - min(r["start"] for r in runs)
    baseline_elapsed = max(r["end"] for r in baseline) - min(r["start"] for r in baseline)
    rate = len(committed) / elapsed
    baseline_rate = sum(r["count"] for r in baseline) / baseline_elapsed
    found = check(url, committed, cancelled)
    report = {
        "backend": args.backend,
        "workers": args.workers,
        "registrations": len(committed),
        "registrations_per_s": round(rate, 1),
        "baseline_insert_per_s": round(baseline_rate, 1),
        "ratio_to_baseline": round(rate / baseline_rate, 3),
        "gaps": found["gaps"],
        "duplicates": found["duplicates"],
        "rolled_back": sum(run["rolled_back"] for run in runs),
        "cancelled": cancelled,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "rows": found["rows"],
        "rows_match_committed": found["rows_match_committed"],
        "counters_match_rows": found["counters_match_rows"],
        "cancelled_rows_match": found["cancelled_rows_match"],
        "last_numbers": found["last_numbers"],
        "seconds": round(elapsed, 2),
        "innodb_flush_log_at_trx_commit": server_setting(url, "innodb_flush_log_at_trx_commit"),
        "quick": args.quick,
    }
    print(json.dumps(report, ensure_ascii=False))
    if not args.keep:
        drop(args.backend, args.database, data_dir)
    ok = (found["gaps"] == 0 and found["duplicates"] == 0 and not errors
          and found["rows_match_committed"] and found["counters_match_rows"]
          and found["cancelled_rows_match"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
