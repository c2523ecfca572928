"""The audit trail's hash chain (connectors/audit_chain.py), on SQLite and MariaDB:
sealing numbers events in order and verify recomputes the chain; an event edited,
deleted, swapped or moved after sealing is named; id gaps (rolled-back inserts, late
commits) are normal and never reported; two sealers at once make one chain."""
import threading

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from connectors import audit_chain as chain
from connectors.audit import AuditEvent, record_event


def add_events(session, count: int, start: int = 0) -> list[int]:
    for n in range(start, start + count):
        record_event(session, f"functionar{n % 3}", "task.completed",
                     object_ref=f"entry:{n}", summary=f"Pasul {n} — semnat",
                     before={"n": n}, after={"n": n + 1, "text": "ș ț ă"}, instance_id=n % 5)
    session.commit()
    return ids(session)[-count:]


def ids(session) -> list[int]:
    return list(session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())


def id_of_seq(session, seq: int) -> int:
    return session.execute(select(AuditEvent.id).where(AuditEvent.seq == seq)).scalar_one()


def raw(session, sql: str, **params) -> None:
    session.execute(text(sql), params)
    session.commit()


def problems(report) -> list[tuple[str, int]]:
    return [(p.kind, p.event_id) for p in report.problems]


def test_sealing_numbers_events_in_id_order_and_verify_agrees(session):
    assert chain.seal(session) == 0 and chain.verify(session).ok       # nothing yet
    added = add_events(session, 25)
    before = chain.verify(session)
    assert before.ok and before.checked == 0 and before.unsealed == 25
    assert chain.seal(session, batch_size=7) == 25
    rows = session.execute(select(AuditEvent.id, AuditEvent.seq, AuditEvent.chain_hash)
                           .order_by(AuditEvent.id)).all()
    assert [r.id for r in rows] == added and [r.seq for r in rows] == list(range(1, 26))
    assert all(len(r.chain_hash) == 64 for r in rows)
    assert len({r.chain_hash for r in rows}) == 25

    report = chain.verify(session, batch_size=4)
    assert report.ok, problems(report)
    assert (report.checked, report.unsealed, report.head_seq) == (25, 0, 25)
    assert report.head_hash == rows[-1].chain_hash

    add_events(session, 3, start=25)
    assert chain.verify(session).unsealed == 3
    assert chain.seal(session) == 3 and chain.seal(session) == 0
    assert chain.verify(session, batch_size=4).checked == 28


def test_an_edited_summary_is_named(session):
    add_events(session, 12)
    chain.seal(session)
    target = id_of_seq(session, 5)
    raw(session, "UPDATE audit_event SET summary = 'Pasul 4 — nesemnat' WHERE id = :id",
        id=target)
    report = chain.verify(session, batch_size=3)
    assert not report.ok and report.problem_count == 1
    first = report.first
    assert (first.kind, first.event_id, first.seq) == (chain.EDITED, target, 5)
    assert (first.action, first.object_ref) == ("task.completed", "entry:4")


@pytest.mark.parametrize("column, value", [
    ("actor", "'altcineva'"), ("after_json", "'{}'"), ("instance_id", "99"),
    ("at", "'2020-01-01 10:00:00'"), ("action", "'task.claimed'")])
def test_every_chained_field_is_covered(session, column, value):
    add_events(session, 4)
    chain.seal(session)
    target = id_of_seq(session, 2)
    raw(session, f"UPDATE audit_event SET {column} = {value} WHERE id = :id", id=target)
    assert problems(chain.verify(session)) == [(chain.EDITED, target)]


def test_a_deleted_event_is_a_named_gap(session):
    add_events(session, 10)
    chain.seal(session)
    before, gone, after = (id_of_seq(session, s) for s in (4, 5, 6))
    raw(session, "DELETE FROM audit_event WHERE id = :id", id=gone)
    report = chain.verify(session, batch_size=2)
    assert report.problem_count == 1
    p = report.first
    assert (p.kind, p.missing_from, p.missing_to) == (chain.DELETED, 5, 5)
    assert (p.previous_event_id, p.event_id) == (before, after)

    first = id_of_seq(session, 1)
    raw(session, "DELETE FROM audit_event WHERE id = :id", id=first)
    kinds = [(p.kind, p.missing_from, p.event_id) for p in chain.verify(session).problems]
    assert kinds == [(chain.DELETED, 1, id_of_seq(session, 2)), (chain.DELETED, 5, after)]


def test_swapped_contents_name_both_events(session):
    add_events(session, 12)
    chain.seal(session)
    a, b = id_of_seq(session, 3), id_of_seq(session, 8)
    _swap_contents(session, a, b)
    assert sorted(problems(chain.verify(session))) == sorted(
        [(chain.EDITED, a), (chain.EDITED, b)])


def test_neighbours_swapped_or_moved_break_the_chain_there(session):
    add_events(session, 12)
    chain.seal(session)
    a, b = id_of_seq(session, 4), id_of_seq(session, 5)
    _swap_contents(session, a, b)                     # two neighbours trade places
    assert problems(chain.verify(session)) == [(chain.REORDERED, a), (chain.UNLINKED, b)]
    _swap_contents(session, a, b)
    assert chain.verify(session).ok

    # Two events moved in the chain: their places (seq) swapped, seals and all.
    c, d = id_of_seq(session, 2), id_of_seq(session, 9)
    after_c, after_d = id_of_seq(session, 3), id_of_seq(session, 10)
    raw(session, "UPDATE audit_event SET seq = -1 WHERE id = :id", id=c)
    raw(session, "UPDATE audit_event SET seq = 2 WHERE id = :id", id=d)
    raw(session, "UPDATE audit_event SET seq = 9 WHERE id = :id", id=c)
    report = chain.verify(session)
    assert problems(report) == [(chain.REORDERED, d), (chain.UNLINKED, after_c),
                                (chain.REORDERED, c), (chain.UNLINKED, after_d)]
    assert report.first.event_id == d


def _swap_contents(session, a: int, b: int) -> None:
    columns = ("actor", "action", "object_ref", "summary", "before_json", "after_json")
    rows = {r.id: r for r in session.execute(
        select(AuditEvent.__table__).where(AuditEvent.id.in_([a, b]))).all()}
    for target, source in ((a, b), (b, a)):
        session.execute(AuditEvent.__table__.update().where(AuditEvent.id == target)
                        .values({c: getattr(rows[source], c) for c in columns}))
    session.commit()


def test_id_gaps_and_late_commits_are_not_reported(session):
    add_events(session, 5)
    record_event(session, "x", "task.claimed", object_ref="entry:rolled-back")
    session.flush()
    session.rollback()             # on MariaDB the id is used up: a gap in ids
    last = ids(session)[-1]
    # An event committed late with a lower id than one already sealed, and a gap.
    session.execute(insert(AuditEvent.__table__).values(
        id=last + 50, action="task.claimed", actor="a", object_ref="entry:late", summary=""))
    session.commit()
    assert chain.seal(session) == 6
    assert chain.verify(session).ok
    session.execute(insert(AuditEvent.__table__).values(
        id=last + 20, action="task.claimed", actor="b", object_ref="entry:lower", summary=""))
    session.commit()
    report = chain.verify(session)
    assert report.ok and report.unsealed == 1            # waiting, not skipped
    assert chain.seal(session) == 1
    report = chain.verify(session)
    assert report.ok and report.unsealed == 0 and report.checked == 7
    assert id_of_seq(session, 7) == last + 20            # the chain is over seq, not id


def test_an_event_committed_late_on_mariadb_is_sealed_next_time(app, session):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql"):
        pytest.skip("concurrent writers: MariaDB")
    add_events(session, 3)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"],
                           isolation_level="READ COMMITTED")
    with engine.connect() as slow:
        slow.begin()
        slow.execute(insert(AuditEvent.__table__).values(
            action="task.completed", actor="lent", object_ref="entry:slow", summary=""))
        slow_id = slow.execute(text("SELECT LAST_INSERT_ID()")).scalar()
        fast = add_events(session, 2, start=3)
        assert min(fast) > slow_id                    # a higher id, committed first
        assert chain.seal(session) == 5               # the slow one is not visible yet
        slow.commit()
    engine.dispose()
    report = chain.verify(session)
    assert report.ok and report.unsealed == 1
    assert chain.seal(session) == 1
    report = chain.verify(session)
    assert report.ok and report.unsealed == 0 and id_of_seq(session, 6) == slow_id


def test_two_sealers_at_once_make_one_chain(app, session):
    from webapp.database import db
    add_events(session, 300)
    session.commit()                  # SQLite: let go of the write lock
    barrier = threading.Barrier(3)
    sealed, errors = [], []

    def sealer():
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(5):
                    sealed.append(chain.seal(db.session, batch_size=7))
                db.session.remove()
        except Exception as err:      # reported below, with the test's failure
            errors.append(err)

    def writer():
        try:
            with app.app_context():
                barrier.wait()
                for n in range(60):
                    record_event(db.session, "w", "task.claimed", object_ref=f"entry:w{n}")
                    db.session.commit()
                db.session.remove()
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=sealer), threading.Thread(target=sealer),
               threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    total = sum(sealed) + chain.seal(session)
    assert total == 360                                   # each event sealed once
    seqs = list(session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars())
    assert seqs == list(range(1, 361))
    report = chain.verify(session)
    assert report.ok and report.checked == 360, problems(report)


def test_a_rewritten_chain_is_caught_only_by_an_exported_head(session):
    add_events(session, 6)
    chain.seal(session)
    head = chain.verify(session)
    anchor = (head.head_seq, head.head_hash)
    assert chain.verify(session, anchor=anchor).ok
    # Someone edits an event and rebuilds every seal from there on.
    target = id_of_seq(session, 2)
    raw(session, "UPDATE audit_event SET summary = 'rescris' WHERE id = :id", id=target)
    raw(session, "UPDATE audit_event SET seq = NULL, chain_hash = NULL")
    chain.seal(session)
    assert chain.verify(session).ok                       # the limit of a lone chain
    report = chain.verify(session, anchor=anchor)
    assert [(p.kind, p.seq) for p in report.problems] == [(chain.ANCHOR, anchor[0])]


def test_an_event_taken_out_of_the_chain_stays_out_and_is_named(session):
    add_events(session, 5)
    chain.seal(session)
    last = id_of_seq(session, 5)
    raw(session, "UPDATE audit_event SET seq = NULL WHERE id = :id", id=last)
    assert chain.seal(session) == 0                       # not sealed again elsewhere
    report = chain.verify(session)
    assert problems(report) == [(chain.UNSEALED, last)] and report.unsealed == 1
    assert session.execute(select(func.count()).where(AuditEvent.seq.is_(None))).scalar() == 1
