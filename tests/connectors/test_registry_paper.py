"""The Registratura's paper, read back the way it will be used: the receipt's and the
label's barcodes through a real barcode reader, the text through a PDF reader, the
CSV through the csv module."""
import csv
import io
from datetime import date, timedelta

import pytest

import webapp  # noqa: F401  (registers every table, so the models' relationships resolve)
from connectors.registry import paper
from connectors.registry.models import Register, RegisterEntry
from paper_testkit import barcodes, page_size_mm, texts

GENERAL = Register(id=1, code="general", name="Registrul general de intrare-ieșire", prefix="")
URBANISM = Register(id=2, code="URB", name="Registrul Urbanism", prefix="URB-")
STATUS_URL = "https://primaria.example.ro/stare?nr=1234%2F22.11.2026&cod=K7M2P9QX"


def entry(number=1234, on=date(2026, 11, 22), register=GENERAL, **fields) -> RegisterEntry:
    values = dict(channel="ghiseu", sender_name="Ștefania Țurcanu",
                  summary="Solicită repararea iluminatului public pe strada Lungă.", pages=2,
                  annexes="copie act de identitate", department="relatii-publice",
                  access_code="K7M2P9QX", file_code="II-3", registered_by="registratura")
    values.update(fields)
    return RegisterEntry(id=number + 1000 * register.id, register=register,
                         register_id=register.id, year=on.year, number=number,
                         registered_on=on, **values)


def receipt(document, url=STATUS_URL):
    return paper.receipt_pdf(document, town_hall="Primăria Comunei Șieu-Odorhei",
                             due_on=date(2026, 12, 22), term_label="30 de zile (OG 27/2002)",
                             status_url=url)


@pytest.mark.parametrize("document", [entry(), entry(12, register=URBANISM)],
                         ids=["general", "series"])
def test_receipt_barcode_reads_back_the_register_number_and_qr_the_status_page(document):
    codes = barcodes(receipt(document))
    assert ("Code128", document.label) in codes
    assert ("QRCode", STATUS_URL) in codes


def test_receipt_states_number_term_access_code_and_sender_with_diacritics():
    text = texts(receipt(entry()))[0]
    for expected in ("1234/22.11.2026", "22.12.2026", "30 de zile (OG 27/2002)", "K7M2P9QX",
                     "Ștefania Țurcanu", "Primăria Comunei Șieu-Odorhei", STATUS_URL):
        assert expected in text


def test_receipt_of_a_cancelled_number_says_so():
    document = entry(cancelled=True, cancel_reason="Înregistrat de două ori")
    assert "ANULAT: Înregistrat de două ori" in texts(receipt(document))[0]


def test_cover_sheet_carries_a_label_to_cut_out_and_a_large_barcode():
    pdf = paper.cover_sheet_pdf(entry(12, register=URBANISM), town_hall="Primăria Șieu")
    codes = barcodes(pdf)
    assert codes.count(("Code128", "URB-12/22.11.2026")) == 2     # the sheet's and the label's
    text = texts(pdf)[0]
    assert page_size_mm(pdf) == (210.0, 297.0)
    for expected in ("URB-12", "22.11.2026", "II-3", "Ștefania Țurcanu"):
        assert expected in text


def test_label_is_a_label_printer_page_with_the_register_number():
    pdf = paper.cover_sheet_pdf(entry(), town_hall="Primăria Șieu", layout="label",
                                departments={"relatii-publice": "Relații cu publicul"})
    assert page_size_mm(pdf) == (70.0, 36.0)
    assert barcodes(pdf) == [("Code128", "1234/22.11.2026")]
    assert "Relații cu publicul · dosar II-3" in texts(pdf)[0]


def test_a_number_that_cannot_be_a_barcode_is_refused_clearly():
    series = Register(id=3, code="STC", name="Stare civilă", prefix="ȘTC-")
    with pytest.raises(paper.PaperError, match="Code128"):
        paper.cover_sheet_pdf(entry(4, register=series), town_hall="Primăria")


def test_missing_font_names_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(paper, "FONT_DIR", tmp_path)
    with pytest.raises(paper.PaperError, match="fonts-dejavu-core"):
        receipt(entry())


def november(count=60):
    """Entries 1..count in November 2026, two a day, number 4 cancelled, number 6
    joined to number 3, and one entry on each side of the month."""
    entries = [entry(i, date(2026, 11, 1) + timedelta(days=(i - 1) // 2),
                     sender_name=f"Ștefania Țurcanu {i}", sender_reference=f"R-{i}",
                     sender_date=date(2026, 10, 30), assigned_to="functionar.relatii",
                     due_on=date(2026, 12, 22))
               for i in range(1, count + 1)]
    entries[3].cancelled, entries[3].cancel_reason = True, "Dublură"
    entries[5].linked_entry = entries[2]
    entries[0].dispatched_on, entries[0].dispatch_channel = date(2026, 11, 20), "email"
    entries[0].outcome, entries[0].recipient = "Soluționat favorabil", "Ștefania Țurcanu 1"
    before = entry(900, date(2026, 10, 31), sender_name="Octombrie Înainte")
    after = entry(901, date(2026, 12, 1), sender_name="Decembrie După")
    return [before, *entries, after]


def book(entries, **kw):
    return paper.register_book_pdf(GENERAL, entries, start=date(2026, 11, 1),
                                   end=date(2026, 11, 30), town_hall="Primăria Șieu",
                                   people={"functionar.relatii": "Ioana Dumitru"}, **kw)


def test_register_book_keeps_cancelled_numbers_marked_and_leaves_out_other_periods():
    text = " ".join(" ".join(texts(book(november(8)))).split())   # cells wrap
    assert "ANULAT: Dublură" in text
    assert "Octombrie" not in text and "Decembrie" not in text
    assert "Ștefania Țurcanu 8" in text and "Ioana Dumitru" in text
    assert "3/02.11.2026" in text          # number 6 is joined (conexat) to number 3
    assert "Registrul general de intrare-ieșire" in text and "01.11.2026 – 30.11.2026" in text


def test_long_register_book_numbers_its_pages_and_repeats_the_header():
    pages = texts(book(november(60)))
    total = len(pages)
    assert total > 1
    for number, text in enumerate(pages, start=1):
        assert f"pagina {number} din {total}" in text
        assert "Conținut pe scurt" in text and "Indicativ" in text
    assert "Ștefania Țurcanu 60" in pages[-1]


def test_register_book_of_an_empty_period_says_so():
    text = texts(book([]))[0]
    assert "Nicio înregistrare în această perioadă." in text
    assert "pagina 1 din 1" in text


def test_register_book_csv_opens_in_romanian_excel():
    entries = november(6)[1:-1]
    entries[1].summary = "=HYPERLINK(\"http://x\")"
    text = paper.register_book_csv(entries)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    header, lines = rows[0], rows[1:]
    assert header[:4] == ["Nr. înregistrare", "Data înregistrării", "Mod de primire", "Expeditor"]
    assert "Conexat la" in header and "Motiv anulare" in header
    assert len(lines) == 6
    row = dict(zip(header, lines[0]))
    assert (row["Nr. înregistrare"], row["Data înregistrării"], row["Mod de primire"]) == (
        "1", "01.11.2026", "ghișeu")
    assert (row["Data expeditor"], row["Termen"], row["Data expedierii"]) == (
        "30.10.2026", "22.12.2026", "20.11.2026")
    assert row["Expeditor"] == "Ștefania Țurcanu 1"
    cancelled = dict(zip(header, lines[3]))
    assert (cancelled["Anulat"], cancelled["Motiv anulare"]) == ("da", "Dublură")
    assert dict(zip(header, lines[5]))["Conexat la"] == "3/02.11.2026"
    # A spreadsheet must show a sender's text, never run it as a formula.
    assert dict(zip(header, lines[1]))["Conținut pe scurt"] == "'=HYPERLINK(\"http://x\")"
