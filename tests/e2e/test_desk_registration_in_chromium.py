"""A Registratura clerk registers documents at the desk with the keyboard only
(type, Tab, Enter, arrows), in headless Chromium against `dosar serve`."""
import re

import pytest

pytestmark = pytest.mark.slow


def focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def tab_to(page, field_id, most=6):
    """Tab forward to a field; it must come within a few presses (the form's order)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if focused(page) == field_id:
            return
    raise AssertionError(f"Tab did not reach #{field_id}; focus is on #{focused(page)}")


def test_registering_at_the_desk_with_the_keyboard_only(served, browser):
    page = browser.new_page()
    # Script errors and Content-Security-Policy refusals (the browser's own favicon
    # request is not ours).
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico") else None)
    page.goto(served + "/autentificare")
    page.fill("#username", "registratura")
    page.fill("#password", "demo1234")
    page.press("#password", "Enter")
    page.wait_for_url(served + "/")
    page.goto(served + "/registratura/nou")

    # The cursor starts in the first field; the procedure chooser is just above it, and
    # choosing there reloads the page with that procedure's form.
    assert focused(page) == "field-sender_name"
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "procedura"
    chooser = page.locator("#procedura")
    assert chooser.input_value() == "petition"              # the desk's usual document
    with page.expect_navigation():
        page.keyboard.press("End")                          # another procedure...
    other = chooser.input_value()
    assert other != "petition" and page.url.endswith(f"/registratura/nou?procedura={other}")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "procedura"
    with page.expect_navigation():
        page.keyboard.type("Petiție")                       # ...and back, by its name
    assert page.url.endswith("/registratura/nou?procedura=petition")
    assert focused(page) == "field-sender_name"
    page.keyboard.type("Gheorghe Ionescu")
    tab_to(page, "field-sender_address")
    page.keyboard.type("Str. Lungă nr. 3")
    tab_to(page, "field-sender_email")
    page.keyboard.type("g.ionescu@example.ro")
    tab_to(page, "field-summary", most=8)
    page.keyboard.type("Solicită repararea iluminatului public pe strada Lungă.")
    tab_to(page, "field-department", most=4)
    page.keyboard.type("Rel")                       # a list is chosen by typing
    assert page.locator("#field-department").input_value() == "relatii-publice"
    page.keyboard.press("Enter")                    # Enter in a list registers
    page.wait_for_url(re.compile(r".*/registratura/\d+/inregistrat$"))
    first = page.locator(".registered-number").inner_text()
    assert re.fullmatch(r"Nr\. 1/\d\d\.\d\d\.\d{4}", first)
    # "Register another" has the focus: Enter opens a fresh form.
    assert page.evaluate("document.activeElement.textContent") == "Înregistrează alt document"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/registratura/nou\?procedura=\w+$"))

    assert focused(page) == "field-sender_name"
    page.keyboard.type("ionesc")
    suggestion = page.locator("#sender-suggestions [role=option]")
    suggestion.first.wait_for(state="visible")
    assert suggestion.count() == 1 and "Str. Lungă nr. 3" in suggestion.first.inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")                    # picks the sender, does not register
    assert page.locator("#field-sender_name").input_value() == "Gheorghe Ionescu"
    assert page.locator("#field-sender_address").input_value() == "Str. Lungă nr. 3"
    assert page.locator("#field-sender_email").input_value() == "g.ionescu@example.ro"
    assert page.url.endswith("/registratura/nou?procedura=petition")
    tab_to(page, "field-summary", most=12)
    page.keyboard.type("Revine cu privire la iluminatul public pe strada Lungă.")
    tab_to(page, "field-department", most=4)
    page.keyboard.type("Rel")
    page.keyboard.press("Shift+Tab")                # back to a text area:
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "field-summary"
    page.keyboard.press("Control+Enter")            # Ctrl+Enter registers from it
    page.wait_for_url(re.compile(r".*/registratura/\d+/inregistrat$"))
    assert page.locator(".registered-number").inner_text().startswith("Nr. 2/")
    assert not errors, errors

    # The register shows both, the second with the address the suggestion filled in.
    page.goto(served + "/registratura/?sender=Gheorghe")
    assert page.locator("table.register tbody tr").count() == 2
    page.click("table.register a:text-matches('^2/')")
    assert "Str. Lungă nr. 3" in page.locator("dl.entry-fields").inner_text()
