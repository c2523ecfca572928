"""Register numbers: consecutive, never repeated, restarting each year, even when many
clerks register at the same moment from many processes."""
import json
import os
import subprocess
import sys
import threading
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import (Register, RegisterEntry, RegistryError, cancel_entry,
                                 register_document)

ROOT = Path(__file__).resolve().parents[2]


def make_register(session, code="general", prefix="", department=None):
    session.add(Register(code=code, name=code, prefix=prefix, department=department,
                         kind="department" if department else "in_out"))
    session.commit()


def numbers_of(session, code, year):
    return sorted(session.execute(
        select(RegisterEntry.number).join(Register).where(
            Register.code == code, RegisterEntry.year == year)).scalars())


def test_numbers_restart_each_year_and_series_are_separate(session):
    make_register(session)
    make_register(session, "URB", "URB-", "urbanism")
    numbers = [register_document(session, "general", date(2026, 12, 31), "a").label,
               register_document(session, "general", date(2026, 12, 31), "a").label,
               register_document(session, "URB", date(2026, 12, 31), "a").label,
               register_document(session, "general", date(2027, 1, 1), "a").label,
               register_document(session, "URB", date(2027, 1, 1), "a").label,
               register_document(session, "URB", date(2027, 1, 2), "a").label]
    session.commit()
    assert numbers == ["1/31.12.2026", "2/31.12.2026", "URB-1/31.12.2026",
                       "1/01.01.2027", "URB-1/01.01.2027", "URB-2/02.01.2027"]


def test_a_rolled_back_registration_gives_its_number_back(session):
    make_register(session)
    register_document(session, "general", date(2026, 5, 4), "a")
    session.commit()
    register_document(session, "general", date(2026, 5, 4), "a")
    session.rollback()
    assert register_document(session, "general", date(2026, 5, 4), "a").number == 2
    session.commit()
    assert numbers_of(session, "general", 2026) == [1, 2]


def test_a_cancelled_entry_keeps_its_number(session):
    make_register(session)
    entries = [register_document(session, "general", date(2026, 5, 4), "a") for _ in range(3)]
    session.commit()
    cancel_entry(session, entries[1], "registratura", "Înregistrat de două ori.")
    session.commit()
    assert register_document(session, "general", date(2026, 5, 4), "a").number == 4
    session.commit()
    session.expire_all()
    rows = session.execute(select(RegisterEntry.number, RegisterEntry.cancelled)
                           .order_by(RegisterEntry.number)).all()
    assert rows == [(1, False), (2, True), (3, False), (4, False)]


def test_the_entry_returned_is_complete_and_can_be_changed_in_the_same_transaction(session):
    """The service task fills in the entry after numbering it (department, due date)."""
    make_register(session, "URB", "URB-", "urbanism")
    # Text as people type it: the statement must keep quotes, % and backslashes intact.
    summary = 'Certificat de urbanism: 50% din teren, str. "Lungă" nr. 3\\A, O\'Brien'
    entry = register_document(session, "URB", date(2026, 3, 2), "registratura",
                              sender_name="Ștefan Mureșan", summary=summary, pages=3)
    assert (entry.label, entry.register.code, entry.channel, entry.cancelled) == \
        ("URB-1/02.03.2026", "URB", "ghiseu", False)
    assert len(entry.access_code) == 8 and entry.registered_at is not None
    entry.due_on = date(2026, 3, 17)
    code = entry.access_code
    session.commit()
    with Session(session.get_bind()) as other:
        again = other.execute(select(RegisterEntry)).scalar_one()
        assert (again.number, again.sender_name, again.summary, again.pages, again.due_on,
                again.access_code) == (1, "Ștefan Mureșan", summary, 3, date(2026, 3, 17), code)


def test_fields_the_register_sets_itself_or_does_not_know_are_refused(session):
    make_register(session)
    with pytest.raises(RegistryError, match="«number»"):
        register_document(session, "general", date(2026, 5, 4), "a", number=7)
    with pytest.raises(RegistryError, match="culoare"):
        register_document(session, "general", date(2026, 5, 4), "a", culoare="roșu")
    with pytest.raises(RegistryError, match="«arhiva» nu există"):
        register_document(session, "arhiva", date(2026, 5, 4), "a")
    session.rollback()
    assert register_document(session, "general", date(2026, 5, 4), "a").number == 1


def test_concurrent_registrations_get_consecutive_numbers(app, session):
    """Eight clerks register at once, in a year with no counter yet."""
    from webapp.database import db
    make_register(session)
    engine = db.engine
    barrier = threading.Barrier(8)
    errors = []

    def clerk(i):
        with Session(engine) as own:
            own.execute(select(Register.id)).all()   # connected before the start signal
            own.commit()
            barrier.wait()
            try:
                for _ in range(5):
                    register_document(own, "general", date(2030, 1, 2), f"clerk{i}",
                                      summary=f"de la {i}")
                    own.commit()
            except Exception as err:       # any failure is a lost registration
                errors.append(repr(err))

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(session.execute(select(RegisterEntry.number).where(
        RegisterEntry.year == 2030)).scalars())
    assert numbers == list(range(1, 41))


# One clerk's process: its own interpreter, engine and connection. It says "ready",
# waits for "go", then registers; every fifth registration is rolled back on purpose.
CLERK = """
import json, random, sys
from datetime import date
sys.path.insert(0, {root!r})
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
import webapp.database
from webapp.database import engine_options
from connectors.registry import Register, register_document
url, clerk = {url!r}, {clerk}
engine = create_engine(url, **engine_options(url))
rng = random.Random(clerk)
with Session(engine) as session:
    session.execute(select(Register.id)).all()
print("ready", flush=True)
sys.stdin.readline()
committed = []
for i in range({count}):
    code = rng.choice(["general", "URB"])
    on = date(2026, 12, 31) if i < {count} // 2 else date(2027, 1, 1)
    with Session(engine) as session:
        entry = register_document(session, code, on, f"clerk{{clerk}}", summary="cerere")
        if i % 5 == 4:
            session.rollback()
            continue
        key = [code, on.year, entry.number]
        session.commit()
        committed.append(key)
print(json.dumps(committed), flush=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DOSAR_SKIP_MARIADB") == "1", reason="MariaDB is skipped")
@pytest.mark.parametrize("database_url", ["mariadb"], indirect=True)  # the multi-process setup
def test_clerks_in_separate_processes_never_share_or_skip_a_number(session, database_url):
    """Eight processes at once on both registers, across New Year, with rollbacks."""
    make_register(session)
    make_register(session, "URB", "URB-", "urbanism")
    clerks = [subprocess.Popen(
        [sys.executable, "-c", CLERK.format(root=str(ROOT), url=database_url, clerk=i, count=40)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(8)]
    try:
        for clerk in clerks:
            assert clerk.stdout.readline().strip() == "ready", clerk.stderr.read()
        for clerk in clerks:                # all start together
            clerk.stdin.write("go\n")
            clerk.stdin.flush()
        outputs = [clerk.communicate(timeout=300) for clerk in clerks]
    finally:
        for clerk in clerks:
            if clerk.poll() is None:
                clerk.kill()
    assert [clerk.returncode for clerk in clerks] == [0] * 8, [err for _, err in outputs]
    committed = [tuple(key) for out, _ in outputs for key in json.loads(out)]
    assert len(committed) == 8 * 32
    per_series = defaultdict(list)
    for code, year, number in committed:
        per_series[(code, year)].append(number)
    session.expire_all()
    for (code, year), numbers in per_series.items():
        expected = list(range(1, len(numbers) + 1))
        assert numbers_of(session, code, year) == sorted(numbers) == expected
    assert set(per_series) == {("general", 2026), ("general", 2027), ("URB", 2026), ("URB", 2027)}
