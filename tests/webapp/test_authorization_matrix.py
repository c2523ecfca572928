"""Every endpoint of the app × every role, against `webapp/permissions.py`.

Generated from the route table: each endpoint is requested by a demo person of each
role (citizens: nobody logged in), with real objects of the demo town hall as its
arguments — an entry, a case, a task, a document of *another* department than the
clerk's and head's (`town_samples.py`). GET where the route has it, else a POST with a
valid CSRF token and empty data. What the declaration denies must answer 403 (a
redirect to the login page for someone not logged in; 403 or 404 for a role allowed
only on its own things); what it allows must not. An endpoint nobody declared fails.

One app and one client per role for the whole matrix (SQLite), so it runs in well under
two minutes.
"""
import tempfile

import pytest
from demo_town import demo_town
from flask import Flask

from webapp import create_app
from webapp import permissions
from webapp.permissions import ROLES, access_of, undeclared

from town_samples import REPRESENTATIVES, build_town, client_for

ROLE_NAMES = list(REPRESENTATIVES)
HOW_TO_DECLARE = ("declare it in webapp/permissions.py: add '{endpoint}' to ENDPOINTS with "
                  "public(reason), staff(reason) or allow(<roles>, own=<roles>, reason=...)")


def _app_of_routes() -> Flask:
    """The app as built for production, only to read its route table (no database)."""
    scratch = tempfile.mkdtemp(prefix="dosar-routes-")
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "routes",
                       "DATA_DIR": scratch, "STORAGE_DIR": scratch,
                       "SEARCH_PATH": f"{scratch}/search.sqlite", "SCAN_INBOX_DIR": scratch})


ROUTES_APP = _app_of_routes()
# (endpoint, its first rule) for every endpoint, as the app registers them.
ROUTES = sorted({r.endpoint: r for r in reversed(list(ROUTES_APP.url_map.iter_rules()))}.items())


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    from webapp.database import db
    app = demo_town(tmp_path_factory.mktemp("matrix"))
    town = build_town(app)
    town.clients = {role: client_for(app, role) for role in ROLE_NAMES}
    town.app = app
    yield town
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def sample_values(endpoint: str, rule, town) -> dict:
    """Arguments of real objects, Urbanism's (not the clerk's and head's department)."""
    case = town.other
    known = {
        "entry_id": case.entry_id, "instance_id": case.instance_id, "task_id": case.task_id,
        "document_id": case.document_id, "uid": case.document_uid, "number": 1,
        "kind": "original", "sha256": case.scan_sha256, "folder_id": town.folder_id,
        "list_id": town.disposal_list_id, "batch_id": town.batch_id,
        "segment_id": town.segment_id, "absence_id": town.absence_id,
        "delegation_id": town.delegation_id, "code": "ro",
        "filename": "indicators.css" if endpoint == "indicators.static" else "dosar.css",
    }
    values = {}
    for name in rule.arguments:
        if name in known:
            values[name] = known[name]
        else:
            # A new route's argument: some value of the right shape (a missing object
            # answers 404, which a denied role must still not reach: permission first).
            converter = type(rule._converters[name]).__name__
            values[name] = 1 if converter in ("IntegerConverter", "NumberConverter") else "x"
    return values


def request_as(town, role: str, endpoint: str, rule):
    url = town.app.url_map.bind("localhost").build(endpoint, sample_values(endpoint, rule, town))
    client = town.clients[role]
    if endpoint == "auth.logout":      # its own session: logging out must not end the role's
        client = client_for(town.app, role)
    if "GET" in rule.methods:
        return url, client.get(url)
    return url, client.post(url, data={"csrf_token": client.csrf_token},
                            content_type="multipart/form-data")


def _to_login(response) -> bool:
    return response.status_code in (301, 302, 303) and "/autentificare" in response.location


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("endpoint,rule", ROUTES, ids=[e for e, _ in ROUTES])
def test_endpoint_for_role(town, endpoint, rule, role):
    access = access_of(endpoint)
    assert access is not None, (
        f"endpoint {endpoint} ({rule.rule}) is not declared: "
        + HOW_TO_DECLARE.format(endpoint=endpoint))
    url, response = request_as(town, role, endpoint, rule)
    status = response.status_code
    where = f"{endpoint} as {role} ({REPRESENTATIVES[role] or 'not logged in'}): {url}"
    assert status < 500, f"{where} failed with {status}"
    if access.public:       # logging out sends one to the login page: that is its answer
        assert status != 403, f"{where} is declared public but was refused ({status})"
    elif role in access.roles:
        assert status != 403 and not _to_login(response), (
            f"{where} is declared {access.label} but was refused ({status})")
    elif role == "citizen":
        assert _to_login(response) or status == 403, (
            f"{where}: someone not logged in got {status}, not the login page")
    elif role in access.own:
        assert status in (403, 404), (
            f"{where}: allowed only on its own things, got {status} on another "
            "department's")
    else:
        assert status == 403, f"{where} is declared {access.label} but answered {status}"


def test_every_endpoint_is_declared_and_every_declaration_is_an_endpoint():
    missing = undeclared(ROUTES_APP)
    assert not missing, "Endpoints nobody declared: " + "; ".join(
        HOW_TO_DECLARE.format(endpoint=e) for e in missing)
    stale = sorted(set(permissions.ENDPOINTS) - {endpoint for endpoint, _ in ROUTES})
    assert not stale, f"Declared in webapp/permissions.py but no such endpoint: {stale}"


def test_a_new_route_is_undeclared_until_someone_declares_it():
    app = Flask(__name__)
    assert undeclared(app) == []                   # its static files are declared
    app.add_url_rule("/raport-nou", "reports.new_report", lambda: "")
    assert undeclared(app) == ["reports.new_report"]
    # The audit blueprint (another engineer's) is declared as a whole, for auditors.
    app.add_url_rule("/audit/evenimente", "audit.events", lambda: "")
    assert "audit.events" not in undeclared(app)
    assert access_of("audit.events").roles == {"auditor", "administrator"}


def test_every_role_has_a_demo_person_who_holds_it(town):
    from sqlalchemy import select
    from webapp.auth.models import User
    from webapp.database import db
    with town.app.app_context():
        for role, username in REPRESENTATIVES.items():
            if username is None:
                assert role == "citizen"
                continue
            user = db.session.execute(select(User).where(User.username == username)).scalar_one()
            assert role in permissions.roles_of(user.groups), (role, username, user.groups)
        db.session.remove()
    assert set(REPRESENTATIVES) == set(ROLES)




def test_a_dated_signing_delegation_makes_its_holder_a_signer_for_its_dates(town):
    from datetime import date, timedelta
    from sqlalchemy import select
    from engine.models_org import SigningDelegation
    from webapp.auth.models import User
    from webapp.database import db
    today = date.today()
    with town.app.app_context():
        clerk = db.session.execute(select(User).where(
            User.username == "functionar.comert")).scalar_one()
        assert "signer" not in permissions.roles_of_user(db.session, clerk, today)
        db.session.add(SigningDelegation(
            holder="functionar.comert", act_reference="Dispoziția nr. 12", starts_on=today,
            ends_on=today + timedelta(days=2), scope="acorduri de funcționare",
            created_by="primar"))
        db.session.commit()
        assert permissions.roles_of_user(db.session, clerk, today) == {"clerk", "signer"}
        assert "signer" not in permissions.roles_of_user(db.session, clerk,
                                                         today + timedelta(days=3))
        db.session.remove()
