"""Barcodes on scanned pages: reading them, and telling what they say.

What the town hall prints carries the register number as a Code128 (the receipt, the
label, the cover sheet: `1234/22.11.2026`, `URB-12/22.11.2026`) and the receipt also a
QR code of the public status page (`…/stare?nr=1234%2F22.11.2026&cod=…`). Between two
documents of a scan batch lies our separator sheet: a Code128 and a QR code of
`DOSAR-SEPARATOR`. Patch-code separator sheets (patch T) are not read: zxing-cpp has
no patch-code reader, so print ours (`separator_sheet_pdf`).

Real scans are 200–300 dpi, a few degrees skewed, often 1-bit fax images: the page is
read as it is first (most pages end there, in a tenth of a second); only a page where
nothing was found gets a second look for small 2D codes, enlarged and with the dark
modules thinned, which saves small printed-then-scanned QR codes.
"""
import io
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import zxingcpp
from PIL import Image, ImageChops
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.graphics import renderPDF
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from connectors.registry import paper
from connectors.registry.references import RegisterReference, parse_reference  # noqa: F401 (re-exported)

SEPARATOR = "DOSAR-SEPARATOR"
SEPARATOR_TITLE = "FOAIE SEPARATOR — nu se arhivează"

_F = zxingcpp.BarcodeFormat
FORMATS = [_F.Code128, _F.Code39, _F.QRCode, _F.DataMatrix]
SMALL_FORMATS = [_F.QRCode, _F.DataMatrix]     # the second look is for small 2D codes
# The whole page's second look never makes an image larger than this (A4 at 200 dpi,
# doubled, is 15 MP): beyond, it would cost seconds a page for little gain.
MAX_LOOK_PIXELS = 20_000_000


@dataclass(frozen=True)
class Reading:
    format: str       # Code128, Code39, QRCode, DataMatrix
    text: str

    def __str__(self) -> str:
        return f"{self.format}:{self.text}"


@dataclass
class PageCodes:
    """What one page's barcodes say."""
    readings: list[Reading] = field(default_factory=list)
    separator: bool = False
    references: list[RegisterReference] = field(default_factory=list)


# --- reading --------------------------------------------------------------------------

def read_barcodes(image: Image.Image) -> list[Reading]:
    """Every barcode found on a page image (any mode, any size), each text once."""
    gray = image if image.mode == "L" else image.convert("L")
    # Nothing we print is light on dark: no inverted pass, a third less time. Codes
    # found but not decoded come back too (errors), to be looked at again closely.
    found = zxingcpp.read_barcodes(gray, formats=FORMATS, try_invert=False, return_errors=True)
    good = [barcode for barcode in found if barcode.valid]
    if not good:
        good = _second_look(gray, [barcode for barcode in found if not barcode.valid])
    readings = [Reading(barcode.format.name, _text(barcode)) for barcode in good]
    return list(dict.fromkeys(readings))


def read_page(image: Image.Image) -> PageCodes:
    codes = PageCodes(readings=read_barcodes(image))
    for reading in codes.readings:
        meaning = interpret(reading.text)
        if meaning == SEPARATOR:
            codes.separator = True
        elif isinstance(meaning, RegisterReference) and meaning not in codes.references:
            codes.references.append(meaning)
    return codes


def _second_look(gray: Image.Image, undecoded: list) -> list:
    """Small 2D codes: a 200 dpi 1-bit scan of a 12–14 mm QR code has modules of 2–3
    pixels, fattened by the scanner's threshold, which zxing finds but cannot sample.
    Enlarged with hard edges and the dark modules thinned, most read. First the places
    where zxing saw a code (cheap), then, if it saw none, the whole page."""
    for barcode in undecoded:
        region = gray.crop(_around(barcode.position, gray.size))
        for factor in (2, 3):
            found = _read_small(_thinned(region, factor))
            if found:
                return found
    if gray.width * gray.height * 4 <= MAX_LOOK_PIXELS:
        return _read_small(_thinned(gray, 2))
    return []


def _read_small(image: Image.Image) -> list:
    return zxingcpp.read_barcodes(image, formats=SMALL_FORMATS, try_invert=False,
                                  try_rotate=False)


def _thinned(gray: Image.Image, factor: int) -> Image.Image:
    """Enlarged `factor` times, then every dark area one pixel thinner on each side
    (a 3×3 maximum, made of shifted copies: PIL's MaxFilter is ten times slower)."""
    big = gray.resize((gray.width * factor, gray.height * factor), Image.NEAREST)
    rows = ImageChops.lighter(ImageChops.lighter(big, ImageChops.offset(big, 1, 0)),
                              ImageChops.offset(big, -1, 0))
    return ImageChops.lighter(ImageChops.lighter(rows, ImageChops.offset(rows, 0, 1)),
                              ImageChops.offset(rows, 0, -1))


def _around(position, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The code's bounding box with a margin of half its size (the quiet zone)."""
    corners = (position.top_left, position.top_right, position.bottom_left,
               position.bottom_right)
    xs, ys = [c.x for c in corners], [c.y for c in corners]
    margin = max(max(xs) - min(xs), max(ys) - min(ys)) // 2 + 10
    return (max(0, min(xs) - margin), max(0, min(ys) - margin),
            min(size[0], max(xs) + margin), min(size[1], max(ys) + margin))


def _text(barcode) -> str:
    text = barcode.text
    # ]A1 / ]A5: a Code39 whose check character was verified and is still in the text
    # (python-barcode and most label printers add one).
    if barcode.format == _F.Code39 and barcode.symbology_identifier in ("]A1", "]A5"):
        text = text[:-1]
    return text.strip()


# --- meaning --------------------------------------------------------------------------

def interpret(text: str) -> "str | RegisterReference | None":
    """SEPARATOR, a RegisterReference, or None for a barcode that is not ours."""
    text = (text or "").strip()
    if text.upper() == SEPARATOR:
        return SEPARATOR
    if text.lower().startswith(("http://", "https://")):
        return _status_url(text)
    return parse_reference(text, needs_year=True)


def _status_url(url: str) -> RegisterReference | None:
    """The receipt's QR: the public status page with `nr` (the label) and `cod`."""
    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith("/stare"):
        return None
    query = parse_qs(parts.query)
    reference = parse_reference((query.get("nr") or [""])[0], needs_year=True)
    if reference is None:
        return None
    code = (query.get("cod") or [""])[0].strip()
    return RegisterReference(reference.prefix, reference.number, reference.year,
                             reference.day, code[:16])


# --- the separator sheet ---------------------------------------------------------------

def separator_sheet_pdf(town_hall: str = "") -> bytes:
    """An A4 separator sheet to print (as many as needed) and put between documents:
    a large Code128 and a QR code, each readable even if the sheet goes in upside down."""
    paper._fonts()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle("Foaie separator")
    width, height = A4
    c.setFont(paper.FONT_BOLD, 22)
    c.drawCentredString(width / 2, height - 35 * mm, SEPARATOR_TITLE)
    c.setFont(paper.FONT, 11)
    if town_hall:
        c.drawCentredString(width / 2, height - 22 * mm, town_hall)
    lines = ("Puneți această foaie între două documente ale aceluiași lot scanat.",
             "Foaia nu devine parte din niciun document; lotul scanat se păstrează întreg.",
             "Retipăriți-o dacă se pătează sau se îndoaie.")
    for i, line in enumerate(lines):
        c.drawCentredString(width / 2, height - 47 * mm - i * 6 * mm, line)
    barcode = Code128(SEPARATOR, barWidth=0.6 * mm, barHeight=30 * mm, quiet=True,
                      lquiet=6 * mm, rquiet=6 * mm, humanReadable=False)
    barcode.drawOn(c, (width - barcode.width) / 2, height - 110 * mm)
    c.setFont(paper.FONT, 12)
    c.drawCentredString(width / 2, height - 117 * mm, SEPARATOR)
    widget = QrCodeWidget(SEPARATOR, barLevel="H")
    x0, y0, x1, y1 = widget.getBounds()
    size = 60 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, (width - size) / 2, 75 * mm)
    c.setFont(paper.FONT_BOLD, 16)
    c.drawCentredString(width / 2, 50 * mm, "SEPARATOR")
    c.setFont(paper.FONT, 9)
    c.drawCentredString(width / 2, 20 * mm, "Dosar · foaie separator pentru scanare în lot")
    c.showPage()
    c.save()
    return buffer.getvalue()
