"""Reading the town hall's barcodes back from scanned pages, and what they say."""
import io
from datetime import date

import pytest
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

import webapp  # noqa: F401  (registers every table, so the models' relationships resolve)
from archive.barcodes import (SEPARATOR, RegisterReference, interpret, parse_reference,
                              read_barcodes, read_page)
from connectors.registry.models import Register, RegisterEntry
from scan_testkit import label, letter, pages_of, receipt, scan, separator, status_url

URBANISM = Register(id=2, code="urbanism", name="Urbanism", prefix="URB-")


@pytest.mark.parametrize("text, expected", [
    ("1234/22.11.2026", RegisterReference("", 1234, 2026, date(2026, 11, 22))),
    ("URB-12/22.11.2026", RegisterReference("URB", 12, 2026, date(2026, 11, 22))),
    ("1234/2026", RegisterReference("", 1234, 2026)),
    (" urb 12 / 2026 ", RegisterReference("URB", 12, 2026)),
    ("INT-7/3.2.2027", RegisterReference("INT", 7, 2027, date(2027, 2, 3))),
    ("1234", None), ("12/31.02.2026", None), ("Strada Lungă 3", None), ("", None),
])
def test_register_numbers_as_printed_and_as_typed(text, expected):
    assert parse_reference(text, needs_year=True) == expected


def test_a_bare_number_is_a_reference_only_where_the_year_may_be_implied():
    assert parse_reference("1234", needs_year=True) is None      # a barcode names a year
    assert parse_reference("urb 12") == RegisterReference("URB", 12)   # a search box


def test_what_a_barcode_says():
    assert interpret("DOSAR-SEPARATOR") == SEPARATOR
    url = "https://primaria.example.ro/stare?nr=URB-12%2F22.11.2026&cod=K7M2P9QX"
    assert interpret(url) == RegisterReference("URB", 12, 2026, date(2026, 11, 22), "K7M2P9QX")
    assert interpret("https://example.ro/altceva?nr=12%2F2026") is None
    assert interpret("5941234567890") is None          # a product's EAN is none of ours


def entry(number=1234, register=URBANISM) -> RegisterEntry:
    return RegisterEntry(id=number, register=register, register_id=register.id, year=2026,
                         number=number, registered_on=date(2026, 11, 22), channel="ghiseu",
                         sender_name="Ștefania Țurcanu", summary="Certificat de urbanism",
                         pages=2, annexes="", department="urbanism", access_code="K7M2P9QX",
                         file_code="URB-1", registered_by="registratura")


def test_the_receipts_qr_code_scanned_at_200_dpi_names_the_entry_and_its_access_code():
    document = entry()
    (page,) = scan(pages_of(receipt(document)), angle=2.0)
    codes = read_page(page)
    assert ("QRCode", status_url(document)) in [(r.format, r.text) for r in codes.readings]
    assert RegisterReference("URB", 1234, 2026, date(2026, 11, 22), "K7M2P9QX") in \
        codes.references


def small_qr_page(size_mm: float, text: str) -> bytes:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    widget = QrCodeWidget(text, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    size = size_mm * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, 150 * mm, 250 * mm)
    c.drawString(25 * mm, 200 * mm, "Scrisoare cu un cod QR mic în colț.")
    c.showPage()
    c.save()
    return buffer.getvalue()


@pytest.mark.parametrize("size_mm", [13, 16])
def test_a_small_qr_code_printed_and_scanned_in_1_bit_is_still_read(size_mm):
    """13 mm: modules of 2–3 pixels at 200 dpi, fattened by the scanner's threshold."""
    url = status_url(entry())
    (page,) = scan(pages_of(small_qr_page(size_mm, url)), angle=2.0)
    assert [r.text for r in read_barcodes(page)] == [url]


def test_labels_code39_and_separator_sheets_read_whichever_way_they_went_in():
    (sticker,) = scan(pages_of(label(entry(12))), angle=-3.0)
    assert [(r.format, r.text) for r in read_barcodes(sticker)] == [
        ("Code128", "URB-12/22.11.2026")]
    (code39,) = scan(pages_of(letter("Adresă", code39="URB-12/22.11.2026")), angle=2.0)
    # python-barcode adds Code39's check character; it is not part of the number.
    assert [(r.format, r.text) for r in read_barcodes(code39)] == [
        ("Code39", "URB-12/22.11.2026")]
    (sheet,) = scan(pages_of(separator()), angle=178.0)                # upside down
    assert read_page(sheet).separator
    (plain,) = scan(pages_of(letter("Fără coduri")))
    assert read_page(plain).readings == []
