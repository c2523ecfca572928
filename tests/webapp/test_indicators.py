"""Indicators for management (/indicatori/): what each figure counts, who sees what,
the charts and the CSV/JSON exports, on SQLite and MariaDB."""
import csv
import io
import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from connectors.registry import register_document
from engine import runtime
from engine.models import HumanTask
from webapp.database import db
from webapp.demo import DEPARTMENTS
from webapp.indicators import queries

from webapp_testkit import login

TODAY = date(2026, 3, 15)           # "today" for every test here (a Sunday in March)
MARCH = "de=2026-03-01&pana=2026-03-31"


@pytest.fixture
def indicators_app(demo_app):
    demo_app.config["INDICATORS_TODAY"] = lambda: TODAY
    return demo_app


@contextmanager
def writing(app):
    """Data written in an app context of its own, closed before any request: requests
    of the test client must not share an app context (and its `g`) with the test."""
    with app.app_context():
        yield db.session
        db.session.commit()
        db.session.remove()


def add(session, on: date, department: str, **fields):
    """A register entry as the Registratura makes it, then its later columns set."""
    later = {k: fields.pop(k) for k in ("dispatched_on", "due_on", "assigned_to", "cancelled")
             if k in fields}
    entry = register_document(session, "general", on, "registratura", department=department,
                              **fields)
    for name, value in later.items():
        setattr(entry, name, value)
    return entry


def answered_after(session, department: str, days: list[int], start=date(2026, 3, 1)):
    for n in days:
        add(session, start, department, dispatched_on=start + timedelta(days=n))


def cells(html: str, attribute: str, value: str) -> list[str]:
    row = re.search(rf'<tr {attribute}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert row, f"no row {attribute}={value}"
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def departments_shown(html: str) -> list[str]:
    return re.findall(r'<tr data-department="([^"]*)">', html)


def figure(html: str, key: str) -> str:
    return re.search(rf'<dd data-figure="{key}">([^<]*)</dd>', html).group(1)


# --- the figures, without HTTP ------------------------------------------------------


def test_response_time_median_and_p95_over_answers_dispatched_in_the_period(indicators_app,
                                                                            session):
    answered_after(session, "urbanism", list(range(1, 21)))     # 1, 2, ... 20 days
    add(session, date(2026, 3, 2), "urbanism", dispatched_on=date(2026, 4, 2))   # April
    add(session, date(2026, 3, 1), "urbanism", dispatched_on=date(2026, 3, 31),  # cancelled
        cancelled=True)
    # An outgoing letter leaves the day it is registered: it is "out", not an answer.
    add(session, date(2026, 3, 3), "urbanism", direction="out",
        dispatched_on=date(2026, 3, 3))
    answered_after(session, "taxe", [2, 4, 30])
    session.commit()

    data = queries.compute(session, date(2026, 3, 1), date(2026, 3, 31), TODAY)
    urbanism = next(f for f in data.by_department if f.department == "urbanism")
    assert urbanism.answered == 20
    assert urbanism.median_days == 10.5           # mean of the 10th and 11th values
    assert urbanism.p95_days == 19                # nearest rank: ceil(0.95 × 20) = 19th
    assert urbanism.registered_in == 21           # the April answer was registered in March
    assert urbanism.out == 21                     # 20 answers + the outgoing letter, once
    assert urbanism.cancelled == 1
    taxe = next(f for f in data.by_department if f.department == "taxe")
    assert (taxe.median_days, taxe.p95_days) == (4, 30)
    # The total's median is over all 23 answers (12th value; p95 the 22nd), not a mean
    # of the departments' medians.
    assert (data.total.answered, data.total.median_days, data.total.p95_days) == (23, 10, 20)


def test_percentile_nearest_rank():
    assert queries.percentile_nearest_rank([], 95) is None
    assert queries.percentile_nearest_rank([7], 95) == 7
    assert queries.percentile_nearest_rank(list(range(1, 101)), 95) == 95
    assert queries.percentile_nearest_rank([5, 1, 3], 95) == 5
    assert queries.median_days([3, 1, 2]) == 2 and queries.median_days([1, 2]) == 1.5


def test_period_is_charted_by_week_or_by_month():
    unit, weeks = queries.buckets(date(2026, 3, 1), date(2026, 3, 31))
    assert unit == "week" and len(weeks) == 6
    assert (weeks[0].start, weeks[0].end) == (date(2026, 3, 1), date(2026, 3, 1))   # Sunday
    assert (weeks[-1].start, weeks[-1].end) == (date(2026, 3, 30), date(2026, 3, 31))
    unit, months = queries.buckets(date(2025, 1, 15), date(2026, 3, 31))
    assert unit == "month" and len(months) == 15 and months[0].start == date(2025, 1, 15)


# --- the page -----------------------------------------------------------------------


def test_overdue_per_department_and_per_clerk(indicators_app):
    with writing(indicators_app) as session:
        add(session, date(2026, 2, 2), "urbanism", due_on=date(2026, 3, 10),
            assigned_to="functionar.urbanism")
        add(session, date(2026, 2, 3), "urbanism", due_on=date(2026, 3, 14),
            assigned_to="functionar.urbanism")
        add(session, date(2026, 2, 4), "urbanism", due_on=TODAY)            # due today: not yet
        add(session, date(2026, 2, 5), "urbanism", due_on=date(2026, 3, 10),
            dispatched_on=date(2026, 3, 12))                                # answered, late
        add(session, date(2026, 1, 5), "taxe", due_on=date(2026, 2, 1))     # nobody assigned
        add(session, date(2026, 1, 6), "taxe", due_on=date(2026, 2, 1), cancelled=True)
        add(session, date(2026, 1, 7), "taxe", due_on=date(2026, 3, 20))

    html = login(indicators_app.test_client(), "primar").get(f"/indicatori/?{MARCH}").text
    # in, out, answers, median, p95, overdue, dispatched late, cancelled, tasks
    assert cells(html, "data-department", "urbanism")[1:] == \
        ["0", "1", "1", "35", "35", "2", "1", "0", "0"]
    assert cells(html, "data-department", "taxe")[1:] == \
        ["0", "0", "0", "—", "—", "1", "0", "0", "0"]
    assert cells(html, "data-clerk", "functionar.urbanism") == \
        ["Radu Constantin (functionar.urbanism)", "2"]
    assert cells(html, "data-clerk", "") == ["nerepartizat", "1"]
    assert figure(html, "depasite") == "3" and figure(html, "expediate_cu_intarziere") == "1"
    # Overdue is counted at today's date whatever the period: the January cancellation
    # shows only in January's "Anulate".
    january = login(indicators_app.test_client(), "primar").get(
        "/indicatori/?de=2026-01-01&pana=2026-01-31").text
    assert figure(january, "depasite") == "3" and figure(january, "anulate") == "1"
    assert figure(january, "intrari") == "2"


def test_cancelled_entries_count_only_as_cancelled(indicators_app):
    with writing(indicators_app) as session:
        add(session, date(2026, 3, 2), "taxe")
        add(session, date(2026, 3, 2), "taxe", cancelled=True, dispatched_on=date(2026, 3, 3),
            due_on=date(2026, 3, 1))
        add(session, date(2026, 3, 4), "taxe", direction="out", cancelled=True)
    client = login(indicators_app.test_client(), "secretar")
    data = client.get(f"/indicatori/export.json?{MARCH}").json
    taxe = next(d for d in data["compartimente"] if d["cod"] == "taxe")
    assert (taxe["intrari"], taxe["iesiri"], taxe["raspunsuri"], taxe["depasite"],
            taxe["expediate_cu_intarziere"], taxe["inregistrate"], taxe["anulate"]) == \
        (1, 0, 0, 0, 0, 1, 2)
    assert sum(i["inregistrate"] for i in data["inregistrari"]["intervale"]) == 1


def test_open_tasks_past_their_term_and_escalated(indicators_app):
    with writing(indicators_app) as session:
        registrar = runtime.Actor("registratura", frozenset({"registratura"}))
        for day in (date(2026, 1, 5), date(2026, 3, 10)):      # 30-day terms: one passed
            runtime.start_instance(session, "petition", {
                "sender_name": "Petent", "summary": "Cerere.", "department": "relatii-publice"},
                registrar, today=day)
        session.commit()
        task = session.execute(select(HumanTask).where(HumanTask.status == "open")
                               .order_by(HumanTask.due_on.desc())).scalars().first()
        task.escalated = True
    html = login(indicators_app.test_client(), "primar").get(f"/indicatori/?{MARCH}").text
    assert figure(html, "sarcini_depasite") == "1"
    assert figure(html, "sarcini_escaladate") == "1"
    assert cells(html, "data-department", "relatii-publice")[-1] == "1"


def test_default_period_is_the_current_month(indicators_app):
    with writing(indicators_app) as session:
        add(session, date(2026, 3, 31), "taxe")
        add(session, date(2026, 4, 1), "taxe")
    html = login(indicators_app.test_client(), "admin").get("/indicatori/").text
    assert "Perioada 01.03.2026 – 31.03.2026" in html
    assert figure(html, "intrari") == "1"


# --- who sees what ------------------------------------------------------------------


def test_a_head_of_department_sees_only_their_department(indicators_app):
    with writing(indicators_app) as session:
        add(session, date(2026, 3, 2), "taxe", due_on=date(2026, 3, 5),
            assigned_to="functionar.taxe")
        add(session, date(2026, 3, 2), "urbanism", due_on=date(2026, 3, 5),
            assigned_to="functionar.urbanism")
    client = login(indicators_app.test_client(), "sef.taxe")
    assert ">Indicatori</a>" in client.get("/").text
    html = client.get(f"/indicatori/?{MARCH}&departament=urbanism").text
    assert departments_shown(html) == ["taxe"]
    assert re.findall(r'<tr data-clerk="([^"]*)">', html) == ["functionar.taxe"]
    assert figure(html, "intrari") == "1" and figure(html, "depasite") == "1"
    assert 'value="urbanism"' not in html                    # not even offered
    data = client.get(f"/indicatori/export.json?{MARCH}&departament=urbanism").json
    assert [d["cod"] for d in data["compartimente"]] == ["taxe"]
    assert data["total"]["intrari"] == 1
    exported = client.get(f"/indicatori/export.csv?{MARCH}").data.decode("utf-8-sig")
    assert "urbanism" not in exported and "functionar.urbanism" not in exported


@pytest.mark.parametrize("username", ["functionar.taxe", "registratura"])
def test_everyone_else_is_refused(indicators_app, username):
    client = login(indicators_app.test_client(), username)
    assert ">Indicatori</a>" not in client.get("/").text
    for url in ("/indicatori/", "/indicatori/export.csv", "/indicatori/export.json",
                "/indicatori/?de=nu-e-data"):
        assert client.get(url).status_code == 403, url


def test_not_logged_in_goes_to_login(indicators_app):
    response = indicators_app.test_client().get("/indicatori/export.json")
    assert response.status_code == 302 and "/autentificare" in response.headers["Location"]


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("query, field, words", [
    ("de=2026-02-30", "de", "De la: „2026-02-30” nu este o dată validă"),
    ("de=2026-03-01&pana=31.03.2026", "pana", "Până la: „31.03.2026” nu este o dată validă"),
    ("de=2026-03-10&pana=2026-03-01", "pana", "data de sfârșit este înaintea"),
    ("de=2020-01-01&pana=2023-01-01", "pana", "cel mult 3 ani"),
    ("departament=nu-exista", "departament", "Compartiment: „nu-exista” nu există"),
])
def test_bad_filters_are_named_on_the_page(indicators_app, query, field, words):
    client = login(indicators_app.test_client(), "primar")
    response = client.get(f"/indicatori/?{query}")
    assert response.status_code == 400
    assert f'<li id="error-{field}">' in response.text and words in response.text
    assert 'class="chart"' not in response.text
    answer = client.get(f"/indicatori/export.json?{query}")
    assert answer.status_code == 400 and field in answer.json["erori"]
    assert client.get(f"/indicatori/export.csv?{query}").status_code == 400


def test_three_years_is_the_longest_period(indicators_app):
    client = login(indicators_app.test_client(), "primar")
    assert client.get("/indicatori/?de=2023-01-01&pana=2025-12-31").status_code == 200


# --- charts and exports -------------------------------------------------------------


def test_charts_are_inline_svg_with_one_bar_per_figure(indicators_app):
    with writing(indicators_app) as session:
        add(session, date(2026, 3, 2), "taxe")
        add(session, date(2026, 3, 3), "taxe")
        add(session, date(2026, 3, 20), "urbanism")
    client = login(indicators_app.test_client(), "primar")
    response = client.get(f"/indicatori/?{MARCH}")
    html = response.text
    rows = departments_shown(html)
    assert len(rows) == len(DEPARTMENTS)                    # every demo department
    assert html.count('class="bar bar-in"') == html.count('class="bar bar-out"') == len(rows)
    assert html.count('class="bar bar-registrations"') == 6  # six weeks touch March 2026
    weekly = re.findall(r'class="bar bar-registrations"[^>]*><title>(\d+)</title>', html)
    assert weekly == ["0", "2", "0", "1", "0", "0"]
    assert 'role="img" aria-labelledby="grafic-intrari-iesiri-title' in html
    assert "<title id=\"grafic-inregistrari-title\">Documente înregistrate pe săptămâni" in html
    assert "<script" not in html and 'style="' not in html
    assert client.get("/indicatori/static/indicators.css").status_code == 200
    yearly = client.get("/indicatori/?de=2025-01-01&pana=2026-03-31").text
    assert yearly.count('class="bar bar-registrations"') == 15
    assert "Documente înregistrate pe luni" in yearly


def test_csv_parses_back_with_the_page_figures(indicators_app):
    with writing(indicators_app) as session:
        answered_after(session, "urbanism", list(range(1, 21)))
        add(session, date(2026, 2, 2), "urbanism", due_on=date(2026, 3, 1), assigned_to="")
    response = login(indicators_app.test_client(), "primar").get(
        f"/indicatori/export.csv?{MARCH}")
    assert response.mimetype == "text/csv"
    assert "indicatori_2026-03-01_2026-03-31.csv" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    blank = rows.index([])
    departments = [dict(zip(rows[0], r)) for r in rows[1:blank]]
    clerks = [dict(zip(rows[blank + 1], r)) for r in rows[blank + 2:]]
    assert rows[0][:6] == ["Cod compartiment", "Compartiment", "De la", "Până la",
                           "Înregistrate (toate)", "Intrări"]
    urbanism = next(d for d in departments if d["Cod compartiment"] == "urbanism")
    assert urbanism["Compartiment"] == "Urbanism" and urbanism["Intrări"] == "20"
    assert urbanism["Mediana (zile)"] == "10,5" and urbanism["Percentila 95 (zile)"] == "19"
    assert urbanism["Depășite la zi"] == "1"
    assert departments[-1]["Compartiment"] == "Total" and departments[-1]["Ieșiri"] == "20"
    assert clerks == [{"Funcționar": "", "Nume": "nerepartizat",
                       "Documente depășite la 2026-03-15": "1"}]


def test_json_has_the_same_numbers_as_the_page(indicators_app):
    with writing(indicators_app) as session:
        answered_after(session, "urbanism", [1, 2, 3, 4])
        answered_after(session, "taxe", [5])
        add(session, date(2026, 3, 5), "taxe", due_on=date(2026, 3, 6), cancelled=True)
        add(session, date(2026, 3, 5), "taxe", due_on=date(2026, 3, 6),
            assigned_to="functionar.taxe")
    client = login(indicators_app.test_client(), "primar")
    html = client.get(f"/indicatori/?{MARCH}").text
    data = client.get(f"/indicatori/export.json?{MARCH}").json
    assert data["perioada"] == {"de": "2026-03-01", "pana": "2026-03-31"}
    assert data["data_situatiei"] == "2026-03-15"
    for key, value in data["total"].items():
        shown = figure(html, key)
        assert shown == ("—" if value is None else str(value).replace(".", ",")), key
    assert data["total"]["mediana_zile"] == 3 and data["total"]["p95_zile"] == 5
    assert data["depasite_pe_functionar"] == [
        {"utilizator": "functionar.taxe", "nume": "Victor Ene", "depasite": 1}]
    taxe = next(d for d in data["compartimente"] if d["cod"] == "taxe")
    assert cells(html, "data-department", "taxe")[1:3] == [str(taxe["intrari"]),
                                                           str(taxe["iesiri"])]
