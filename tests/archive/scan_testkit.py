"""A scan station in a box: real papers (reportlab, python-barcode) printed to pixels
and scanned back the way a town hall's scanner does it — 200 dpi, a little skewed,
1-bit, fax-compressed (CCITT G4) into a PDF or a multi-page TIFF."""
import io
from datetime import date

import img2pdf
import pypdfium2
from barcode import Code39
from barcode.writer import ImageWriter
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from sqlalchemy import select

from archive.barcodes import separator_sheet_pdf
from connectors.registry import paper
from connectors.registry.models import Register
from connectors.registry.numbering import register_document

DPI = 200
TOWN_HALL = "Primăria Comunei Șieu-Odorhei"
PUBLIC_URL = "https://primaria.example.ro"
WORDS = ("Subsemnatul, domiciliat în comuna noastră, vă rog să aprobați cererea de mai jos "
         "privind repararea drumului comunal și iluminatul public pe strada Lungă.").split()


def make_registers(session) -> None:
    for code, prefix in (("general", ""), ("urbanism", "URB-")):
        if session.execute(select(Register).where(Register.code == code)).scalar() is None:
            session.add(Register(code=code, name=code, prefix=prefix,
                                 kind="in_out" if not prefix else "department"))
    session.commit()


def register(session, code="general", on=date(2026, 11, 22), **fields):
    values = dict(sender_name="Ștefania Țurcanu", summary="Cerere de test", pages=2,
                  department="relatii-publice")
    values.update(fields)
    return register_document(session, code, on, "registratura", **values)


# --- papers -------------------------------------------------------------------------

def receipt(entry) -> bytes:
    return paper.receipt_pdf(entry, town_hall=TOWN_HALL, due_on=date(2026, 12, 22),
                             term_label="30 de zile (OG 27/2002)", status_url=status_url(entry))


def status_url(entry) -> str:
    from urllib.parse import urlencode
    return f"{PUBLIC_URL}/stare?" + urlencode({"nr": entry.label, "cod": entry.access_code})


def cover_sheet(entry) -> bytes:
    return paper.cover_sheet_pdf(entry, town_hall=TOWN_HALL)


def label(entry) -> bytes:
    return paper.cover_sheet_pdf(entry, town_hall=TOWN_HALL, layout="label")


def separator() -> bytes:
    return separator_sheet_pdf(TOWN_HALL)


def letter(title: str, pages: int = 1, code39: str | None = None) -> bytes:
    """A citizen's letter of `pages` A4 pages; with `code39`, a Code39 label drawn by
    python-barcode at the foot of the first page (as another office's sticker)."""
    paper._fonts()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    for number in range(1, pages + 1):
        c.setFont(paper.FONT_BOLD, 14)
        c.drawString(25 * mm, 270 * mm, f"{title} — pagina {number}")
        c.setFont(paper.FONT, 11)
        for line in range(30):
            words = WORDS[line % 7:] + WORDS[:line % 7]
            c.drawString(25 * mm, (255 - line * 6.5) * mm, " ".join(words[:12]))
        if number == 1 and code39:
            c.drawImage(ImageReader(io.BytesIO(code39_png(code39))), 25 * mm, 20 * mm,
                        width=80 * mm, height=18 * mm)
        c.showPage()
    c.save()
    return buffer.getvalue()


def code39_png(text: str) -> bytes:
    out = io.BytesIO()
    Code39(text, writer=ImageWriter(), add_checksum=True).write(
        out, options={"module_width": 0.3, "module_height": 15, "dpi": 300,
                      "write_text": False, "quiet_zone": 6})
    return out.getvalue()


# --- the scanner ----------------------------------------------------------------------

def pages_of(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    """Each page as the scanner's sensor sees it: grey, at `dpi`."""
    document = pypdfium2.PdfDocument(pdf)
    images = [page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
              for page in document]
    document.close()
    return images


def stick(page: Image.Image, sticker: Image.Image, x_mm: float, y_mm: float,
          dpi: int = DPI) -> Image.Image:
    """A label stuck on a page, `x_mm`, `y_mm` from its top left corner."""
    page = page.copy()
    page.paste(sticker, (round(x_mm / 25.4 * dpi), round(y_mm / 25.4 * dpi)))
    return page


def scan(images: list[Image.Image], angle: float = 2.0) -> list[Image.Image]:
    """Skewed by `angle` degrees (white where the paper was not), then 1-bit."""
    scanned = []
    for image in images:
        tilted = image.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
        scanned.append(tilted.point(lambda v: 255 if v >= 128 else 0).convert(
            "1", dither=Image.Dither.NONE))
    return scanned


def g4_tiff(image: Image.Image, dpi: int = DPI) -> bytes:
    out = io.BytesIO()
    image.save(out, "TIFF", compression="group4", dpi=(dpi, dpi))
    return out.getvalue()


def fax_pdf(images: list[Image.Image], dpi: int = DPI) -> bytes:
    """The scanned pages as a PDF of CCITT G4 images, as scan stations save them."""
    return img2pdf.convert([g4_tiff(image, dpi) for image in images])


def multipage_tiff(images: list[Image.Image], dpi: int = DPI) -> bytes:
    out = io.BytesIO()
    images[0].save(out, "TIFF", compression="group4", dpi=(dpi, dpi), save_all=True,
                   append_images=images[1:])
    return out.getvalue()
