"""Pages of a stored file as images (and, for PDFs, their own text), whatever the
format the scanner or the citizen produced: PDF (also fax-compressed CCITT G4),
multi-page TIFF, PNG, JPEG. One place, so OCR and barcode reading see the same pixels.
"""
import io
from dataclasses import dataclass
from typing import Iterator

import pypdfium2 as pdfium
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


def count_pages(data: bytes, content_type: str) -> int:
    if content_type == PDF:
        with _pdf(data) as pdf:
            return len(pdf)
    with _image(data) as image:
        return getattr(image, "n_frames", 1)


def iter_pages(data: bytes, content_type: str, dpi: int = 300,
               with_text: bool = True) -> Iterator[Page]:
    """Each page as an image at `dpi` (PDF pages), or as stored (image frames)."""
    if content_type == PDF:
        with _pdf(data) as pdf:
            for index in range(len(pdf)):
                page = pdf[index]
                text = ""
                if with_text:
                    textpage = page.get_textpage()
                    text = textpage.get_text_range()
                    textpage.close()
                image = page.render(scale=dpi / 72, grayscale=True).to_pil()
                page.close()
                yield Page(index + 1, image, text)
        return
    with _image(data) as image:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            yield Page(index + 1, frame.copy())


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
            self.image.load()
        except (OSError, Image.DecompressionBombError, ValueError) as err:
            raise UnreadableFile(f"Imaginea nu poate fi deschisă: {err}") from err

    def __enter__(self):
        return self.image

    def __exit__(self, *exc):
        self.image.close()
