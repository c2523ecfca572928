"""Parsing a submission: coercion to schema types and the messages clerks read."""

import pytest
from werkzeug.datastructures import MultiDict

from forms import FORM_ERROR_KEY, FormDefinition
from forms_testkit import valid_post

STORED_ANNEX = {"sha256": "ab" * 32, "name": "raspuns.pdf", "size": 900, "content_type": "application/pdf"}


def parse(form, post, lang="ro"):
    return form.parse(post, lang=lang, existing={"annex": STORED_ANNEX})


def test_a_complete_submission_is_coerced_to_schema_types(form):
    post = valid_post(pages=" 12 ", fee="2,5", received_on="2024-03-05", email="ion.pop@primaria-x.ro",
                      cnp="1800101123456", department="urbanism", urgent="da")
    post.add("channels", "email")
    post.add("channels", "posta")
    data, errors = parse(form, post)
    assert errors == {}
    assert data == {
        "answer": "Vă comunicăm că cererea a fost aprobată.", "outcome": "favorabil",
        "pages": 12, "fee": 2.5, "received_on": "2024-03-05", "email": "ion.pop@primaria-x.ro",
        "cnp": "1800101123456", "department": "urbanism", "urgent": True, "consent": True,
        "channels": ["email", "posta"], "annex": STORED_ANNEX,
    }


def test_empty_strings_are_absent_and_unticked_checkbox_is_false(form):
    data, errors = parse(form, valid_post(pages="", fee="   ", email="", department="", cnp=""))
    assert errors == {}
    for name in ("pages", "fee", "email", "department", "cnp", "channels", "photo"):
        assert name not in data
    assert data["urgent"] is False


def test_numbers_accept_whole_and_decimal_comma(form):
    data, _ = parse(form, valid_post(fee="100"))
    assert data["fee"] == 100 and isinstance(data["fee"], int)
    data, _ = parse(form, valid_post(fee="-0.75"))
    assert data["fee"] == -0.75


def test_text_is_trimmed_and_line_endings_normalised(form):
    data, errors = parse(form, valid_post(answer="  Stimate domn,\r\nvă răspundem.  "))
    assert errors == {}
    assert data["answer"] == "Stimate domn,\nvă răspundem."


def test_unknown_posted_keys_are_never_stored(form):
    data, errors = parse(form, valid_post(is_admin="1", csrf_token="t", annex__remove="da"))
    assert errors == {}
    assert not {"is_admin", "csrf_token", "annex__remove"} & set(data)


def test_readonly_fields_come_from_existing_data_not_from_the_post(form):
    post = valid_post(registration_no="falsificat")
    data, errors = form.parse(post, existing={"registration_no": "1234/2024", "annex": STORED_ANNEX})
    assert errors == {}
    assert data["registration_no"] == "1234/2024"
    data, _ = form.parse(post, existing={"annex": STORED_ANNEX})
    assert "registration_no" not in data


def test_empty_submission_lists_the_required_fields(form):
    data, errors = form.parse(MultiDict())
    assert errors == {
        "answer": "«Răspuns» este obligatoriu.",
        "outcome": "«Soluție» este obligatoriu.",
        "consent": "Trebuie să bifați «Sunt de acord cu prelucrarea datelor».",
        "annex": "«Anexă» este obligatoriu.",
    }
    assert list(errors) == ["answer", "outcome", "consent", "annex"]  # form order, for the summary


ROMANIAN = [
    ({"answer": None}, "answer", "«Răspuns» este obligatoriu."),
    ({"answer": "Scurt: 9c"}, "answer", "«Răspuns» trebuie să aibă cel puțin 10 caractere."),
    ({"answer": "a" * 5001}, "answer", "«Răspuns» trebuie să aibă cel mult 5000 de caractere."),
    ({"pages": "3,5"}, "pages", "«Număr de pagini» trebuie să fie un număr întreg."),
    ({"pages": "trei"}, "pages", "«Număr de pagini» trebuie să fie un număr întreg."),
    ({"pages": "0"}, "pages", "«Număr de pagini» trebuie să fie cel puțin 1."),
    ({"pages": "501"}, "pages", "«Număr de pagini» trebuie să fie cel mult 500."),
    ({"fee": "doi lei"}, "fee", "«Taxă (lei)» trebuie să fie un număr."),
    ({"fee": "-0,5"}, "fee", "«Taxă (lei)» trebuie să fie cel puțin 0."),
    ({"cnp": "18001011234"}, "cnp", "«CNP» nu are formatul cerut."),
    ({"outcome": "respins"}, "outcome", "«Soluție»: alegeți una dintre valorile permise."),
    ({"department": "juridic"}, "department", "«Compartiment»: alegeți una dintre valorile permise."),
    ({"received_on": "2024-02-30"}, "received_on", "«Data primirii» nu este o dată validă (AAAA-LL-ZZ)."),
    ({"received_on": "05.03.2024"}, "received_on", "«Data primirii» nu este o dată validă (AAAA-LL-ZZ)."),
    ({"email": "ion@"}, "email", "«E-mail» nu este o adresă de e-mail validă."),
    ({"email": "ion pop@primarie.ro"}, "email", "«E-mail» nu este o adresă de e-mail validă."),
    ({"consent": None}, "consent", "Trebuie să bifați «Sunt de acord cu prelucrarea datelor»."),
]


@pytest.mark.parametrize("change, field, message", ROMANIAN)
def test_romanian_messages_name_the_field(form, change, field, message):
    data, errors = parse(form, valid_post(**change))
    assert errors == {field: message}


ENGLISH = [
    ({"answer": None}, "answer", '"Answer" is required.'),
    ({"answer": "Too short"}, "answer", '"Answer" must have at least 10 characters.'),
    ({"pages": "3.5"}, "pages", '"Number of pages" must be a whole number.'),
    ({"pages": "0"}, "pages", '"Number of pages" must be at least 1.'),
    ({"outcome": "x"}, "outcome", '"Outcome": choose one of the allowed values.'),
    ({"received_on": "2024-13-01"}, "received_on", '"Date received" is not a valid date (YYYY-MM-DD).'),
    ({"email": "@primarie.ro"}, "email", '"E-mail" is not a valid e-mail address.'),
    ({"cnp": "abc"}, "cnp", '"CNP" is not in the required format.'),
    ({"consent": None}, "consent", 'You must tick "I agree to the processing of my data".'),
]


@pytest.mark.parametrize("change, field, message", ENGLISH)
def test_english_messages_name_the_field(form, change, field, message):
    data, errors = parse(form, valid_post(**change), lang="en")
    assert errors == {field: message}


def test_checkbox_groups_check_values_and_repeats(form):
    post = valid_post()
    post.setlist("channels", ["email", "email"])
    assert parse(form, post)[1] == {"channels": "«Canale de comunicare» conține valori repetate."}
    post.setlist("channels", ["email", "fax"])
    assert parse(form, post)[1] == {"channels": "«Canale de comunicare»: alegeți una dintre valorile permise."}
    post.setlist("channels", ["posta", "posta"])
    assert parse(form, post, lang="en")[1] == {"channels": '"Channels" contains repeated values.'}


def test_max_items_message():
    form = _tiny({"type": "array", "title": "Documente", "maxItems": 1, "minItems": 1,
                  "items": {"type": "string", "enum": ["ci", "cf", "plan"]}})
    assert form.parse(MultiDict([("f", "ci"), ("f", "cf")]))[1] == {"f": "«Documente»: alegeți cel mult 1 opțiune."}


def test_generic_fallback_names_the_field():
    form = _tiny({"type": "string", "title": "Cod", "not": {"const": "0000"}})
    assert form.parse(MultiDict([("f", "0000")]))[1] == {"f": "«Cod» are o valoare nevalidă."}
    assert form.parse(MultiDict([("f", "0000")]), lang="en")[1] == {"f": '"Cod" has an invalid value.'}


def test_errors_not_tied_to_a_field_go_under_form_key():
    form = _tiny({"type": "string", "title": "Cod"}, minProperties=2)
    assert form.parse(MultiDict([("f", "1")]))[1] == {FORM_ERROR_KEY: "Datele formularului nu sunt valide."}


def test_romanian_counts_use_de_from_twenty():
    form = _tiny({"type": "string", "title": "Motiv", "minLength": 20})
    assert form.parse(MultiDict([("f", "scurt")]))[1]["f"] == "«Motiv» trebuie să aibă cel puțin 20 de caractere."
    form = _tiny({"type": "string", "title": "Motiv", "maxLength": 1})
    assert form.parse(MultiDict([("f", "ab")]))[1]["f"] == "«Motiv» trebuie să aibă cel mult 1 caracter."


def test_validate_checks_already_typed_data(form):
    errors = form.validate({"answer": "x" * 20, "outcome": "favorabil", "pages": "12", "consent": True,
                            "annex": STORED_ANNEX})
    assert errors == {"pages": "«Număr de pagini» trebuie să fie un număr întreg."}


def _tiny(prop, **schema_extra):
    return FormDefinition.from_dict({"schema": {"type": "object", "properties": {"f": prop}, **schema_extra}},
                                    name="tiny.json")


def test_absurdly_long_numbers_are_reported_not_crashing(form):
    _, errors = parse(form, valid_post(pages="9" * 5000, fee="1" * 400 + ",5"))
    assert errors == {"pages": "«Număr de pagini» trebuie să fie un număr întreg.",
                      "fee": "«Taxă (lei)» trebuie să fie un număr."}
