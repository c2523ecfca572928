"""One's own account: a new password must pass the policy, the second factor is enrolled
with a real TOTP code, and an idle session ends."""
import time

import pyotp
import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from webapp.auth.models import User
from webapp_testkit import csrf, login, post


@pytest.fixture
def database_url(tmp_path):          # screens and sessions: no database difference
    return f"sqlite:///{tmp_path / 'dosar.db'}"


def change(client, current, new, again=None):
    return post(client, "/cont/parola", {"current": current, "new": new,
                                         "again": new if again is None else again},
                page_url="/cont/")


def events(app, action):
    from webapp.database import db
    with app.app_context():
        found = db.session.execute(select(AuditEvent.actor).where(
            AuditEvent.action == action)).scalars().all()
        db.session.remove()
    return found


@pytest.mark.parametrize("new, message", [
    ("scurt1", "cel puțin 12 caractere"),
    ("parola123456", "prea ușor de ghicit"),
    ("qwertyuiop123", "prea ușor de ghicit"),
    ("functionar.relatii-2026", "numele de utilizator"),
])
def test_a_weak_password_is_refused_with_the_reason(demo_app, new, message):
    client = login(demo_app.test_client(), "functionar.relatii")
    response = change(client, "demo1234", new)
    assert response.status_code == 422 and message in response.text
    assert events(demo_app, "user.password_changed") == []


def test_a_good_password_replaces_the_old_one(demo_app):
    client = login(demo_app.test_client(), "functionar.relatii")
    assert "Parola actuală nu este corectă" in change(client, "greșită", "x").text
    assert "nu coincid" in change(client, "demo1234", "fluture verde pe acoperiș",
                                  "alta fraza").text
    response = change(client, "demo1234", "fluture verde pe acoperiș")
    assert response.status_code == 302
    assert events(demo_app, "user.password_changed") == ["functionar.relatii"]
    login(demo_app.test_client(), "functionar.relatii", "fluture verde pe acoperiș")
    old = demo_app.test_client()
    token = csrf(old.get("/autentificare").text)
    assert old.post("/autentificare", data={"username": "functionar.relatii",
                                            "password": "demo1234",
                                            "csrf_token": token}).status_code == 401


def test_the_second_factor_is_enrolled_with_a_code_from_the_app(demo_app):
    client = login(demo_app.test_client(), "primar")
    assert 'data-second-factor="off"' in client.get("/cont/").text
    page = post(client, "/cont/doi-factori/incepe", {}, page_url="/cont/",
                follow_redirects=True).text
    secret = page.split("data-totp-secret>")[1].split("<")[0]
    assert "<svg" in page                                   # the QR to scan
    wrong = post(client, "/cont/doi-factori/confirma", {"code": "000000"}, page_url="/cont/")
    assert wrong.status_code == 422 and "Codul nu este corect" in wrong.text
    ok = post(client, "/cont/doi-factori/confirma", {"code": pyotp.TOTP(secret).now()},
              page_url="/cont/")
    assert ok.status_code == 302
    from webapp.database import db
    with demo_app.app_context():
        stored = db.session.execute(select(User.totp_secret).where(
            User.username == "primar")).scalar_one()
        db.session.remove()
    assert stored == secret
    assert 'data-second-factor="on"' in client.get("/cont/").text
    assert events(demo_app, "user.second_factor_enabled") == ["primar"]
    post(client, "/cont/doi-factori/dezactiveaza", {"code": pyotp.TOTP(secret).now()},
         page_url="/cont/")
    assert 'data-second-factor="off"' in client.get("/cont/").text
    assert events(demo_app, "user.second_factor_disabled") == ["primar"]


def test_an_idle_session_ends_and_says_why(demo_app):
    demo_app.config["SESSION_IDLE_MINUTES"] = 30
    client = login(demo_app.test_client(), "registratura")
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - 29 * 60          # still within the half hour
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - 31 * 60
    response = client.get("/registratura/", follow_redirects=True)
    assert "Sesiunea a expirat" in response.text and 'name="password"' in response.text
    assert client.get("/").status_code == 302                  # and stays ended


def enrol(app, username) -> str:
    from webapp.database import db
    secret = pyotp.random_base32()
    with app.app_context():
        db.session.execute(select(User).where(User.username == username)).scalar_one() \
            .totp_secret = secret
        db.session.commit()
        db.session.remove()
    return secret


def password_step(client, username, password="demo1234"):
    token = csrf(client.get("/autentificare").text)
    return client.post("/autentificare", data={"username": username, "password": password,
                                               "csrf_token": token, "next": "/registratura/"})


def test_with_a_second_factor_the_password_alone_does_not_log_in(demo_app):
    secret = enrol(demo_app, "registratura")
    client = demo_app.test_client()
    response = password_step(client, "registratura")
    assert response.headers["Location"].endswith("/autentificare/cod")
    assert client.get("/registratura/").status_code == 302          # not logged in yet
    page = client.get("/autentificare/cod").text
    wrong = client.post("/autentificare/cod", data={"code": "123456", "csrf_token": csrf(page)})
    assert wrong.status_code == 401 and "Codul nu este corect" in wrong.text
    assert client.get("/registratura/").status_code == 302
    right = client.post("/autentificare/cod", data={"code": pyotp.TOTP(secret).now(),
                                                    "csrf_token": csrf(page)})
    assert right.status_code == 302 and right.headers["Location"].endswith("/registratura/")
    assert client.get("/registratura/").status_code == 200
    assert events(demo_app, "user.logged_in") == ["registratura"]


def test_wrong_codes_lock_like_wrong_passwords_and_the_step_expires(demo_app):
    secret = enrol(demo_app, "registratura")
    client = demo_app.test_client()
    password_step(client, "registratura")
    page = client.get("/autentificare/cod").text
    for _ in range(5):
        client.post("/autentificare/cod", data={"code": "000000", "csrf_token": csrf(page)})
    locked = client.post("/autentificare/cod", data={"code": pyotp.TOTP(secret).now(),
                                                     "csrf_token": csrf(page)},
                         follow_redirects=True)
    assert "Prea multe încercări" in locked.text
    assert client.get("/registratura/").status_code == 302

    other = demo_app.test_client()
    enrol(demo_app, "primar")
    password_step(other, "primar")
    with other.session_transaction() as session:
        pending = session["login_pending_second_factor"]
        session["login_pending_second_factor"] = {**pending, "at": pending["at"] - 301}
    expired = other.get("/autentificare/cod", follow_redirects=True)
    assert "Autentificarea a expirat" in expired.text
