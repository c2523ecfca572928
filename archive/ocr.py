"""From a stored file to its searchable PDF, its text and its thumbnail.

PDF pages that already carry a text layer keep it and are copied unchanged; every
other page (and every image page) goes through Tesseract once, which gives both the
page's PDF (the picture with an invisible text layer) and its plain text. Pages are
handed to Tesseract in the form that costs least and loses nothing: a scan's own JPEG
as it is, a black-and-white page as CCITT G4, anything else uncompressed (Tesseract
then embeds it as JPEG). No database here: `text_extraction` runs this as a job.
"""
import io
import os
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from .pages import IMAGE_TYPES, PDF, Page, UnreadableFile, iter_pages, page_texts

OCR_DPI = 300               # PDF pages without a text layer are rendered at this resolution
MIN_TEXT_CHARS = 20         # a page with fewer real characters is treated as a scan
THUMBNAIL_WIDTH = 200
PAGE_TIMEOUT_S = 600        # one page that takes longer is a hung Tesseract
PAGE_SEPARATOR = "\f"


class OcrUnavailable(RuntimeError):
    """Tesseract is missing or failed: the job is retried later (not the file's fault)."""


@dataclass
class Extraction:
    pages: int
    text: str                   # NFC, pages separated by form feeds
    source: str                 # "pdf": every page had its own text; "ocr" otherwise
    searchable_pdf: bytes | None  # None when the original is already searchable as it is
    thumbnail_png: bytes


def sniff_type(data: bytes, declared: str) -> str:
    """The file's real type from its first bytes (browsers often say octet-stream)."""
    head = data[:8]
    if data[:1024].lstrip().startswith(b"%PDF"):
        return PDF
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return declared


def has_text(text: str) -> bool:
    """Enough real characters (not spaces, not replacement marks) to trust the layer."""
    real = sum(1 for ch in text if ch.isprintable() and not ch.isspace() and ch != "\ufffd")
    return real >= MIN_TEXT_CHARS


def clean_text(text: str) -> str:
    """NFC, Unix line ends. Comma-below (ș ț) and cedilla (ş ţ) stay as written:
    the search folds them, the archive keeps what the document says."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(PAGE_SEPARATOR, "\n")
    return unicodedata.normalize("NFC", text).strip("\n")


def extract(data: bytes, content_type: str, languages: str) -> Extraction:
    """Searchable PDF, text and thumbnail of one stored file. Raises UnreadableFile for
    a file that cannot be read (no retry helps) and OcrUnavailable for Tesseract."""
    content_type = sniff_type(data, content_type)
    if content_type != PDF and content_type not in IMAGE_TYPES:
        raise UnreadableFile(f"Din fișierele de tip «{content_type or 'necunoscut'}» nu se "
                             "extrage text; se citesc doar PDF, TIFF, PNG și JPEG.")
    texts = page_texts(data, content_type) if content_type == PDF else []
    keep = {number for number, text in enumerate(texts, 1) if has_text(text)}
    with tempfile.TemporaryDirectory(prefix="dosar-ocr-") as tmp:
        work = Path(tmp)
        ocr_pdfs: dict[int, Path] = {}
        ocr_texts: dict[int, str] = {}
        thumbnail = None
        for page in _scanned_pages(data, content_type, keep):
            if page.number == 1:
                thumbnail = _thumbnail(page.image, page.jpeg)
            ocr_pdfs[page.number], ocr_texts[page.number] = ocr_page(page, work, languages)
        count = len(texts) if content_type == PDF else len(ocr_pdfs)
        if count == 0:
            raise UnreadableFile("Fișierul nu are nicio pagină.")
        if thumbnail is None:        # page 1 kept its own text: draw it small instead
            first = next(iter_pages(data, content_type, dpi=40, with_text=False, only={1}))
            thumbnail = _thumbnail(first.image)
        text = PAGE_SEPARATOR.join(
            clean_text(texts[n - 1] if n in keep else ocr_texts[n]) for n in range(1, count + 1))
        searchable = None if not ocr_pdfs else _merge(data, count, keep, ocr_pdfs)
    return Extraction(pages=count, text=text, source="ocr" if ocr_pdfs else "pdf",
                      searchable_pdf=searchable, thumbnail_png=thumbnail)


def _scanned_pages(data: bytes, content_type: str, keep: set[int]):
    """The pages to OCR, one at a time (a 300-page scan never sits whole in memory)."""
    pages = iter_pages(data, content_type, dpi=OCR_DPI, with_text=False, native=True,
                       only=None if not keep else _Without(keep))
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return
        except UnreadableFile:
            raise
        except (OSError, ValueError, EOFError, SyntaxError, pdfium.PdfiumError) as err:
            raise UnreadableFile(f"O pagină a fișierului nu poate fi citită: {err}") from err
        yield page


class _Without:
    """Every page number except those given (`in` is all iter_pages asks)."""
    def __init__(self, excluded: set[int]):
        self.excluded = excluded

    def __contains__(self, number) -> bool:
        return number not in self.excluded


def ocr_page(page: Page, work: Path, languages: str) -> tuple[Path, str]:
    """One Tesseract run for one page: its PDF (picture + invisible text) and its text."""
    source = _tesseract_input(page, work / f"page-{page.number}")
    out_base = work / f"ocr-{page.number}"
    args = [source, out_base, "-l", languages]
    if page.dpi:
        args += ["--dpi", str(round(page.dpi))]
    run_tesseract([str(a) for a in args] + ["pdf", "txt"])
    source.unlink()
    pdf, txt = out_base.with_suffix(".pdf"), out_base.with_suffix(".txt")
    return pdf, txt.read_text(encoding="utf-8")


def run_tesseract(args: list[str]) -> None:
    """The one place Tesseract is started. OMP_THREAD_LIMIT=1: one page uses one core,
    so pages of several workers share the machine fairly and the web stays responsive."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        done = subprocess.run(["tesseract", *args], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=PAGE_TIMEOUT_S)
    except FileNotFoundError as err:
        raise OcrUnavailable("Tesseract nu este instalat (pachetul Debian tesseract-ocr "
                             "cu limba ron).") from err
    except subprocess.TimeoutExpired as err:
        raise OcrUnavailable(f"Tesseract nu a terminat o pagină în {PAGE_TIMEOUT_S} s.") from err
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()[-500:]
        raise OcrUnavailable(f"Tesseract a eșuat (cod {done.returncode}): {detail}")


def _tesseract_input(page: Page, base: Path) -> Path:
    image = page.image
    if page.jpeg is not None and image.mode in ("L", "RGB"):
        path = base.with_suffix(".jpg")          # the scan's own JPEG: embedded as it is
        path.write_bytes(page.jpeg)
        return path
    if image.mode == "1" or (image.mode == "L" and image.getcolors(2) is not None):
        path = base.with_suffix(".tif")          # black and white: CCITT G4, small and exact
        image.convert("1").save(path, compression="group4", dpi=_dpi(page))
        return path
    image = _plain(image)
    path = base.with_suffix(".pgm" if image.mode == "L" else ".ppm")
    image.save(path)                             # uncompressed: nothing to encode twice
    return path


def _plain(image: Image.Image) -> Image.Image:
    """Grey or RGB pixels; transparency laid on white paper."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "PA", "P"):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, "white")
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image.convert("RGB" if image.mode == "CMYK" else "L")


def _dpi(page: Page) -> tuple[float, float]:
    return (page.dpi, page.dpi) if page.dpi else (OCR_DPI, OCR_DPI)


def _thumbnail(image: Image.Image, jpeg: bytes | None = None) -> bytes:
    if jpeg is not None:
        # A JPEG of its own: decoded straight at a fraction of its size (draft mode).
        small = Image.open(io.BytesIO(jpeg))
    else:
        small = image.convert("L") if image.mode in ("1", "I", "I;16", "F") else image.copy()
    small.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 20))
    small = _plain(small)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _merge(data: bytes, count: int, keep: set[int], ocr_pdfs: dict[int, Path]) -> bytes:
    """Tesseract's page PDFs and the original's own text pages, in page order. Streams
    are copied as they are (pypdf does not recompress unless asked)."""
    writer = PdfWriter()
    original = None
    try:
        if keep:
            original = PdfReader(io.BytesIO(data), strict=False)
            if original.is_encrypted:
                original.decrypt("")
        for number in range(1, count + 1):
            if number in keep:
                writer.add_page(original.pages[number - 1])
            else:
                writer.add_page(PdfReader(ocr_pdfs[number]).pages[0])
    except (PyPdfError, KeyError, ValueError, NotImplementedError) as err:
        raise UnreadableFile(f"Paginile cu text ale PDF-ului nu pot fi copiate: {err}") from err
    # A fixed identity, so the same file always gives the same searchable PDF (a re-run
    # after a crash stores nothing new).
    writer.add_metadata({"/Producer": "Dosar (Tesseract OCR)"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
