"""Behind a load balancer the client's address comes from X-Forwarded-For, but only
when the operator said how many proxies to trust: otherwise anyone could forge it."""
from sqlalchemy import select

from engine.models import AuditEvent
from webapp_testkit import csrf

FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def failed_login(app, referer="https://localhost/autentificare"):
    client = app.test_client()
    token = csrf(client.get("/autentificare").text)
    headers = {**FORWARDED, **({"Referer": referer} if referer else {})}
    return client.post("/autentificare", headers=headers, data={
        "username": "primar", "password": "ghicit", "csrf_token": token})


def failed_login_address(app) -> str:
    assert failed_login(app).status_code == 401
    from webapp.database import db
    with app.app_context():
        ref = db.session.execute(select(AuditEvent.object_ref).where(
            AuditEvent.action == "user.login_failed").order_by(AuditEvent.id.desc())
        ).scalars().first()
        db.session.remove()
    return ref


def test_forwarded_address_is_ignored_unless_proxies_are_trusted(demo_app):
    assert failed_login_address(demo_app) == "ip:127.0.0.1"


def test_forwarded_address_and_scheme_are_used_behind_a_trusted_proxy(demo_app):
    from webapp import create_app
    behind = create_app({**{k: demo_app.config[k] for k in (
        "SQLALCHEMY_DATABASE_URI", "DATA_DIR", "STORAGE_DIR", "SEARCH_PATH", "SECRET_KEY",
        "SCAN_INBOX_DIR")}, "TESTING": True, "PROXY_HOPS": 1})
    assert failed_login_address(behind) == "ip:203.0.113.9"
    # The request counts as https: a form posted without a same-site Referer is refused,
    # as CSRF protection does for https.
    assert failed_login(behind, referer=None).status_code == 400
    assert failed_login(behind, referer="https://rau.example/").status_code == 400
    assert failed_login(demo_app, referer=None).status_code == 401
