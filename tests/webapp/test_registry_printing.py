"""The Registratura's papers through the web: who may print a document's receipt and
label, and the register book's export (parameters checked, the export on record)."""
import csv
import io
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from connectors.registry.models import RegisterEntry
from engine.models import AuditEvent
from engine.sla import SlaProfile
from webapp.database import db
from webapp_testkit import login, register_petition

PETITION_SLA = Path(__file__).resolve().parents[2] / "processes" / "petition" / "sla.json"


def read_back(pdf: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The first page's text and the barcodes a reader finds on it at 200 dpi."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=200 / 72).to_pil()
    return (" ".join(page.get_textpage().get_text_range().split()),
            [(c.format.name, c.text) for c in zxingcpp.read_barcodes(image)])


@pytest.fixture
def registered(demo_app):
    """A petition registered at the desk; the client stays logged in as the Registratura."""
    client = login(demo_app.test_client(), "registratura")
    assert register_petition(client, sender_name="Ștefan Țiriac").status_code == 302
    with demo_app.app_context():
        entry = db.session.execute(select(RegisterEntry)).scalars().one()
        found = client, entry.id, entry.label, entry.access_code
        db.session.remove()
    return found    # outside the app context: each request must get its own


def test_registratura_prints_the_receipt_the_citizen_takes_home(demo_app, registered):
    client, entry_id, label, access_code = registered
    response = client.get(f"/registratura/{entry_id}/recipisa.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text, codes = read_back(response.data)
    status_url = (f"{demo_app.config['PUBLIC_URL']}/stare?nr={quote(label, safe='')}"
                  f"&cod={access_code}")
    assert ("Code128", label) in codes
    assert ("QRCode", status_url) in codes
    due_on = SlaProfile.load(PETITION_SLA).due_date(date.today())
    for expected in (label, "Ștefan Țiriac", access_code, due_on.strftime("%d.%m.%Y"),
                     "30 de zile (OG 27/2002)"):
        assert expected in text


def test_label_and_cover_sheet_carry_the_register_number(registered):
    client, entry_id, label, _ = registered
    cover = client.get(f"/registratura/{entry_id}/eticheta.pdf")
    small = client.get(f"/registratura/{entry_id}/eticheta.pdf?format=eticheta")
    assert cover.mimetype == small.mimetype == "application/pdf"
    assert read_back(cover.data)[1] == [("Code128", label)] * 2
    assert read_back(small.data)[1] == [("Code128", label)]
    wrong = client.get(f"/registratura/{entry_id}/eticheta.pdf?format=A4")
    assert wrong.status_code == 400 and "«format»" in wrong.text


def test_only_the_registratura_and_the_entrys_department_print_its_papers(demo_app, registered):
    _, entry_id, _, _ = registered
    other = login(demo_app.test_client(), "functionar.urbanism")
    assert other.get(f"/registratura/{entry_id}/recipisa.pdf").status_code == 403
    assert other.get(f"/registratura/{entry_id}/eticheta.pdf").status_code == 403
    own = login(demo_app.test_client(), "functionar.relatii")
    assert own.get(f"/registratura/{entry_id}/recipisa.pdf").status_code == 200
    assert own.get("/registratura/registru.pdf").status_code == 403


WRONG_PERIODS = [
    ("de=2026-11-31&pana=2026-11-30", "«de»"),
    ("de=01.11.2026&pana=2026-11-30", "«de»"),
    ("de=2026-11-01", "«pana»"),
    ("de=2026-11-01&pana=2026-1-30", "«pana»"),
    ("de=2026-12-01&pana=2026-11-30", "«pana»"),
    ("de=2026-01-01&pana=2027-01-01", "cel mult un an"),
]


def test_register_book_refuses_a_wrong_period_naming_the_parameter(demo_app):
    client = login(demo_app.test_client(), "registratura")
    for query, named in WRONG_PERIODS:
        response = client.get(f"/registratura/registru.pdf?{query}")
        assert response.status_code == 400, query
        assert named in response.text, query
    assert client.get("/registratura/registru.csv?registru=nu-exista").status_code == 404


def test_register_book_export_downloads_and_is_on_record(demo_app, registered):
    client, _, label, _ = registered
    today = date.today()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    pdf = client.get("/registratura/registru.pdf")       # this month by default
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == (
        f"attachment; filename=registru-general-{first.isoformat()}-{last.isoformat()}.pdf")
    assert "Ștefan Țiriac" in read_back(pdf.data)[0]

    year = client.get(f"/registratura/registru.csv?registru=general&de={today.year}-01-01"
                      f"&pana={today.year}-12-31")
    assert year.headers["Content-Disposition"] == (
        f"attachment; filename=registru-general-{today.year}-01-01-{today.year}-12-31.csv")
    rows = list(csv.DictReader(io.StringIO(year.data.decode("utf-8-sig")), delimiter=";"))
    assert [(r["Nr. înregistrare"], r["Data înregistrării"], r["Expeditor"]) for r in rows] == [
        (label.split("/")[0], today.strftime("%d.%m.%Y"), "Ștefan Țiriac")]

    with demo_app.app_context():
        events = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "register.exported").order_by(AuditEvent.id)).scalars().all()
        assert [(e.actor, e.object_ref) for e in events] == [("registratura", "register:general")] * 2
        assert f"{first:%d.%m.%Y} – {last:%d.%m.%Y}, PDF" in events[0].summary
        assert f"01.01.{today.year} – 31.12.{today.year}, CSV, înregistrări: 1" in events[1].summary
