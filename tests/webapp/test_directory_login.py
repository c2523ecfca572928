"""Staff log in with their directory accounts: a real slapd (tests/webapp/ldap_server.py)
with people, departments and nested groups, reached over StartTLS or ldaps."""
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

import ldap_server
from ldap_server import GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, group_dn, person_dn
from engine.models import AuditEvent
from webapp.auth.models import LoginFailure, User
from webapp_testkit import csrf, login, open_task_id, post, register_petition

UNREACHABLE = "Serviciul de autentificare nu răspunde"

GROUP_MAP_TOML = f"""\
# Directory group → Dosar group code(s)
[groups]
"{group_dn('Urbanism')}" = "dept-urbanism"
"CN=Taxe" = ["dept-taxe"]
"Sefi Urbanism" = "sef-urbanism"
"Registratura" = "registratura"
"""


@pytest.fixture(scope="session")
def ldap(tmp_path_factory):
    if shutil.which("slapd") is None and not Path("/usr/sbin/slapd").exists():
        pytest.fail("slapd is missing: apt-get install slapd ldap-utils (setup.sh does)")
    server = ldap_server.start(tmp_path_factory.mktemp("slapd"))
    yield server
    server.stop()


@pytest.fixture
def staff_app(demo_app, ldap, tmp_path):
    """The demo town hall with the test directory configured (StartTLS, our CA)."""
    group_map = tmp_path / "grupuri.toml"
    group_map.write_text(GROUP_MAP_TOML, encoding="utf-8")
    demo_app.config.update({
        "LDAP_URL": ldap.url, "LDAP_PRESET": "openldap", "LDAP_START_TLS": True,
        "LDAP_CA_FILE": ldap.ca_file, "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD, "LDAP_USER_BASE": PEOPLE,
        "LDAP_GROUP_BASE": GROUPS, "LDAP_GROUP_MAP": str(group_map),
        "LDAP_TIMEOUT_SECONDS": 3})
    return demo_app


def attempt(client, username, password):
    token = csrf(client.get("/autentificare").text)
    return client.post("/autentificare", data={"username": username, "password": password,
                                                "csrf_token": token})


def user_row(app, username) -> User | None:
    from webapp.database import db
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def events(app, action) -> list[AuditEvent]:
    from webapp.database import db
    with app.app_context():
        rows = db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).scalars().all()
        for row in rows:
            db.session.expunge(row)
        return rows


def failures(app, username) -> int:
    from webapp.database import db
    with app.app_context():
        return len(db.session.execute(select(LoginFailure).where(
            LoginFailure.username == username)).all())


def test_clerks_and_a_nested_head_work_in_their_own_department(staff_app):
    client = staff_app.test_client()
    login(client, "registratura")                     # a local account, as before
    assert register_petition(client, department="urbanism",
                             sender_name="Petent Urbanism").status_code == 302
    assert register_petition(client, department="taxe",
                             sender_name="Petent Taxe").status_code == 302

    # First login of a clerk: the row is made from the directory.
    login(client, "ana.popescu", "Parola-Ana-1")
    ana = user_row(staff_app, "ana.popescu")
    assert ana.groups == {"dept-urbanism"}           # "Fotbal" maps to nothing
    assert ana.directory_dn == person_dn("ana.popescu")
    assert (ana.full_name, ana.email, ana.department_code) == (
        "Ana Popescu", "ana.popescu@primarie.test", "urbanism")
    assert ana.password_hash == "!directory" and ana.active
    created = [e for e in events(staff_app, "user.directory_sync")
               if e.object_ref == f"user:{ana.id}"]
    assert len(created) == 1 and created[0].summary == "directory:created"
    assert json.loads(created[0].after_json)["groups"] == ["dept-urbanism"]
    assert events(staff_app, "user.logged_in")[-1].actor == "ana.popescu"
    login(client, "victor.ene", "Parola-Victor-1")
    assert user_row(staff_app, "victor.ene").groups == {"dept-taxe"}

    # The head is in "Arhitect Sef", nested in "Sefi Urbanism" (which sits in a cycle
    # with "Toti Sefii"): she gets sef-urbanism and sees only Urbanism's document.
    login(client, "cristina.pop", "Parola-Cristina-1")
    assert user_row(staff_app, "cristina.pop").groups == {"sef-urbanism"}
    inbox = client.get("/?view=group").text
    assert "Petent Urbanism" in inbox and "Petent Taxe" not in inbox
    task_id = open_task_id(client, "Repartizare")
    assert post(client, f"/sarcini/{task_id}/preia", {},
                page_url=f"/sarcini/{task_id}").status_code == 302
    page = client.get(f"/sarcini/{task_id}").text
    # Her department's clerks to choose from: the directory clerk of Urbanism, not Taxe's.
    assert '<option value="ana.popescu"' in page and "Ana Popescu" in page
    assert "victor.ene" not in page
    assert post(client, f"/sarcini/{task_id}/finalizeaza",
                {"assignment_decision": "repartizat", "assigned_clerk": "ana.popescu"},
                page_url=f"/sarcini/{task_id}").status_code == 302

    login(client, "ana.popescu", "Parola-Ana-1")
    open_task_id(client, "Redactare răspuns", view="mine")
    login(client, "victor.ene", "Parola-Victor-1")
    assert "Petent Urbanism" not in client.get("/?view=group").text
    assert "Petent Urbanism" not in client.get("/?view=mine").text


def test_active_directory_style_memberof_walk_finds_nested_groups(staff_app, ldap):
    # AD lists groups in memberOf (slapd's memberof overlay plays that part here) and
    # the map may come inline as JSON.
    staff_app.config.update({"LDAP_MEMBERSHIP": "memberOf", "LDAP_GROUP_MAP": json.dumps(
        {"Sefi Urbanism": "sef-urbanism", "CN=Toti Sefii": ["primar", "secretar"]})})
    client = login(staff_app.test_client(), "cristina.pop", "Parola-Cristina-1")
    assert user_row(staff_app, "cristina.pop").groups == {"sef-urbanism", "primar", "secretar"}
    assert client.get("/").status_code == 200


def test_wrong_directory_password_is_refused_and_counted(staff_app):
    client = staff_app.test_client()
    for password in ["", "ghicit", "Parola-Ghita-2", "parola-ghita-1", "x"]:
        response = attempt(client, "ghita.ghicit", password)
        assert response.status_code == 401
        assert "Utilizator sau parolă greșite." in response.text
    assert failures(staff_app, "ghita.ghicit") == 5
    assert [e.summary for e in events(staff_app, "user.login_failed")] == [
        "directory:wrong_password"] * 5
    # Locked now, even with the right password; nobody was created.
    assert attempt(client, "ghita.ghicit", "Parola-Ghita-1").status_code == 429
    assert user_row(staff_app, "ghita.ghicit") is None
    # Unknown names are counted too.
    assert attempt(client, "nimeni", "x").status_code == 401
    assert events(staff_app, "user.login_failed")[-1].summary == "directory:unknown"
    assert failures(staff_app, "nimeni") == 1


def test_a_person_taken_out_of_a_group_loses_it_at_next_login(staff_app, ldap):
    client = login(staff_app.test_client(), "mihai.radu", "Parola-Mihai-1")
    assert user_row(staff_app, "mihai.radu").groups == {"dept-urbanism", "registratura"}
    assert client.get("/registratura/nou").status_code == 200
    change = f"dn: {group_dn('Registratura')}\nchangetype: modify\n{{}}: member\n" \
             f"member: {person_dn('mihai.radu')}\n-\n"
    ldap.ldapmodify(change.format("delete"))
    try:
        login(client, "mihai.radu", "Parola-Mihai-1")
        mihai = user_row(staff_app, "mihai.radu")
        assert mihai.groups == {"dept-urbanism"}
        assert client.get("/registratura/nou").status_code == 403
        sync = [e for e in events(staff_app, "user.directory_sync")
                if e.object_ref == f"user:{mihai.id}"][-1]
        assert sync.summary == "directory:updated"
        assert json.loads(sync.before_json)["groups"] == ["dept-urbanism", "registratura"]
        assert json.loads(sync.after_json)["groups"] == ["dept-urbanism"]
        # Nothing changed since: no new sync event at the next login.
        count = len(events(staff_app, "user.directory_sync"))
        login(client, "mihai.radu", "Parola-Mihai-1")
        assert len(events(staff_app, "user.directory_sync")) == count
    finally:
        ldap.ldapmodify(change.format("add"))


def test_disabled_or_removed_directory_people_cannot_log_in(staff_app, ldap):
    dan = login(staff_app.test_client(), "dan.fost", "Parola-Dan-1")
    ion = login(staff_app.test_client(), "ion.plecat", "Parola-Ion-1")
    lock = f"dn: {person_dn('dan.fost')}\nchangetype: modify\n{{}}: pwdAccountLockedTime\n" \
           "pwdAccountLockedTime: 000001010000Z\n-\n"
    ldap.ldapmodify(lock.format("add"))
    ldap.ldapmodify(f"dn: {person_dn('ion.plecat')}\nchangetype: delete\n")
    try:
        for username, password in (("dan.fost", "Parola-Dan-1"), ("ion.plecat", "Parola-Ion-1")):
            response = attempt(staff_app.test_client(), username, password)
            assert response.status_code == 401, username
            row = user_row(staff_app, username)
            assert not row.active and row.groups == frozenset()
        summaries = [e.summary for e in events(staff_app, "user.directory_sync")][-2:]
        assert summaries == ["directory:disabled", "directory:unknown"]
        # Their open sessions end too: the next page asks for a login.
        for client in (dan, ion):
            assert client.get("/").status_code == 302
    finally:
        ldap.ldapmodify(lock.format("delete"))
        ldap.ldapmodify(ldap_server.person_ldif("ion.plecat"))
        ldap.ldapmodify(f"dn: {group_dn('Urbanism')}\nchangetype: modify\nadd: member\n"
                        f"member: {person_dn('ion.plecat')}\n-\n")
    # Enabled again in the directory: the directory decides, the row comes back.
    login(staff_app.test_client(), "dan.fost", "Parola-Dan-1")
    assert user_row(staff_app, "dan.fost").active


def test_a_person_in_no_mapped_group_is_told_why(staff_app):
    response = attempt(staff_app.test_client(), "paul.fara", "Parola-Paul-1")
    assert response.status_code == 403
    assert "nu face parte din niciun grup al aplicației Dosar" in response.text
    assert user_row(staff_app, "paul.fara") is None
    assert events(staff_app, "user.login_failed")[-1].summary == "directory:no_mapped_group"
    assert failures(staff_app, "paul.fara") == 0      # the password was right


def test_directory_down_gives_a_clear_message_and_local_accounts_still_work(staff_app):
    staff_app.config["LDAP_URL"] = f"ldap://127.0.0.1:{ldap_server.free_port()}"
    response = attempt(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")
    assert response.status_code == 503 and UNREACHABLE in response.text
    assert events(staff_app, "user.login_failed")[-1].summary.startswith(
        "directory_unavailable:")
    assert failures(staff_app, "ana.popescu") == 0    # not the person's fault
    login(staff_app.test_client(), "admin")           # the local administrator
    # A broken setting is the same for the person (the log says what is wrong).
    staff_app.config["LDAP_GROUP_MAP"] = "/nu/exista/grupuri.toml"
    response = attempt(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")
    assert response.status_code == 503 and UNREACHABLE in response.text
    assert "LDAP_GROUP_MAP" in events(staff_app, "user.login_failed")[-1].summary


def test_a_wrong_search_base_deactivates_nobody(staff_app):
    login(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")
    staff_app.config["LDAP_USER_BASE"] = "ou=altii,dc=primarie,dc=test"
    response = attempt(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")
    assert response.status_code == 503 and UNREACHABLE in response.text
    assert user_row(staff_app, "ana.popescu").active
    assert user_row(staff_app, "ana.popescu").groups == {"dept-urbanism"}


def test_a_silent_directory_does_not_hang_login(staff_app):
    """A server that accepts the connection and never answers: the timeout ends it."""
    listener = socket.create_server(("127.0.0.1", 0))
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        staff_app.config.update({"LDAP_URL": f"ldap://127.0.0.1:{listener.getsockname()[1]}",
                                 "LDAP_TIMEOUT_SECONDS": 1})
        started = time.monotonic()
        response = attempt(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")
        assert response.status_code == 503 and UNREACHABLE in response.text
        assert time.monotonic() - started < 8
        assert held                                   # it did connect, then waited
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def test_the_server_certificate_is_checked(staff_app, ldap):
    # StartTLS and ldaps against a CA that did not sign the server's certificate.
    for url in (ldap.url, ldap.ldaps_url):
        staff_app.config.update({"LDAP_URL": url, "LDAP_CA_FILE": ldap.other_ca_file})
        response = attempt(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")
        assert response.status_code == 503 and UNREACHABLE in response.text, url
        assert "CERTIFICATE_VERIFY_FAILED" in events(staff_app, "user.login_failed")[-1].summary
    # The right CA, but a certificate for another host name.
    staff_app.config.update({"LDAP_URL": ldap.misnamed_ldaps_url, "LDAP_CA_FILE": ldap.ca_file})
    response = attempt(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")
    assert response.status_code == 503 and UNREACHABLE in response.text
    assert "doesn't match" in events(staff_app, "user.login_failed")[-1].summary
    assert user_row(staff_app, "ana.popescu") is None
    # ldaps with the right CA and name works.
    staff_app.config["LDAP_URL"] = ldap.ldaps_url
    login(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")


def test_local_accounts_are_not_taken_over_and_without_ldap_nothing_changes(staff_app):
    # A local account (no directory DN) logs in locally even with a directory configured.
    login(staff_app.test_client(), "functionar.urbanism")
    assert attempt(staff_app.test_client(), "functionar.urbanism",
                   "Parola-Ana-1").status_code == 401
    # A directory account's row has no local password: with LDAP turned off it cannot log in.
    login(staff_app.test_client(), "ana.popescu", "Parola-Ana-1")
    staff_app.config["LDAP_URL"] = ""
    for password in ("Parola-Ana-1", "!directory", ""):
        assert attempt(staff_app.test_client(), "ana.popescu", password).status_code == 401
    login(staff_app.test_client(), "registratura")


def test_directory_settings_come_from_the_environment(monkeypatch):
    from webapp import config
    monkeypatch.setenv("DOSAR_LDAP_URL", "ldaps://dc1.primarie.ro ldaps://dc2.primarie.ro")
    monkeypatch.setenv("DOSAR_LDAP_PRESET", "ad")
    monkeypatch.setenv("DOSAR_LDAP_START_TLS", "0")
    monkeypatch.setenv("DOSAR_LDAP_USER_BASE", "OU=Angajati,DC=primarie,DC=ro")
    monkeypatch.setenv("DOSAR_LDAP_GROUP_BASE", "OU=Grupuri,DC=primarie,DC=ro")
    monkeypatch.setenv("DOSAR_LDAP_GROUP_MAP", '{"CN=Urbanism,OU=Grupuri,DC=primarie,DC=ro":'
                                               ' "dept-urbanism"}')
    monkeypatch.setenv("DOSAR_LDAP_TIMEOUT_SECONDS", "2")
    settings = config.directory()
    assert settings["LDAP_START_TLS"] is False and settings["LDAP_TIMEOUT_SECONDS"] == 2
    from webapp.auth.directory import map_groups, settings_from_config
    parsed = settings_from_config(settings)
    assert parsed.urls == ("ldaps://dc1.primarie.ro", "ldaps://dc2.primarie.ro")
    assert parsed.user_attributes == ("sAMAccountName", "userPrincipalName")
    assert parsed.membership == "memberOf"
    assert map_groups(["cn=urbanism, ou=grupuri, dc=primarie, dc=ro"],
                      parsed.group_map) == {"dept-urbanism"}
    monkeypatch.delenv("DOSAR_LDAP_URL")
    assert config.directory()["LDAP_URL"] == ""
