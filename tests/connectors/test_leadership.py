"""The scheduler lease: one leader at a time, taken over only once it has expired,
renewed by its holder, its term growing each time it changes hands. Both databases."""
from datetime import timedelta

from connectors.db import utcnow
from connectors.jobs.leadership import LeaderElection
from connectors.jobs.models import SchedulerLease


def lease(session):
    session.expire_all()
    row = session.get(SchedulerLease, "scheduler")
    session.rollback()
    return row


def test_only_one_candidate_leads_and_a_live_lease_is_not_taken(session):
    a = LeaderElection(holder="host-a:1:aaa", ttl_seconds=15)
    b = LeaderElection(holder="host-b:2:bbb", ttl_seconds=15)
    assert a.try_lead(session) and a.held() and a.term == 1
    assert not b.try_lead(session) and not b.held()
    # Later, but before the lease runs out: still a's.
    assert not b.try_lead(session, now=utcnow() + timedelta(seconds=10))
    row = lease(session)
    assert (row.holder, row.term) == ("host-a:1:aaa", 1)


def test_the_holder_renews_without_a_new_term(session):
    a = LeaderElection(holder="host-a:1:aaa", ttl_seconds=15)
    start = utcnow().replace(microsecond=0)
    assert a.try_lead(session, now=start)
    acquired = lease(session).acquired_at
    assert a.try_lead(session, now=start + timedelta(seconds=10))
    row = lease(session)
    assert row.term == 1 and row.acquired_at == acquired
    assert row.expires_at == start + timedelta(seconds=25)   # pushed forward
    # …so a rival that would have found the first lease expired does not get it.
    b = LeaderElection(holder="host-b:2:bbb", ttl_seconds=15)
    assert not b.try_lead(session, now=start + timedelta(seconds=20))


def test_an_expired_lease_is_taken_over_with_a_new_term(session):
    a = LeaderElection(holder="host-a:1:aaa", ttl_seconds=15)
    b = LeaderElection(holder="host-b:2:bbb", ttl_seconds=15)
    start = utcnow().replace(microsecond=0)
    assert a.try_lead(session, now=start)
    later = start + timedelta(seconds=16)      # a died and did not renew
    assert b.try_lead(session, now=later) and b.term == 2
    row = lease(session)
    assert (row.holder, row.term, row.acquired_at) == ("host-b:2:bbb", 2, later)
    # The old leader, back from a pause, cannot renew what is no longer its own.
    assert not a.try_lead(session, now=later + timedelta(seconds=1))
    assert not a.held() and not a.ensure(session)
    # Handed back once more: the term keeps growing.
    assert a.try_lead(session, now=later + timedelta(seconds=40)) and a.term == 3


def test_a_released_lease_is_taken_at_once(session):
    a = LeaderElection(holder="host-a:1:aaa", ttl_seconds=15)
    b = LeaderElection(holder="host-b:2:bbb", ttl_seconds=15)
    assert a.try_lead(session)
    b.release(session)                  # not b's to give up: nothing happens
    assert not b.try_lead(session)
    a.release(session)
    assert not a.held() and lease(session).holder is None
    assert b.try_lead(session) and b.term == 2


def test_a_paused_leader_stops_leading_on_its_own_clock(session, monkeypatch):
    import time
    a = LeaderElection(holder="host-a:1:aaa", ttl_seconds=15)
    assert a.try_lead(session) and a.held() and not a.needs_renewal()
    real = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: real + 6)
    assert a.held() and a.needs_renewal()       # a third used up: renew before working
    monkeypatch.setattr(time, "monotonic", lambda: real + 16)
    assert not a.held()        # frozen past its lease: no work until the database says so
