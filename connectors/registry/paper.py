"""The Registratura's paper: the registration receipt handed to the citizen, the
label / cover sheet stuck on paper originals, and the register book of a period
(PDF to print and sign, CSV for a spreadsheet).

Pure functions: entries in, bytes or text out; the caller looks the entries up and
decides who may have them. Every document is in Romanian (the town hall's official
language), set in DejaVu Sans because the PDF standard fonts have no ș and ț.
"""
import csv
import io
from datetime import date
from pathlib import Path
from typing import Iterable, Mapping
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (KeepTogether, LongTable, Paragraph, SimpleDocTemplate,
                                Spacer, Table, TableStyle)

from .models import Register, RegisterEntry

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"

CHANNELS = {"ghiseu": "ghișeu", "posta": "poștă", "email": "e-mail", "fax": "fax",
            "telefon": "telefon", "portal": "portal online"}

# A label printer's usual size; the cover sheet carries one to cut out.
LABEL_SIZE = (70 * mm, 36 * mm)


class PaperError(RuntimeError):
    """The paper cannot be produced (missing font, number unfit for a barcode)."""


# --- shared helpers ---------------------------------------------------------------

def _fonts() -> None:
    # Checked on every call (two stat calls), so a missing font always gives this
    # message rather than reportlab's own error from deep inside a drawing.
    files = {FONT: FONT_DIR / "DejaVuSans.ttf", FONT_BOLD: FONT_DIR / "DejaVuSans-Bold.ttf"}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise PaperError("Lipsește fontul DejaVu Sans (" + ", ".join(missing) + "), fără de "
                         "care diacriticele ș și ț nu se pot tipări. Instalați pachetul "
                         "Debian fonts-dejavu-core (setup.sh îl instalează).")
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, path in files.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                  boldItalic=FONT_BOLD)


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _number(entry: RegisterEntry) -> str:
    """The number without its date: `1234`, `URB-12`."""
    return f"{entry.register.prefix}{entry.number}"


def _style(size: float, bold: bool = False, leading: float | None = None, **kw) -> ParagraphStyle:
    return ParagraphStyle(f"s{size}{bold}", fontName=FONT_BOLD if bold else FONT,
                          fontSize=size, leading=leading or size * 1.25, **kw)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or ""), style)


def _barcode(value: str, max_width: float, height: float, max_bar: float) -> Code128:
    """A Code128 of exactly `value`, as wide as allowed but no wider, with the quiet
    zone of ten modules each side kept inside `max_width`."""
    if not value.isascii() or not value.isprintable():
        raise PaperError(f"Numărul «{value}» conține caractere care nu se pot scrie într-un "
                         "cod de bare Code128; folosiți doar litere fără diacritice în "
                         "prefixul registrului.")
    modules = Code128(value, barWidth=1, quiet=False).width
    bar = min(max_bar, max_width / (modules + 20))
    return Code128(value, barWidth=bar, barHeight=height, quiet=True, lquiet=10 * bar,
                   rquiet=10 * bar, humanReadable=False)


def _qr(value: str, size: float) -> Drawing:
    widget = QrCodeWidget(value, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Cut a line to `width`, with an ellipsis, so a label never overflows."""
    text = " ".join((text or "").split())
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _department(entry: RegisterEntry, departments: Mapping[str, str] | None) -> str:
    return (departments or {}).get(entry.department, entry.department)


# --- the receipt --------------------------------------------------------------------

def receipt_pdf(entry: RegisterEntry, *, town_hall: str, due_on: date | None,
                term_label: str, status_url: str,
                departments: Mapping[str, str] | None = None, registrar: str = "") -> bytes:
    """The confirmation of receipt (*număr de înregistrare*) handed to the citizen:
    the number they will quote, the legal term, and how to follow the request."""
    _fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A5, leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=10 * mm, bottomMargin=10 * mm, author=town_hall,
                            title=f"Confirmare de primire nr. {entry.label}")
    width = doc.width
    small, normal, bold = _style(8), _style(9.5), _style(9.5, bold=True)
    story = [_p(town_hall, _style(12, bold=True)), _p("Registratura", small), Spacer(0, 5 * mm),
             _p("CONFIRMARE DE PRIMIRE", _style(14, bold=True, alignment=1)),
             _p(f"Nr. {entry.label}", _style(16, bold=True, alignment=1, spaceBefore=2 * mm)),
             Spacer(0, 3 * mm)]
    if entry.cancelled:
        story.append(_p(f"ANULAT: {entry.cancel_reason}",
                        _style(11, bold=True, textColor=colors.red, alignment=1)))
    rows = [("Număr de înregistrare", _number(entry)),
            ("Data înregistrării", _day(entry.registered_on)),
            ("Expeditor", entry.sender_name)]
    if entry.sender_reference or entry.sender_date:
        rows.append(("Nr. / data expeditorului",
                     " / ".join(filter(None, [entry.sender_reference, _day(entry.sender_date)]))))
    rows += [("Conținut pe scurt", entry.summary),
             ("Număr de file", str(entry.pages) if entry.pages else "—"),
             ("Anexe", entry.annexes or "—"),
             ("Mod de primire", CHANNELS.get(entry.channel, entry.channel))]
    if entry.department:
        rows.append(("Compartiment", _department(entry, departments)))
    term = _day(due_on) or "—"
    rows.append(("Termen de răspuns", f"{term} — {term_label}" if term_label and due_on else term))
    table = Table([[_p(k, small), _p(v, bold if k == "Termen de răspuns" else normal)]
                   for k, v in rows], colWidths=[36 * mm, width - 36 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    story += [table, Spacer(0, 4 * mm)]
    if entry.access_code:
        story += [_p(f"Cod de acces: {entry.access_code}", _style(11, bold=True)),
                  _p("Cu numărul de înregistrare și acest cod puteți urmări oricând stadiul "
                     "cererii pe pagina de stare a primăriei (scanați codul QR): "
                     f"{status_url}", small)]
    barcode = _barcode(entry.label, width - 36 * mm, 14 * mm, 0.35 * mm)
    codes = Table([[[barcode, _p(entry.label, _style(8, alignment=1))], _qr(status_url, 32 * mm)]],
                  colWidths=[width - 36 * mm, 36 * mm])
    codes.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    signature = Table([[_p(f"Registrator: {registrar or entry.registered_by or ''}", small),
                        _p("Semnătura și ștampila", small)]], colWidths=[width / 2] * 2)
    story += [Spacer(0, 3 * mm), codes, Spacer(0, 8 * mm), signature]
    doc.build([KeepTogether(story)])
    return buffer.getvalue()


# --- the label and the cover sheet --------------------------------------------------

def _draw_label(c: canvas.Canvas, x: float, y: float, entry: RegisterEntry, town_hall: str,
                departments: Mapping[str, str] | None) -> None:
    """The 70×36 mm label: who, number and date, department and file, barcode."""
    w, h = LABEL_SIZE
    pad = 2.5 * mm
    inner = w - 2 * pad
    c.setFont(FONT, 6)
    c.drawString(x + pad, y + h - pad - 5, _fit(town_hall, FONT, 6, inner))
    c.setFont(FONT_BOLD, 11)
    c.drawString(x + pad, y + h - pad - 17, _fit(f"Nr. {entry.label}", FONT_BOLD, 11, inner))
    c.setFont(FONT, 6.5)
    details = _department(entry, departments)
    if entry.file_code:
        details = f"{details} · dosar {entry.file_code}" if details else f"dosar {entry.file_code}"
    c.drawString(x + pad, y + h - pad - 26, _fit(details, FONT, 6.5, inner))
    barcode = _barcode(entry.label, inner, 14 * mm, 0.25 * mm)
    barcode.drawOn(c, x + pad + (inner - barcode.width) / 2, y + pad)


def cover_sheet_pdf(entry: RegisterEntry, *, town_hall: str, layout: str = "cover",
                    departments: Mapping[str, str] | None = None) -> bytes:
    """`cover`: an A4 sheet for the paper original, with a label to cut out;
    `label`: one 70×36 mm page for a label printer."""
    if layout not in ("cover", "label"):
        raise ValueError(f"layout must be 'cover' or 'label', got {layout!r}")
    _fonts()
    buffer = io.BytesIO()
    if layout == "label":
        c = canvas.Canvas(buffer, pagesize=LABEL_SIZE)
        c.setTitle(f"Etichetă nr. {entry.label}")
        _draw_label(c, 0, 0, entry, town_hall, departments)
        c.showPage()
        c.save()
        return buffer.getvalue()

    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(f"Copertă nr. {entry.label}")
    c.setAuthor(town_hall)
    page_w, page_h = A4
    left, text_w = 20 * mm, page_w - 40 * mm
    # The label sits top right inside a dashed cut line.
    label_x, label_y = page_w - 15 * mm - LABEL_SIZE[0], page_h - 15 * mm - LABEL_SIZE[1]
    c.setDash(3, 2)
    c.setLineWidth(0.5)
    c.rect(label_x, label_y, *LABEL_SIZE)
    c.setDash()
    _draw_label(c, label_x, label_y, entry, town_hall, departments)
    c.setFont(FONT, 6)
    c.drawRightString(label_x + LABEL_SIZE[0], label_y - 3 * mm, "decupați pe linia punctată")

    c.setFont(FONT_BOLD, 13)
    c.drawString(left, page_h - 22 * mm, _fit(town_hall, FONT_BOLD, 13, label_x - left - 5 * mm))
    c.setFont(FONT, 10)
    c.drawString(left, page_h - 28 * mm, "Registratura")
    y = page_h - 80 * mm
    c.setFont(FONT, 12)
    c.drawString(left, y, "Număr de înregistrare")
    c.setFont(FONT_BOLD, 40)
    c.drawString(left, y - 16 * mm, _fit(_number(entry), FONT_BOLD, 40, text_w))
    c.setFont(FONT_BOLD, 20)
    c.drawString(left, y - 26 * mm, f"din {_day(entry.registered_on)}")
    y -= 42 * mm
    lines = [("Compartiment", _department(entry, departments)),
             ("Indicativ dosar", entry.file_code),
             ("Expeditor", entry.sender_name),
             ("Conținut", entry.summary)]
    for caption, value in lines:
        c.setFont(FONT, 10)
        c.drawString(left, y, caption)
        c.setFont(FONT_BOLD, 14)
        wrapped = simpleSplit(" ".join((value or "—").split()), FONT_BOLD, 14, text_w - 40 * mm)
        if len(wrapped) > 4:   # the summary is on the receipt in full; here it identifies
            wrapped = wrapped[:3] + [_fit(" ".join(wrapped[3:]), FONT_BOLD, 14, text_w - 40 * mm)]
        for line in wrapped:
            c.drawString(left + 40 * mm, y, line)
            y -= 6.5 * mm
        y -= 3.5 * mm
    if entry.cancelled:
        c.setFillColor(colors.red)
        c.setFont(FONT_BOLD, 16)
        for line in simpleSplit(f"ANULAT: {entry.cancel_reason}", FONT_BOLD, 16, text_w)[:3]:
            c.drawString(left, y - 4 * mm, line)
            y -= 7 * mm
        c.setFillColor(colors.black)
    barcode = _barcode(entry.label, text_w, 22 * mm, 0.5 * mm)
    barcode.drawOn(c, left + (text_w - barcode.width) / 2, 35 * mm)
    c.setFont(FONT, 11)
    c.drawCentredString(page_w / 2, 29 * mm, entry.label)
    c.showPage()
    c.save()
    return buffer.getvalue()


# --- the register book ---------------------------------------------------------------

CSV_HEADER = ["Nr. înregistrare", "Data înregistrării", "Mod de primire", "Expeditor",
              "Nr. expeditor", "Data expeditor", "Nr. file", "Anexe", "Conținut pe scurt",
              "Compartiment", "Repartizat la", "Termen", "Data expedierii",
              "Mod de expediere", "Destinatar", "Mod de rezolvare", "Conexat la",
              "Indicativ dosar", "Anulat", "Motiv anulare"]

BOOK_COLUMNS = [  # caption, width (mm): 277 mm between the margins of landscape A4
    ("Nr.", 13), ("Data", 15.5), ("Primire", 13), ("Expeditor", 25),
    ("Nr. / data expeditor", 17), ("File / anexe", 15), ("Conținut pe scurt", 37),
    ("Compartiment", 20.5), ("Repartizat la", 17), ("Termen", 15.5),
    ("Expediat (data, mod)", 17), ("Destinatar", 19), ("Mod de rezolvare", 19),
    ("Conexat la", 17.5), ("Indicativ dosar", 16)]


def _csv_safe(value: str) -> str:
    """Free text a spreadsheet would run as a formula is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def register_book_csv(entries: Iterable[RegisterEntry]) -> str:
    """The register book as CSV for Romanian Excel: UTF-8 with BOM, `;`, dd.mm.yyyy."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in entries:
        text = [e.sender_name, e.sender_reference, e.annexes, e.summary, e.department,
                e.assigned_to, e.recipient, e.outcome, e.file_code, e.cancel_reason]
        (sender, reference, annexes, summary, department, clerk, recipient, outcome,
         file_code, reason) = (_csv_safe(t or "") for t in text)
        writer.writerow([
            _number(e), _day(e.registered_on), CHANNELS.get(e.channel, e.channel), sender,
            reference, _day(e.sender_date), e.pages if e.pages is not None else "", annexes,
            summary, department, clerk, _day(e.due_on), _day(e.dispatched_on),
            CHANNELS.get(e.dispatch_channel, e.dispatch_channel), recipient, outcome,
            e.linked_entry.label if e.linked_entry is not None else "", file_code,
            "da" if e.cancelled else "", reason])
    return out.getvalue()


class _PagedCanvas(canvas.Canvas):
    """Holds the pages back until the end, so each can say `pagina X din Y`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._held: list[dict] = []

    def showPage(self):
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._held)
        for number, state in enumerate(self._held, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 7)
            self.drawRightString(self._pagesize[0] - 10 * mm, 6 * mm,
                                 f"pagina {number} din {total}")
            super().showPage()
        super().save()


def register_book_pdf(register: Register, entries: Iterable[RegisterEntry], *, start: date,
                      end: date, town_hall: str, departments: Mapping[str, str] | None = None,
                      people: Mapping[str, str] | None = None) -> bytes:
    """The register book of `register` from `start` to `end` (both included), one row
    per number; cancelled numbers stay, marked ANULAT with the reason."""
    _fonts()
    rows = sorted((e for e in entries if e.register_id == register.id
                   and start <= e.registered_on <= end),
                  key=lambda e: (e.registered_on, e.number))
    people = people or {}
    cell, head = _style(6.5, leading=7.8), _style(6.5, bold=True, leading=7.8)
    period = f"{_day(start)} – {_day(end)}"

    def frame(c: canvas.Canvas, doc) -> None:
        c.saveState()
        c.setFont(FONT_BOLD, 10)
        c.drawString(10 * mm, doc.pagesize[1] - 10 * mm, f"{town_hall} · {register.name}")
        c.setFont(FONT, 8)
        c.drawString(10 * mm, doc.pagesize[1] - 14.5 * mm,
                     f"Perioada {period} · înregistrări: {len(rows)}")
        c.restoreState()

    data = [[_p(caption, head) for caption, _ in BOOK_COLUMNS]]
    style = [("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
             ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("FONT", (0, 0), (-1, -1), FONT, 6.5),
             ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
             ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    for i, e in enumerate(rows, start=1):
        summary = escape(e.summary or "")
        if e.cancelled:
            summary = (f'<font color="#c00000"><b>ANULAT</b>: {escape(e.cancel_reason)}</font>'
                       f"<br/>{summary}")
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#fbe9e9")))
        sender_ref = " / ".join(filter(None, [e.sender_reference, _day(e.sender_date)]))
        pages = " / ".join(filter(None, [str(e.pages) if e.pages else "", e.annexes]))
        dispatch = " ".join(filter(None, [_day(e.dispatched_on),
                                          CHANNELS.get(e.dispatch_channel, e.dispatch_channel)]))
        data.append([
            _p(_number(e), cell), _day(e.registered_on), _p(CHANNELS.get(e.channel, e.channel), cell),
            _p(e.sender_name, cell), _p(sender_ref, cell), _p(pages, cell),
            Paragraph(summary, cell), _p(_department(e, departments), cell),
            _p(people.get(e.assigned_to, e.assigned_to), cell), _day(e.due_on),
            _p(dispatch, cell), _p(e.recipient, cell), _p(e.outcome, cell),
            _p(e.linked_entry.label if e.linked_entry is not None else "", cell),
            _p(e.file_code, cell)])
    if not rows:
        data.append([_p("Nicio înregistrare în această perioadă.", cell)] + [""] * 14)
        style.append(("SPAN", (0, 1), (-1, 1)))
    table = LongTable(data, colWidths=[w * mm for _, w in BOOK_COLUMNS], repeatRows=1)
    table.setStyle(TableStyle(style))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=10 * mm,
                            rightMargin=10 * mm, topMargin=18 * mm, bottomMargin=11 * mm,
                            title=f"{register.name}, {period}", author=town_hall)
    doc.build([table], onFirstPage=frame, onLaterPages=frame, canvasmaker=_PagedCanvas)
    return buffer.getvalue()
