"""Register numbers: consecutive, never repeated, restarting each year, even when many
clerks register at the same moment."""
import threading
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import Register, RegisterEntry, register_document


def make_register(session, code="general", prefix=""):
    session.add(Register(code=code, name=code, prefix=prefix))
    session.commit()


def test_numbers_restart_each_year_and_series_are_separate(session):
    make_register(session)
    make_register(session, "URB", "URB-")
    numbers = [register_document(session, "general", date(2026, 12, 31), "a").label,
               register_document(session, "general", date(2026, 12, 31), "a").label,
               register_document(session, "URB", date(2026, 12, 31), "a").label,
               register_document(session, "general", date(2027, 1, 1), "a").label]
    session.commit()
    assert numbers == ["1/31.12.2026", "2/31.12.2026", "URB-1/31.12.2026", "1/01.01.2027"]


def test_a_rolled_back_registration_gives_its_number_back(session):
    make_register(session)
    register_document(session, "general", date(2026, 5, 4), "a")
    session.commit()
    register_document(session, "general", date(2026, 5, 4), "a")
    session.rollback()
    assert register_document(session, "general", date(2026, 5, 4), "a").number == 2


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
