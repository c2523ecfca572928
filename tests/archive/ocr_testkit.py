"""Romanian documents made for the OCR tests: a letter drawn with DejaVu Sans (so ș ț
ă â î are real glyphs), as a born-digital PDF or rasterised into a scan."""
import io
from datetime import date

import img2pdf
import pypdfium2 as pdfium
from PIL import Image
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from connectors.registry.models import Register
from connectors.registry.numbering import register_document

FONT = "DejaVuSans"
FONT_FILE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SMALL_PAGE = (420, 240)        # points: a half-page slip keeps Tesseract to a second

# «Şedinţa» is written with the old cedilla letters (ş ţ) on purpose: it must stay so.
LETTER = ["Primăria comunei Sânmartin",
          "Vă invităm la ședință pentru învățământ.",
          "Şedinţa începe la ora zece."]
BORN_DIGITAL = ["Dispoziția primarului privind constituirea comisiei",
                "de evaluare a ofertelor pentru reabilitarea școlii gimnaziale."]


def _font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_FILE))


def text_pdf(pages: list[list[str]], size=SMALL_PAGE, font_size=14) -> bytes:
    """A born-digital PDF: every page carries its text layer."""
    _font()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=size, invariant=1)
    for lines in pages:
        c.setFont(FONT, font_size)
        y = size[1] - 50
        for line in lines:
            c.drawString(30, y, line)
            y -= font_size * 1.8
        c.showPage()
    c.save()
    return out.getvalue()


def raster(lines: list[str], dpi=300, size=SMALL_PAGE) -> Image.Image:
    """The page as a scanner would see it: grey pixels, no text layer."""
    pdf = pdfium.PdfDocument(text_pdf([lines], size))
    image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil()
    pdf.close()
    return image


def scan_pdf(images: list[Image.Image], dpi=300) -> bytes:
    """An image-only PDF of JPEG pages, like a scanner's."""
    blobs = []
    for image in images:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90, dpi=(dpi, dpi))
        blobs.append(out.getvalue())
    return img2pdf.convert(blobs)


def fax_pdf(image: Image.Image, dpi=300) -> bytes:
    """A 1-bit CCITT G4 TIFF wrapped in a PDF (img2pdf keeps the G4 stream)."""
    out = io.BytesIO()
    image.point(lambda v: 255 if v > 160 else 0).convert("1").save(
        out, format="TIFF", compression="group4", dpi=(dpi, dpi))
    return img2pdf.convert(out.getvalue())


def mixed_pdf(first_lines: list[str], scanned: Image.Image) -> bytes:
    """Page 1 born-digital, page 2 a scan."""
    from pypdf import PdfReader, PdfWriter
    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(text_pdf([first_lines]))).pages[0])
    writer.add_page(PdfReader(io.BytesIO(scan_pdf([scanned]))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def new_entry(session, summary="Corespondență"):
    if session.query(Register).filter_by(code="RG").first() is None:
        session.add(Register(code="RG", name="Registrul general", kind="in_out"))
        session.flush()
    return register_document(session, "RG", date(2026, 3, 14), "registratura",
                             summary=summary, sender_name="Ștefan Mureșan")
