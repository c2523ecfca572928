"""Rendering: what a clerk or a citizen sees, and what a screen reader announces."""

import json

from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from forms import FormDefinition
from forms_testkit import SAMPLE, Page

HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'


def controls(page):
    return [e for e in page.elements if e["tag"] in ("input", "select", "textarea")]


def test_render_returns_markup_fragment_without_form_tag(form):
    html = form.render()
    assert isinstance(html, Markup)
    page = Page(html)
    assert not page.find("form")
    assert not page.find("input", type="hidden")  # CSRF is the caller's job


def test_every_control_has_a_label_tied_to_its_id(form):
    page = Page(form.render())
    ids = [e["attrs"]["id"] for e in controls(page)]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for id_ in ids:
        assert page.label_for(id_).strip()
    assert page.label_for("field-pages") == "Număr de pagini"
    assert page.one("textarea")["attrs"]["name"] == "answer"
    assert page.by_id("field-answer")["attrs"]["rows"] == "8"


def test_required_fields_are_marked_and_have_required_attribute(form):
    page = Page(form.render())
    assert "required" in page.by_id("field-answer")["attrs"]
    assert "(obligatoriu)" in page.label_for("field-answer")
    assert "required" not in page.by_id("field-pages")["attrs"]
    assert "(obligatoriu)" not in page.label_for("field-pages")
    # a radio group: every radio is required (the browser wants one of them)
    radios = page.find("input", type="radio", name="outcome")
    assert len(radios) == 3 and all("required" in r["attrs"] for r in radios)
    legends = [e["text"] for e in page.find("legend")]
    assert "Soluție (obligatoriu)" in legends
    # a consent checkbox must be ticked; a plain one need not
    assert "required" in page.by_id("field-consent")["attrs"]
    assert "required" not in page.by_id("field-urgent")["attrs"]
    # "required" on each checkbox of a group would force ticking all of them
    assert not any("required" in e["attrs"] for e in page.find("input", name="channels"))


def test_help_text_is_linked_with_aria_describedby(form):
    page = Page(form.render())
    textarea = page.by_id("field-answer")
    assert textarea["attrs"]["aria-describedby"] == "field-answer-help"
    assert page.by_id("field-answer-help")["text"] == "Textul răspunsului către petent."
    assert "aria-invalid" not in textarea["attrs"]


def test_select_offers_an_empty_choice_and_titles(form):
    page = Page(form.render())
    options = [(o["attrs"]["value"], o["text"]) for o in page.find("option")]
    assert options == [("", "— alegeți —"), ("urbanism", "Urbanism"),
                       ("registratura", "Registratură"), ("taxe", "Taxe și impozite")]


def test_numbers_use_text_inputs_with_numeric_keyboard(form):
    page = Page(form.render())
    assert page.by_id("field-pages")["attrs"] == {
        "type": "text", "inputmode": "numeric", "id": "field-pages", "name": "pages"}
    assert page.by_id("field-received_on")["attrs"]["type"] == "date"
    assert page.by_id("field-email")["attrs"]["type"] == "email"
    assert page.by_id("field-email")["attrs"]["placeholder"] == "nume@exemplu.ro"


def test_errors_give_a_summary_with_links_and_mark_the_fields(form):
    data, errors = form.parse(MultiDict([("pages", "abc")]))
    page = Page(form.render(data, errors))
    summary = page.elements[0]
    assert summary["attrs"]["role"] == "alert"
    links = [(a["attrs"]["href"], a["text"]) for a in page.find("a")]
    assert links == [
        ("#field-answer", "«Răspuns» este obligatoriu."),
        ("#field-outcome", "«Soluție» este obligatoriu."),
        ("#field-pages", "«Număr de pagini» trebuie să fie un număr întreg."),
        ("#field-consent", "Trebuie să bifați «Sunt de acord cu prelucrarea datelor»."),
        ("#field-annex", "«Anexă» este obligatoriu."),
    ]
    for href, _ in links:  # every link lands on a real control
        assert page.by_id(href[1:])["tag"] in ("input", "textarea", "select")
    pages = page.by_id("field-pages")
    assert pages["attrs"]["aria-invalid"] == "true"
    assert pages["attrs"]["aria-describedby"] == "field-pages-error"
    assert page.by_id("field-pages-error")["text"] == "«Număr de pagini» trebuie să fie un număr întreg."
    answer = page.by_id("field-answer")
    assert answer["attrs"]["aria-describedby"] == "field-answer-help field-answer-error"
    assert "aria-invalid" not in page.by_id("field-cnp")["attrs"]


def test_no_summary_without_errors(form):
    page = Page(form.render({"answer": "x"}))
    assert not page.find(role="alert")


def test_form_level_errors_appear_in_summary_without_link(form):
    page = Page(form.render({}, {"_form": "Datele formularului nu sunt valide."}))
    alert = page.one(role="alert")
    assert "Datele formularului nu sunt valide." in alert["text"]
    assert not page.find("a")


def test_values_are_refilled_after_an_error(form):
    post = MultiDict([
        ("answer", "Prea scurt"), ("outcome", "partial"), ("pages", "doua"), ("fee", "12,5"),
        ("received_on", "2024-03-05"), ("email", "ion@"), ("cnp", "1234"),
        ("department", "taxe"), ("urgent", "da"), ("channels", "posta"),
    ])
    data, errors = form.parse(post)
    assert errors  # e.g. pages, email, cnp, consent, annex
    page = Page(form.render(data, errors))
    assert page.by_id("field-answer")["text"] == "Prea scurt"
    assert page.by_id("field-pages")["attrs"]["value"] == "doua"  # exactly as typed
    assert page.by_id("field-fee")["attrs"]["value"] == "12,5"
    assert page.by_id("field-received_on")["attrs"]["value"] == "2024-03-05"
    assert page.by_id("field-email")["attrs"]["value"] == "ion@"
    assert page.by_id("field-cnp")["attrs"]["value"] == "1234"
    assert "checked" in page.by_id("field-outcome-3")["attrs"]  # the third radio, "partial"
    assert "checked" not in page.by_id("field-outcome")["attrs"]
    assert "selected" in page.one("option", value="taxe")["attrs"]
    assert "checked" in page.by_id("field-urgent")["attrs"]
    assert "checked" in page.by_id("field-channels-2")["attrs"]
    assert "checked" not in page.by_id("field-channels")["attrs"]


def test_hostile_values_are_escaped(form):
    data = {"answer": HOSTILE, "email": HOSTILE, "pages": HOSTILE, "outcome": HOSTILE,
            "annex": {"name": HOSTILE, "size": 10}}
    for html in (form.render(data, {"answer": HOSTILE}), form.render(data, readonly=True)):
        assert "<script" not in html
        assert "<img" not in html
        assert "&lt;script&gt;" in html
    page = Page(form.render(data))
    assert page.by_id("field-email")["attrs"]["value"] == HOSTILE  # intact, but inert
    assert page.by_id("field-answer")["text"] == HOSTILE


def test_hostile_definition_texts_are_escaped():
    d = json.loads(SAMPLE.read_text(encoding="utf-8"))
    d["schema"]["properties"]["answer"]["title"] = HOSTILE
    d["ui"]["answer"]["help"] = HOSTILE
    d["ui"]["department"] = {"enum_titles": {"taxe": HOSTILE}, "placeholder": HOSTILE}
    form = FormDefinition.from_dict(d)
    html = form.render(errors={"answer": "x"})
    assert "<script" not in html and "<img" not in html
    assert Page(html).by_id("field-answer-help")["text"] == HOSTILE


def test_english_rendering(form):
    page = Page(form.render(lang="en"))
    assert page.label_for("field-answer") == "Answer (required)"
    assert page.label_for("field-cnp") == "CNP"  # untranslated: Romanian
    assert page.label_for("field-outcome") == "Favourable"
    assert page.by_id("field-annex-hint")["text"] == "Accepted types: PDF, PNG. Maximum size: 1 KB."


def test_file_field_renders_accept_and_the_stored_file(form):
    page = Page(form.render())
    annex = page.by_id("field-annex")
    assert annex["attrs"]["type"] == "file"
    assert annex["attrs"]["accept"].split(",") == ["application/pdf", "image/png", ".pdf", ".png"]
    assert "required" in annex["attrs"]
    assert page.by_id("field-annex-hint")["text"] == "Tipuri acceptate: PDF, PNG. Mărime maximă: 1 KB."

    stored = {"annex": {"sha256": "ab" * 32, "name": "raspuns semnat.pdf", "size": 2048},
              "photo": {"name": "fatada.jpg", "size": 3 * 1024 * 1024}}
    page = Page(form.render(stored))
    annex = page.by_id("field-annex")
    assert "required" not in annex["attrs"]  # the stored file already counts
    assert "field-annex-current" in annex["attrs"]["aria-describedby"]
    assert "raspuns semnat.pdf" in page.by_id("field-annex-current")["text"]
    assert "(2 KB)" in page.by_id("field-annex-current")["text"]
    # only an optional file can be removed
    assert page.find("input", name="photo__remove")
    assert not page.find("input", name="annex__remove")
    assert page.label_for("field-photo-remove") == "Șterge fișierul încărcat"


def test_readonly_renders_values_as_a_definition_list(form):
    data = {"registration_no": "1234/2024", "answer": "Rândul unu\nRândul doi", "outcome": "partial",
            "pages": 3, "fee": 2.5, "received_on": "2024-03-05", "urgent": True,
            "channels": ["email", "posta"],
            "annex": {"sha256": "ab" * 32, "name": "raspuns.pdf", "size": 20480}}
    html = form.render(data, readonly=True, file_url=lambda ref: "/fisiere/" + ref["sha256"])
    page = Page(html)
    assert not controls(page)
    shown = {}
    for row in page.find("div", class_="form-value"):
        shown[row["attrs"]["id"][len("value-"):]] = row["text"]
    assert shown["registration_no"] == "Număr de înregistrare1234/2024"
    assert shown["outcome"] == "SoluțieParțial"
    assert shown["fee"] == "Taxă (lei)2,5"
    assert shown["received_on"] == "Data primirii05.03.2024"
    assert shown["urgent"] == "UrgentDa"
    assert shown["consent"] == "Sunt de acord cu prelucrarea datelornecompletat"
    assert shown["channels"] == "Canale de comunicareE-mail, Poștă"
    assert shown["annex"] == "Anexăraspuns.pdf (20 KB)"
    assert shown["email"] == "E-mailnecompletat"
    assert "Rândul unu<br>\nRândul doi" in html
    assert page.one("a")["attrs"]["href"] == "/fisiere/" + "ab" * 32
    assert [e["text"] for e in page.find("dt")][:2] == ["Număr de înregistrare", "Răspuns"]


def test_readonly_in_english(form):
    page = Page(form.render({"urgent": False, "outcome": "favorabil"}, readonly=True, lang="en"))
    texts = [e["text"] for e in page.find("dd")]
    assert "Favourable" in texts and "No" in texts and "not filled in" in texts


def test_readonly_ui_field_is_shown_not_editable(form):
    page = Page(form.render({"registration_no": "77/2024"}))
    assert not page.find(name="registration_no")
    assert page.by_id("value-registration_no")["text"] == "Număr de înregistrare77/2024"


def test_schema_defaults_prefill_an_empty_form():
    d = json.loads(SAMPLE.read_text(encoding="utf-8"))
    d["schema"]["properties"]["department"]["default"] = "registratura"
    form = FormDefinition.from_dict(d)
    assert "selected" in Page(form.render()).one("option", value="registratura")["attrs"]
    assert "selected" not in Page(form.render({})).one("option", value="registratura")["attrs"]


def test_an_enum_with_only_the_empty_value_offers_nothing_and_stays_required():
    # The web app fills choices at run time (e.g. the clerks of a department);
    # an empty department yields [""], which must not appear as a choice.
    form = FormDefinition.from_dict({"schema": {
        "type": "object", "required": ["clerk"],
        "properties": {"clerk": {"type": "string", "title": "Funcționar", "enum": [""]}}}})
    page = Page(form.render())
    assert [o["attrs"]["value"] for o in page.find("option")] == [""]
    assert form.parse(MultiDict([("clerk", "")]))[1] == {"clerk": "«Funcționar» este obligatoriu."}
