"""Pages of a stored file as images (and, for PDFs, their own text), whatever the
format the scanner or the citizen produced: PDF (also fax-compressed CCITT G4),
multi-page TIFF, PNG, JPEG. One place, so OCR and barcode reading see the same pixels.
"""
import io
from dataclasses import dataclass
from typing import Container, Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageSequence

PDF, TIFF = "application/pdf", "image/tiff"
IMAGE_TYPES = ("image/png", "image/jpeg", TIFF)

# Decompression bombs: a scanned A3 page at 600 dpi is ~70 MP; refuse beyond that.
Image.MAX_IMAGE_PIXELS = 120_000_000


class UnreadableFile(Exception):
    """The file is not a PDF or image we can open; the message is for the user."""


@dataclass
class Page:
    number: int            # 1-based
    image: Image.Image     # rendered at the asked resolution (images: as stored)
    text: str = ""         # the PDF's own text layer of this page ("" for images)
    dpi: float = 0.0       # resolution of `image`; 0 when the file does not say
    jpeg: bytes | None = None  # the scan's own JPEG when `image` is exactly that file


def count_pages(data: bytes, content_type: str) -> int:
    if content_type == PDF:
        with _pdf(data) as pdf:
            return len(pdf)
    with _image(data) as image:
        return getattr(image, "n_frames", 1)


def iter_pages(data: bytes, content_type: str, dpi: int = 300,
               with_text: bool = True, *, only: Container[int] | None = None,
               native: bool = False) -> Iterator[Page]:
    """Each page as an image at `dpi` (PDF pages), or as stored (image frames).

    `only`: the page numbers wanted (the others are not rendered at all).
    `native`: a PDF page that is nothing but one upright full-page scan is given as
    that scan's own pixels at its own resolution (no resampling, and its JPEG bytes
    when it is a plain JPEG), which is both faster and truer than rendering it."""
    if content_type == PDF:
        with _pdf(data) as pdf:
            for index in range(len(pdf)):
                if only is not None and index + 1 not in only:
                    continue
                page = pdf[index]
                text = ""
                if with_text:
                    textpage = page.get_textpage()
                    text = textpage.get_text_range()
                    textpage.close()
                scan = _single_scan(page) if native else None
                if scan is None:
                    scale = _render_scale(page, dpi)
                    image = page.render(scale=scale, grayscale=True).to_pil()
                    scan = Page(index + 1, image, dpi=round(scale * 72, 2))
                page.close()
                scan.number, scan.text = index + 1, text
                yield scan
        return
    with _image(data) as image:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if only is not None and index + 1 not in only:
                continue
            jpeg = data if content_type == "image/jpeg" and index == 0 else None
            yield Page(index + 1, frame.copy(), dpi=_image_dpi(frame), jpeg=jpeg)


def page_texts(data: bytes, content_type: str) -> list[str]:
    """The text layer of each page of a PDF (no rendering); [] for images."""
    if content_type != PDF:
        return []
    texts = []
    with _pdf(data) as pdf:
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    return texts


def _render_scale(page, dpi: int) -> float:
    """PDF pages may be up to 200 × 200 inches: rendered at 300 dpi that is 3.6 billion
    pixels. A page is rendered at `dpi`, or lower so that it stays within the pixel
    limit (a large plan is still read, at a lower resolution)."""
    width, height = page.get_size()
    scale = dpi / 72
    if width * height * scale * scale > Image.MAX_IMAGE_PIXELS:
        scale = 0.99 * (Image.MAX_IMAGE_PIXELS / max(width * height, 1)) ** 0.5  # pixels round up
    return scale


_SCAN_COLOURS = (pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_DEVICERGB,
                 pdfium_c.FPDF_COLORSPACE_ICCBASED)


def _single_scan(page) -> Page | None:
    """The page's one image, when the page is exactly a scan: one image object, upright,
    covering the page, in grey or RGB. Anything else is left to the renderer."""
    if page.get_rotation() % 360:
        return None
    objects = list(page.get_objects(max_depth=0))
    if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        return None
    scan = objects[0]
    a, b, c, d, _e, _f = scan.get_matrix().get()
    if b or c or a <= 0 or d <= 0:
        return None
    left, bottom, right, top = scan.get_bounds()
    page_box = page.get_bbox()
    if max(abs(x - y) for x, y in zip((left, bottom, right, top), page_box)) > 2:
        return None
    meta = scan.get_metadata()
    if meta.colorspace not in _SCAN_COLOURS or meta.bits_per_pixel not in (1, 8, 24):
        return None
    width, _height = scan.get_px_size()
    dpi = width / ((right - left) / 72)
    if not 70 <= dpi <= 1200:
        return None
    if scan.get_filters() == ["DCTDecode"] and meta.bits_per_pixel in (8, 24):
        jpeg = bytes(scan.get_data(decode_simple=False))
        try:
            # Opened, not decoded: whoever needs the pixels decodes them (a thumbnail
            # only a reduced draft); OCR hands the JPEG bytes on as they are.
            image = Image.open(io.BytesIO(jpeg))
            if image.mode in ("L", "RGB") and image.size == scan.get_px_size():
                return Page(0, image, dpi=round(dpi, 2), jpeg=jpeg)
        except (OSError, ValueError):
            pass
    return Page(0, scan.get_bitmap(render=False).to_pil(), dpi=round(dpi, 2))


def _image_dpi(frame: Image.Image) -> float:
    dpi = frame.info.get("dpi")
    try:
        value = float(dpi[0] if isinstance(dpi, tuple) else dpi)
    except (TypeError, ValueError):
        return 0.0
    return value if 70 <= value <= 1200 else 0.0


class _pdf:
    def __init__(self, data: bytes):
        try:
            self.pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            raise UnreadableFile(f"Fișierul PDF nu poate fi deschis: {err}") from err

    def __enter__(self):
        return self.pdf

    def __exit__(self, *exc):
        self.pdf.close()


class _image:
    def __init__(self, data: bytes):
        try:
            self.image = Image.open(io.BytesIO(data))
            _refuse_bombs(self.image)
            self.image.load()
        except (OSError, Image.DecompressionBombError, ValueError) as err:
            raise UnreadableFile(f"Imaginea nu poate fi deschisă: {err}") from err

    def __enter__(self):
        return self.image

    def __exit__(self, *exc):
        self.image.close()


def _refuse_bombs(image: Image.Image) -> None:
    """Every page's declared size, read from the headers before anything is decoded
    (Pillow only warns between the limit and twice it, and checks the first page)."""
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        width, height = image.size
        if width * height > Image.MAX_IMAGE_PIXELS:
            raise Image.DecompressionBombError(
                f"pagina {index + 1} declară {width} × {height} pixeli, peste limita de "
                f"{Image.MAX_IMAGE_PIXELS:,}")
    image.seek(0)
