"""The scheduler's leader-only duties: a candidate that does not hold the lease, or
lost it while paused, fires nothing; the one holding it fires the due timer once."""
import time
from datetime import timedelta

from sqlalchemy import select


def due_timer(app) -> int:
    from connectors.db import utcnow
    from engine import runtime
    from engine.models_sla import Timer
    from webapp.database import db
    from webapp.demo import load_demo
    from tests.conftest import ROOT
    with app.app_context():
        load_demo(ROOT / "processes")
        instance = runtime.start_instance(
            db.session, "petition", {"sender_name": "Ana Pop", "summary": "Iluminat",
                                     "department": "relatii-publice"},
            runtime.Actor("registratura", frozenset({"registratura"})))
        timer = Timer(instance_id=instance.id, kind="escalation", payload_json="{}",
                      due_at=utcnow() - timedelta(seconds=1))
        db.session.add(timer)
        db.session.commit()
        timer_id = timer.id
        db.session.remove()
    return timer_id


def fired_at(app, timer_id):
    from engine.models_sla import Timer
    from webapp.database import db
    with app.app_context():
        value = db.session.execute(select(Timer.fired_at).where(Timer.id == timer_id)).scalar()
        db.session.remove()
    return value


def test_only_the_lease_holder_fires_and_a_paused_leader_stops(app, monkeypatch):
    from connectors.db import utcnow
    from webapp import scheduler
    timer_id = due_timer(app)
    old = scheduler.Candidate(app, holder="old:1:a")
    new = scheduler.Candidate(app, holder="new:2:b")
    assert old.campaign() and not new.campaign()
    assert scheduler.tick(app, new) == [] and fired_at(app, timer_id) is None

    # The old leader freezes past its lease; the other takes the lease over.
    real = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: real + old.election.ttl + 1)
    with app.app_context():
        from webapp.database import db
        later = utcnow() + timedelta(seconds=old.election.ttl + 1)
        assert new.election.try_lead(db.session, now=later)
        db.session.remove()
    # Woken up, the old leader checks before firing: the lease is gone, nothing fires.
    assert scheduler.tick(app, old) == [] and not old.leading
    assert fired_at(app, timer_id) is None
    fired = scheduler.tick(app, new)
    assert [f.timer_id for f in fired] == [timer_id] and fired_at(app, timer_id) is not None
    assert scheduler.tick(app, new) == []                        # once
