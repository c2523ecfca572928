"""The JSON API fuzzed from its own OpenAPI description (schemathesis): whatever a client
sends, no answer is a server error, and every answer's status is one the description
declares. A new JSON endpoint must be described in webapp/api/views.py to be fuzzed."""
import pytest
import schemathesis
from demo_town import demo_town
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import select

from webapp.api.views import DOCUMENT
from webapp_testkit import login


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    """One demo town hall for the whole run (hypothesis calls the test many times)."""
    from webapp.database import db
    app = demo_town(tmp_path_factory.mktemp("api"))
    with app.app_context():
        from webapp.auth.models import User, UserGroup
        user = db.session.execute(select(User).where(User.username == "primar")).scalar_one()
        user.memberships.append(UserGroup(group_code="registratura"))   # every endpoint
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="module")
def staff_cookie(api_app):
    client = login(api_app.test_client(), "primar")
    return {"session": client.get_cookie("session").value}


# The description the app serves (checked against /api/openapi.json below); the app
# itself is handed to each call.
schema = schemathesis.openapi.from_dict(DOCUMENT)


@schema.parametrize()
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_server_error_anywhere_in_the_api(case, api_app, staff_cookie):
    for cookies in (staff_cookie, {}):            # as the staff member, and anonymous
        response = case.call(app=api_app, cookies=cookies)
        case.validate_response(response, checks=[
            not_a_server_error, status_code_conformance, response_schema_conformance])


def test_every_json_endpoint_is_described(api_app):
    """A JSON endpoint missing from the description would escape the fuzzing."""
    assert api_app.test_client().get("/api/openapi.json").json == DOCUMENT
    json_endpoints = {"ops.healthz", "ops.readyz", "indicators.export_json",
                      "registry.senders"}
    rules = {r.endpoint: r.rule for r in api_app.url_map.iter_rules()}
    assert {rules[e] for e in json_endpoints} <= set(DOCUMENT["paths"])
