"""Failed logins lock the account (and the address) for a while."""
from datetime import timedelta

from sqlalchemy import select

from engine.models import AuditEvent
from webapp.auth.models import LoginFailure
from webapp_testkit import csrf


def attempt(client, username, password):
    token = csrf(client.get("/autentificare").text)
    return client.post("/autentificare", data={"username": username, "password": password,
                                                "csrf_token": token})


def test_five_failures_lock_the_account_even_for_the_right_password(demo_app):
    client = demo_app.test_client()
    for _ in range(5):
        assert attempt(client, "primar", "ghicit").status_code == 401
    refused = attempt(client, "primar", "demo1234")
    assert refused.status_code == 429
    assert "Prea multe încercări eșuate. Reîncercați peste 15 minute." in refused.text
    # Another account from elsewhere is not affected by this one's lock.
    assert attempt(demo_app.test_client(), "registratura", "demo1234").status_code == 302
    from webapp.database import db
    with demo_app.app_context():
        failed = db.session.execute(select(AuditEvent.actor).where(
            AuditEvent.action == "user.login_failed")).scalars().all()
        assert failed == ["primar"] * 5
        # Fifteen minutes later the lock is gone.
        for failure in db.session.execute(select(LoginFailure)).scalars():
            failure.at -= timedelta(minutes=16)
        db.session.commit()
    assert attempt(client, "primar", "demo1234").status_code == 302
    with demo_app.app_context():
        remaining = db.session.execute(select(LoginFailure).where(
            LoginFailure.username == "primar")).first()
        assert remaining is None          # a successful login clears the count


def test_many_failures_from_one_address_lock_the_address(demo_app):
    demo_app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    client = demo_app.test_client()
    for name in ("a", "b", "c"):             # guessing names, one try each
        assert attempt(client, name, "x").status_code == 401
    assert attempt(client, "registratura", "demo1234").status_code == 429
