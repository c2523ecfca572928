"""A person walks a petition from the Registratura to dispatch in a real browser
(headless Chromium driven by Playwright) against the app served by `dosar serve`."""
from datetime import date

import pytest

pytestmark = pytest.mark.slow


def login(page, base, username):
    page.goto(base + "/autentificare")
    page.fill("#username", username)
    page.fill("#password", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def logout(page):
    page.click("form.logout button")


def work(page, title, view="group", claim=True):
    page.click("text=Nepreluate, în grupurile mele" if view == "group" else "text=Preluate de mine")
    page.click(f"table.inbox a:text-is('{title}')")
    if claim:
        page.click("text=Preia sarcina")
    # Every step shows the petition's legal term.
    assert "zile rămase" in page.locator("dd.term").inner_text()


def test_a_petition_from_registration_to_dispatch(served, browser, tmp_path):
    page = browser.new_page()
    login(page, served, "registratura")
    page.click("text=Înregistrează document")
    if page.locator("#procedura").input_value() != "petition":
        page.select_option("#procedura", "petition")     # reloads with the petition's form
        page.wait_for_url("**/registratura/nou?procedura=petition")
    page.fill("#field-sender_name", "Gheorghe Ionescu")
    page.fill("#field-summary", "Solicită repararea iluminatului public pe strada Lungă.")
    page.select_option("#field-department", "relatii-publice")
    page.click("button:text('Înregistrează')")
    assert page.locator(".flash-success").inner_text().startswith("Document înregistrat cu nr. 1/")
    # The diagram is drawn by bpmn-js with the current step marked.
    page.wait_for_selector(".bpmn-diagram svg .dosar-current", timeout=15000)
    assert page.locator(".bpmn-diagram .bjs-powered-by").count() == 1    # watermark kept
    page.screenshot(path=str(tmp_path / "instance.png"), full_page=True)
    logout(page)

    login(page, served, "sef.relatii")
    work(page, "Repartizare")
    page.check("label:text('Repartizez unui funcționar al compartimentului')")
    page.select_option("#field-assigned_clerk", "functionar.relatii")
    page.click("button:text('Finalizează')")
    assert "a fost finalizată" in page.locator(".flash-success").inner_text()
    logout(page)

    login(page, served, "functionar.relatii")
    work(page, "Redactare răspuns", view="mine", claim=False)
    page.fill("#field-answer", "scurt")
    page.click("button:text('Finalizează')")
    # A clear message naming the field; what was typed is still there.
    assert "«Răspunsul către petent» trebuie să aibă cel puțin 10 caractere." in page.content()
    assert page.locator("#field-answer").input_value() == "scurt"
    page.fill("#field-answer", "Iluminatul va fi reparat până la 5 decembrie.")
    page.check("label:text('Favorabil')")
    page.click("button:text('Finalizează')")
    logout(page)

    login(page, served, "sef.relatii")
    work(page, "Avizare")
    page.check("label:text('Avizat')")
    page.click("button:text('Finalizează')")
    logout(page)

    login(page, served, "primar")
    work(page, "Semnare")
    page.check("label:text('Semnat')")
    page.click("button:text('Finalizează')")
    logout(page)

    login(page, served, "registratura")
    work(page, "Expediere")
    page.check("label:text('E-mail')")
    page.fill("#field-dispatch_date", date.today().isoformat())
    page.click("button:text('Finalizează')")
    logout(page)

    login(page, served, "functionar.relatii")     # files it in the nomenclator
    work(page, "Arhivare", view="mine", claim=False)
    page.select_option("#field-file_code", "RP-1")
    page.click("button:text('Finalizează')")
    logout(page)

    login(page, served, "registratura")
    page.click("text=Registru")
    page.click("table a:has-text('1/')")
    assert page.locator(".instance-status").inner_text() == "Soluționat"
    page.screenshot(path=str(tmp_path / "dispatched.png"), full_page=True)
