"""The interface in English: page chrome, flash messages and error pages follow the
language chosen with /limba/en (or ?lang=en); Romanian, the source language, stays the
default. These tests fail if the English catalogue is missing or not compiled."""
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import Translations

from engine import runtime
from webapp_testkit import login, open_task_id, post, register_petition, today_label

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "webapp" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"


def english_client(app):
    client = app.test_client()
    assert client.get("/limba/en").status_code == 302      # sets the `lang` cookie
    return client


def test_login_page_and_its_error_in_english(demo_app):
    client = english_client(demo_app)
    page = client.get("/autentificare").text
    assert '<html lang="en">' in page
    assert "<h1>Sign in</h1>" in page
    assert ">Username</label>" in page and ">Password</label>" in page
    assert "Autentificare" not in page and "Parolă" not in page
    response = client.post("/autentificare", data={
        "username": "primar", "password": "greșit",
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)})
    assert response.status_code == 401
    assert "Wrong username or password." in response.text


def test_registering_and_the_inbox_in_english(demo_app):
    client = login(english_client(demo_app), "registratura")
    response = register_petition(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert f"Document registered with no. 1/{today_label()}." in page
    assert "Legal term" in page and "days left" in page and "In progress" in page
    assert "registered the document and started the procedure" in page    # history
    assert "Termen legal" not in page and "zile rămase" not in page

    login(client, "sef.relatii")
    inbox = client.get("/?view=group").text
    assert "<h1>Tasks</h1>" in inbox and ">My tasks</a>" in inbox and ">Sign out</button>" in inbox
    assert "Unclaimed, in my groups (1)" in inbox and "Claimed by me (0)" in inbox
    assert "1 task, page 1 of 1" in inbox
    assert f"no. 1/{today_label()}" in inbox
    assert re.search(r"\(\d+ days left\)", inbox)            # the petition's 30-day term
    assert "Sarcinile mele" not in inbox and "zile rămase" not in inbox

    task_id = open_task_id(client, "Repartizare")              # task titles come from the BPMN
    task_page = client.get(f"/sarcini/{task_id}").text
    assert ">Claim task</button>" in task_page and f"Document no. 1/{today_label()}" in task_page
    response = post(client, f"/sarcini/{task_id}/preia", {}, page_url=f"/sarcini/{task_id}")
    assert response.status_code == 302
    task_page = client.get(response.headers["Location"]).text
    assert "You have claimed the task." in task_page
    assert "claimed by sef.relatii" in task_page and "sef.relatii: claimed the task" in task_page
    assert "Claimed by me (1)" in client.get("/?view=mine").text


def test_an_overdue_task_in_english(demo_app):
    from webapp.database import db
    with demo_app.app_context():
        runtime.start_instance(db.session, "petition", {
            "sender_name": "Întârziat", "summary": "Cerere de test pentru inbox.",
            "department": "relatii-publice"},
            runtime.Actor("registratura", frozenset({"registratura"})),
            today=date.today() - timedelta(days=60))
        db.session.commit()
        db.session.remove()
    client = login(english_client(demo_app), "sef.relatii")
    inbox = client.get("/?view=group").text
    assert re.search(r"\(overdue by \d+ days\)", inbox), inbox
    assert "depășit cu" not in inbox


def test_lang_parameter_and_error_pages_in_english(demo_app):
    client = login(demo_app.test_client(), "registratura")
    assert "<h1>Tasks</h1>" in client.get("/?lang=en").text        # one page only
    assert "<h1>Sarcini</h1>" in client.get("/").text
    client.get("/limba/en")
    missing = client.get("/nu-exista")
    assert missing.status_code == 404
    assert "<h1>Page not found</h1>" in missing.text and "Back to tasks" in missing.text
    # A form posted without its CSRF token is refused before the language hook runs;
    # the page still follows the cookie.
    expired = client.post("/registratura/nou", data={"procedura": "petition"})
    assert expired.status_code == 400 and "<h1>Form expired</h1>" in expired.text


def test_romanian_stays_the_default(demo_app):
    client = login(demo_app.test_client(), "registratura")
    response = register_petition(client)
    assert f"Document înregistrat cu nr. 1/{today_label()}." in client.get(
        response.headers["Location"]).text
    login(client, "sef.relatii")
    inbox = client.get("/?view=group").text
    assert '<html lang="ro">' in inbox
    assert "<h1>Sarcini</h1>" in inbox and ">Sarcinile mele</a>" in inbox
    assert "1 sarcină, pagina 1 din 1" in inbox and "zile rămase" in inbox
    assert "My tasks" not in inbox and "days left" not in inbox
    client.get("/limba/en")
    client.get("/limba/ro")                                     # and back
    assert "<h1>Sarcini</h1>" in client.get("/").text


def test_every_message_has_an_english_translation_and_is_compiled(tmp_path):
    """The catalogue covers what the code marks today, and the compiled .mo (built by
    setup.sh, not kept in git) matches the .po."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-c", "from babel.messages.frontend import main; main()",
                    "-q", "extract", "-F", "webapp/babel.cfg", "-o", str(pot), "webapp"],
                   cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as f:
        marked = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with open(PO, "rb") as f:
        catalog = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog
                  if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple)
                                                  else [m.string])}
    assert marked - set(translated) == set(), "untranslated: run pybabel update, translate"
    compiled = Translations.load(str(TRANSLATIONS), ["en"])
    assert isinstance(compiled, Translations), "no .mo: run .venv/bin/pybabel compile -d webapp/translations"
    for message in translated.values():
        if isinstance(message.id, tuple):
            assert compiled.ngettext(*message.id, 2) == message.string[1]
        else:
            assert compiled.gettext(message.id) == message.string, (
                "stale .mo: run .venv/bin/pybabel compile -d webapp/translations")
