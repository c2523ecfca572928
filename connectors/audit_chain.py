"""The audit trail's hash chain: sealing events after the fact, and checking the chain.

Why after the fact: events are inserted by many processes at once (web workers,
background workers, the scheduler) and inserting must stay as cheap as it is, so no
insert waits for a lock on the head of a chain. Instead a *sealing* step, run by the
scheduler's leader every minute and by `dosar audit seal`, gives every event not yet
sealed the next number (`seq` = previous maximum + 1, in `id` order) and a
`chain_hash` = SHA-256 over the event's fields and the previous event's chain_hash.
An event edited, deleted, moved or slipped in after sealing then breaks the chain,
and `verify` names it.

The chain is over `seq`, not `id`: ids have gaps (a MariaDB transaction that rolled
back still used up its autoincrement values) and are not committed in id order (a slow
transaction commits id 100 after id 101). Each batch takes the committed events still
without a seal, whatever their ids (up to the highest id when the run began, so a busy
town hall cannot keep one run going for ever): an event committed late gets a later
seq and is never skipped, and id gaps mean nothing to the chain, so are never reported.

Two sealers at once (the leader and an operator's `dosar audit seal`) take turns: each
batch begins by locking the chain (the oldest event's row on MariaDB, the write lock
on SQLite), reads the head after that, and fills only rows still without a seal;
`seq` is unique besides. So a second sealer can neither fork the chain nor reuse a seq.
"""
import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import case, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .audit import AuditEvent

# The "previous hash" of the first event, and a version tag inside every hash so that
# a later serialisation can be told apart from this one.
GENESIS = "0" * 64
FORMAT = "dosar-audit-chain-1"
SEAL_BATCH = 500
UPDATE_ROWS = 100          # rows per UPDATE: 5 parameters each, under SQLite's old 999
VERIFY_BATCH = 1000
# A report lists at most this many problems (it counts them all).
PROBLEM_LIMIT = 1000

_table = AuditEvent.__table__
_COLUMNS = (_table.c.id, _table.c.seq, _table.c.chain_hash, _table.c.at, _table.c.actor,
            _table.c.action, _table.c.instance_id, _table.c.object_ref, _table.c.summary,
            _table.c.before_json, _table.c.after_json)


class SealConflict(Exception):
    """Another process changed the chain under our lock: nothing of this batch is kept."""


def _moment(at: datetime | None) -> str | None:
    # Whole seconds: MariaDB's DATETIME keeps no fraction, SQLite does; a backup
    # restored from one into the other must still verify.
    return None if at is None else at.replace(microsecond=0).isoformat(sep=" ")


def chain_hash(row, seq: int, previous: str | None) -> str:
    """SHA-256 (hex) of one event's fields, its seq and the previous chain_hash, as
    compact JSON (UTF-8, fixed order): the canonical form both sealing and verifying use."""
    payload = [FORMAT, row.id, seq, _moment(row.at), row.actor, row.action, row.instance_id,
               row.object_ref, row.summary, row.before_json, row.after_json, previous]
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _lock_chain(session: Session) -> None:
    """Wait for, then hold until commit, the one lock every sealer takes first."""
    if session.get_bind().dialect.name == "sqlite":
        # A write statement, even one that changes nothing, takes SQLite's write lock.
        session.execute(text("UPDATE audit_event SET seq = seq WHERE 1 = 0"))
    else:
        # The oldest event's row: always there once there is anything to seal, and
        # locking it blocks no insert (READ COMMITTED takes no gap locks).
        session.execute(select(_table.c.id).order_by(_table.c.id).limit(1).with_for_update())


def _head(session: Session) -> tuple[int, str | None]:
    row = session.execute(select(_table.c.seq, _table.c.chain_hash)
                          .where(_table.c.seq.is_not(None))
                          .order_by(_table.c.seq.desc()).limit(1)).first()
    return (row.seq, row.chain_hash) if row is not None else (0, GENESIS)


def _write(session: Session, seals: list[tuple[int, int, str]]) -> None:
    """One UPDATE for many rows (a round trip per row made sealing a backlog slow),
    touching only rows still without a seal: all of them, or it is a conflict."""
    ids = [event_id for event_id, _seq, _hash in seals]
    done = session.execute(
        update(_table).where(_table.c.id.in_(ids), _table.c.seq.is_(None))
        .values(seq=case({i: s for i, s, _h in seals}, value=_table.c.id),
                chain_hash=case({i: h for i, _s, h in seals}, value=_table.c.id))).rowcount
    if done != len(ids):
        raise SealConflict(f"events {ids[0]}…{ids[-1]} were sealed by someone else")


def seal(session: Session, *, batch_size: int = SEAL_BATCH,
         keep_going: Callable[[], bool] | None = None) -> int:
    """Seal every event committed before this call and not sealed yet, in id order,
    one committed batch at a time. Returns how many were sealed. `keep_going` is asked
    before each batch (the scheduler's leader stops when it has lost its lease).

    Owns its transactions (whatever is pending on `session` is committed first)."""
    upto = session.execute(select(func.max(_table.c.id))).scalar()
    session.commit()
    if upto is None:
        return 0
    sealed = 0
    while keep_going is None or keep_going():
        try:
            _lock_chain(session)
            seq, previous = _head(session)
            rows = session.execute(
                select(*_COLUMNS)
                # A row with a chain_hash but no seq had its seq taken away: it stays
                # out (verify names it) rather than be sealed again in a new place.
                .where(_table.c.seq.is_(None), _table.c.chain_hash.is_(None),
                       _table.c.id <= upto)
                .order_by(_table.c.id).limit(batch_size)).all()
            seals = []
            for row in rows:
                seq += 1
                previous = chain_hash(row, seq, previous)
                seals.append((row.id, seq, previous))
            for start in range(0, len(seals), UPDATE_ROWS):
                _write(session, seals[start:start + UPDATE_ROWS])
            session.commit()
        except IntegrityError as err:
            session.rollback()
            raise SealConflict(f"seq {seq} is taken already: {err.orig}") from err
        except BaseException:
            session.rollback()
            raise
        sealed += len(rows)
        if len(rows) < batch_size:
            break
    return sealed


# ------------------------------------------------------------------------- verify

# What a problem is, as the report's `kind`:
EDITED = "edited"          # content no longer matches the seal the next event was built on
DELETED = "deleted"        # seq numbers missing: events removed
REORDERED = "reordered"    # its seal is not the one the chain continues from: moved/forged
UNLINKED = "unlinked"      # does not follow its predecessor, right after a reordered one
UNSEALED = "unsealed"      # has a chain_hash but its seq was taken away
ANCHOR = "anchor"          # a head exported earlier is no longer in the chain


@dataclass
class Problem:
    kind: str
    seq: int | None
    event_id: int | None
    action: str | None = None
    object_ref: str | None = None
    at: str | None = None              # UTC, to the second
    # DELETED: the missing seq numbers, and the sealed events on either side.
    missing_from: int | None = None
    missing_to: int | None = None
    previous_event_id: int | None = None


@dataclass
class Report:
    checked: int = 0                   # sealed events walked
    unsealed: int = 0                  # events not sealed yet (normal: the newest)
    head_seq: int | None = None        # the last sealed event: export these two daily
    head_hash: str | None = None
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)   # the first PROBLEM_LIMIT

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem, limit: int) -> None:
        self.problem_count += 1
        if len(self.problems) < limit:
            self.problems.append(problem)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "unsealed": self.unsealed,
                "head": {"seq": self.head_seq, "hash": self.head_hash},
                "problem_count": self.problem_count,
                "first": asdict(self.first) if self.first else None,
                "problems": [asdict(p) for p in self.problems]}


def _problem(kind: str, row, **extra) -> Problem:
    return Problem(kind, row.seq, row.id, row.action, row.object_ref,
                   _moment(row.at), **extra)


def _sealed_rows(session: Session, batch_size: int):
    """Sealed events in seq order, a batch at a time (keyset on seq)."""
    after = 0
    while True:
        rows = session.execute(select(*_COLUMNS).where(_table.c.seq > after)
                               .order_by(_table.c.seq).limit(batch_size)).all()
        yield from rows
        if len(rows) < batch_size:
            return
        after = rows[-1].seq


def verify(session: Session, *, batch_size: int = VERIFY_BATCH, limit: int = PROBLEM_LIMIT,
           anchor: tuple[int, str] | None = None) -> Report:
    """Walk the chain in seq order (bounded memory) and report every broken event.
    Reads only. `anchor`: a (seq, chain_hash) exported earlier, which must still be
    in the chain (the only defence against someone who rewrote the whole chain).

    An event whose hash does not match is judged by the next one: if the next event
    was sealed on this one's stored chain_hash, the seal is the original and the
    content changed (EDITED); if not, the seal itself is not the one the chain was
    built on (REORDERED: moved, replaced or forged), and a failing event right after
    such a break is UNLINKED."""
    report = Report()
    previous_row, previous_hash = None, GENESIS
    pending, pending_after_break = None, False     # a failed event awaiting its judge

    def judge(next_linked: bool) -> None:
        """Classify the pending event by whether the next one was sealed on it."""
        if not next_linked:
            kind = REORDERED
        else:
            kind = UNLINKED if pending_after_break else EDITED
        report.add(_problem(kind, pending), limit)

    for row in _sealed_rows(session, batch_size):
        report.checked += 1
        expected = 1 if previous_row is None else previous_row.seq + 1
        if row.seq != expected:
            if pending is not None:
                judge(True)        # nothing to judge it by: the content is suspected
                pending = None
            report.add(_problem(DELETED, row, missing_from=expected, missing_to=row.seq - 1,
                                previous_event_id=previous_row.id if previous_row else None),
                       limit)
        else:
            linked = chain_hash(row, row.seq, previous_hash) == row.chain_hash
            if pending is not None:
                judge(linked)
                pending = None
                if not linked:     # the one before broke the chain; this one follows it
                    pending, pending_after_break = row, True
            elif not linked:
                pending, pending_after_break = row, False
        previous_row, previous_hash = row, row.chain_hash
    if pending is not None:
        judge(True)
    if previous_row is not None:
        report.head_seq, report.head_hash = previous_row.seq, previous_row.chain_hash

    for row in session.execute(select(*_COLUMNS).where(
            _table.c.seq.is_(None), _table.c.chain_hash.is_not(None))
            .order_by(_table.c.id).limit(limit)).all():
        report.add(_problem(UNSEALED, row), limit)
    report.unsealed = session.execute(select(func.count()).select_from(_table)
                                      .where(_table.c.seq.is_(None))).scalar()
    if anchor is not None:
        seq, expected_hash = anchor
        row = session.execute(select(*_COLUMNS).where(_table.c.seq == seq)).first()
        if row is None or row.chain_hash != expected_hash:
            report.add(_problem(ANCHOR, row) if row is not None
                       else Problem(ANCHOR, seq, None), limit)
    return report
