"""The whole petition circuit through the web app's pages and forms."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from connectors.registry.models import RegisterEntry
from engine.models import HumanTask, ProcessInstance
from webapp.auth.models import User

from webapp_testkit import login, open_task_id, post, register_petition, today_label


def complete(client, task_id, data, expect=302):
    page = f"/sarcini/{task_id}"
    response = post(client, f"/sarcini/{task_id}/finalizeaza", data, page_url=page)
    assert response.status_code == expect, response.text
    return response


def claim(client, task_id):
    response = post(client, f"/sarcini/{task_id}/preia", {}, page_url=f"/sarcini/{task_id}")
    assert response.status_code == 302


def test_a_petition_walks_through_every_role_to_dispatch(demo_app):
    client = demo_app.test_client()
    login(client, "registratura")
    response = register_petition(client)
    assert response.status_code == 302
    instance_page = client.get(response.headers["Location"]).text
    assert f"Document înregistrat cu nr. 1/{today_label()}" in instance_page
    # The diagram marks the circuit step that waits (and the task inside it).
    assert 'data-current="assign,assignment"' in instance_page
    completed = re.search(r'data-completed="([^"]*)"', instance_page).group(1).split(",")
    assert "registration" in completed and "assignment" not in completed

    login(client, "sef.relatii")
    task_id = open_task_id(client, "Repartizare")
    inbox = client.get("/?view=group").text
    assert "Gheorghe Ionescu" in inbox and "zile rămase" in inbox   # the 30-day term
    claim(client, task_id)
    page = client.get(f"/sarcini/{task_id}").text
    # The head picks among the department's clerks, by name.
    assert '<option value="functionar.relatii"' in page and "Ioana Dumitru" in page
    assert "Mihai Georgescu" in page and "Radu Constantin" not in page
    complete(client, task_id, {"assignment_decision": "repartizat",
                               "assigned_clerk": "functionar.relatii",
                               "instructions": "Verificați cu serviciul tehnic."})

    login(client, "functionar2.relatii")      # same department, not the chosen clerk
    assert "Redactare răspuns" not in client.get("/?view=group").text

    login(client, "functionar.relatii")
    task_id = open_task_id(client, "Redactare răspuns", view="mine")
    assert "Verificați cu serviciul tehnic." in client.get(f"/sarcini/{task_id}").text
    complete(client, task_id, {"answer": "Iluminatul va fi reparat în 10 zile.",
                               "outcome": "favorabil"})

    login(client, "sef.relatii")
    task_id = open_task_id(client, "Avizare")
    claim(client, task_id)
    complete(client, task_id, {"endorsement": "returnat",
                               "endorsement_notes": "Precizați data exactă."})

    login(client, "functionar.relatii")       # sent back for corrections
    task_id = open_task_id(client, "Redactare răspuns", view="mine")
    complete(client, task_id, {"answer": "Iluminatul va fi reparat pe 5 decembrie.",
                               "outcome": "favorabil"})

    login(client, "sef.relatii")
    task_id = open_task_id(client, "Avizare")
    claim(client, task_id)
    complete(client, task_id, {"endorsement": "avizat"})

    login(client, "primar")
    task_id = open_task_id(client, "Semnare")
    claim(client, task_id)
    complete(client, task_id, {"signature": "semnat"})

    login(client, "registratura")
    task_id = open_task_id(client, "Expediere")
    claim(client, task_id)
    complete(client, task_id, {"dispatch_channel": "email",
                               "dispatch_date": date.today().isoformat()})

    login(client, "functionar.relatii")       # files it in the department's nomenclator
    task_id = open_task_id(client, "Arhivare", view="mine")
    assert "RP-1 — Petiții, sesizări și reclamații (5)" in client.get(f"/sarcini/{task_id}").text
    complete(client, task_id, {"file_code": "RP-1"})

    from webapp.database import db
    with demo_app.app_context():
        instance = db.session.execute(select(ProcessInstance)).scalar_one()
        assert instance.status == "completed"
        steps = [t.title for t in db.session.execute(
            select(HumanTask).where(HumanTask.instance_id == instance.id)
            .order_by(HumanTask.id)).scalars()]
        entry = db.session.get(RegisterEntry, instance.document_id)
        # The register line is closed: when the answer left and how it was solved.
        assert entry.dispatched_on == date.today() and entry.outcome == "favorabil"
        assert entry.file_code == "RP-1" and entry.assigned_to == "functionar.relatii"
    page = client.get(f"/dosare/{instance.id}").text
    assert "Soluționat" in page
    assert steps == ["Repartizare", "Redactare răspuns", "Avizare", "Redactare răspuns",
                     "Avizare", "Semnare", "Expediere", "Arhivare"]


def test_registration_errors_name_the_field_and_keep_what_was_typed(demo_app):
    client = demo_app.test_client()
    login(client, "registratura")
    response = register_petition(client, sender_name="", summary="scurt", pages="două")
    assert response.status_code == 422
    html = response.text
    assert "«Petent» este obligatoriu." in html
    assert "«Conținutul pe scurt» trebuie să aibă cel puțin 10 caractere." in html
    assert "«Număr de file» trebuie să fie un număr întreg." in html
    assert 'value="Str. Lungă nr. 3"' in html and "două" in html    # nothing lost
    from webapp.database import db
    with demo_app.app_context():
        assert db.session.execute(select(ProcessInstance)).first() is None


def test_english_messages_on_request(demo_app):
    client = demo_app.test_client()
    login(client, "registratura")
    response = post(client, "/registratura/nou?lang=en",
                    {"procedura": "petition", "summary": "", "department": "urbanism"},
                    page_url="/registratura/nou")
    assert response.status_code == 422
    assert "is required" in response.text


def test_posting_without_csrf_token_is_refused(demo_app):
    client = demo_app.test_client()
    login(client, "registratura")
    response = client.post("/registratura/nou", data={"procedura": "petition",
                                                      "sender_name": "X"})
    assert response.status_code == 400
    assert "Formularul a expirat" in response.text


def test_wrong_password_is_refused_and_passwords_are_argon2_hashes(demo_app):
    client = demo_app.test_client()
    page = client.get("/autentificare").text
    response = client.post("/autentificare", data={
        "username": "primar", "password": "greșit",
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)})
    assert response.status_code == 401
    assert "Utilizator sau parolă greșite." in response.text
    from webapp.database import db
    with demo_app.app_context():
        user = db.session.execute(select(User).where(User.username == "primar")).scalar_one()
        assert user.password_hash.startswith("$argon2id$")


def test_pages_need_login(demo_app):
    client = demo_app.test_client()
    response = client.get("/")
    assert response.status_code == 302 and "/autentificare" in response.headers["Location"]


def test_another_departments_clerk_cannot_open_the_task(demo_app):
    client = demo_app.test_client()
    login(client, "registratura")
    register_petition(client)
    login(client, "sef.relatii")
    task_id = open_task_id(client, "Repartizare")
    login(client, "functionar.urbanism")
    assert client.get(f"/sarcini/{task_id}").status_code == 403
    assert post(client, f"/sarcini/{task_id}/finalizeaza",
                {"assigned_clerk": "functionar.urbanism"}).status_code == 403
    assert client.get("/dosare/1").status_code == 403


def _walk_to_dispatch(app):
    """Walk the only petition to «Expediere» through the engine's own API (the web
    flow is tested above); return the instance id."""
    from engine import runtime
    from webapp.auth.models import UserGroup
    from webapp.auth.passwords import hash_password
    from webapp.database import db
    with app.app_context():
        db.session.add(User(username="registratura2", full_name="Dana Vlad",
                            password_hash=hash_password("parola-lunga-1"),
                            memberships=[UserGroup(group_code="registratura")]))
        instance_id = db.session.execute(select(ProcessInstance.id)).scalar_one()
        steps = [
            ("Repartizare", runtime.Actor("sef.relatii", frozenset({"sef-relatii-publice"})),
             {"assignment_decision": "repartizat", "assigned_clerk": "functionar.relatii"}),
            ("Redactare răspuns",
             runtime.Actor("functionar.relatii", frozenset({"dept-relatii-publice"})),
             {"answer": "Răspuns complet.", "outcome": "favorabil"}),
            ("Avizare", runtime.Actor("sef.relatii", frozenset({"sef-relatii-publice"})),
             {"endorsement": "avizat"}),
            ("Semnare", runtime.Actor("primar", frozenset({"primar"})), {"signature": "semnat"}),
        ]
        for title, actor, data in steps:
            task = db.session.execute(select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.status == "open")).scalar_one()
            assert task.title == title
            runtime.complete_task(db.session, task.id, actor, data)
            db.session.commit()
        db.session.remove()
    return instance_id


def test_second_registrar_gets_a_clear_answer_when_the_task_is_gone(demo_app):
    first, second = demo_app.test_client(), demo_app.test_client()
    login(first, "registratura")
    register_petition(first)
    _walk_to_dispatch(demo_app)
    login(second, "registratura2", "parola-lunga-1")
    task_id = open_task_id(first, "Expediere")
    # Both have the task open; the first one claims and completes it.
    assert "Preia sarcina" in first.get(f"/sarcini/{task_id}").text
    assert "Preia sarcina" in second.get(f"/sarcini/{task_id}").text
    claim(first, task_id)
    complete(first, task_id, {"dispatch_channel": "posta", "dispatch_date": "2026-11-23"})
    response = post(second, f"/sarcini/{task_id}/finalizeaza",
                    {"dispatch_channel": "email", "dispatch_date": "2026-11-23"},
                    page_url="/")
    assert response.status_code == 409
    assert "Sarcina a fost deja finalizată de registratura" in response.text


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_scanned_petition_is_stored_and_only_its_readers_can_download_it(demo_app):
    import io
    client = login(demo_app.test_client(), "registratura")
    response = register_petition(client, scan=(io.BytesIO(PDF), "petitie.pdf"))
    assert response.status_code == 302
    login(client, "sef.relatii")
    task_id = open_task_id(client, "Repartizare")
    page = client.get(f"/sarcini/{task_id}").text
    link = re.search(r'href="(/dosare/\d+/fisiere/[0-9a-f]{64})"', page).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data == PDF
    assert "petitie.pdf" in download.headers["Content-Disposition"]
    assert client.get(link[:-64] + "0" * 64).status_code == 404
    login(client, "functionar.urbanism")
    assert client.get(link).status_code == 403


def test_a_program_posing_as_a_pdf_is_refused(demo_app):
    import io
    client = login(demo_app.test_client(), "registratura")
    response = register_petition(client, scan=(io.BytesIO(b"MZ\x90\x00" + b"\0" * 100),
                                               "petitie.pdf"))
    assert response.status_code == 422
    assert "«Petiția scanată»" in response.text


def test_the_language_choice_is_remembered(demo_app):
    client = login(demo_app.test_client(), "registratura")
    response = client.get("/limba/en?next=/registratura/nou")
    assert response.status_code == 302 and response.headers["Location"] == "/registratura/nou"
    page = client.get("/registratura/nou?procedura=petition").text
    assert "Petitioner" in page or "Sender" in page          # the form's English labels
    assert client.get("/limba/en?next=https://evil.example/").headers["Location"] == "/"


def test_pages_answer_while_a_step_is_being_saved(demo_app, database_url):
    """A clerk's page does not wait for another clerk's step to commit."""
    import sqlite3
    import time
    if not database_url.startswith("sqlite"):
        pytest.skip("MariaDB reads never wait for writers")
    client = login(demo_app.test_client(), "registratura")
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")           # someone holds the write lock
    try:
        started = time.monotonic()
        page = client.get("/registratura/")
        assert page.status_code == 200 and time.monotonic() - started < 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_file_accepted_with_other_errors_is_not_asked_for_again(demo_app):
    import io
    client = login(demo_app.test_client(), "registratura")
    first = register_petition(client, summary="scurt", scan=(io.BytesIO(PDF), "petitie.pdf"))
    assert first.status_code == 422 and "petitie.pdf" in first.text
    second = register_petition(client)          # fixed the summary, no new upload
    assert second.status_code == 302
    from webapp.database import db
    from engine import runtime
    with demo_app.app_context():
        instance = db.session.execute(select(ProcessInstance)).scalar_one()
        scan = runtime.instance_data(db.session, instance)["scan"]
        assert scan["name"] == "petitie.pdf" and scan["size"] == len(PDF)
    # The next registration starts clean.
    client.get("/registratura/nou")
    third = register_petition(client, sender_name="Altcineva")
    assert third.status_code == 302
    with demo_app.app_context():
        newest = db.session.execute(select(ProcessInstance).order_by(
            ProcessInstance.id.desc())).scalars().first()
        assert "scan" not in runtime.instance_data(db.session, newest)
