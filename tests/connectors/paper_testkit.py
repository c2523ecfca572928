"""Reading the Registratura's papers back as a scanner and a reader would: render a
PDF page to pixels and decode its barcodes, or extract its text."""
import pypdfium2
import zxingcpp


def barcodes(pdf: bytes, page: int = 0, dpi: int = 200) -> list[tuple[str, str]]:
    """(format, text) of every barcode a reader finds on the rendered page."""
    document = pypdfium2.PdfDocument(pdf)
    image = document[page].render(scale=dpi / 72).to_pil()
    return [(found.format.name, found.text) for found in zxingcpp.read_barcodes(image)]


def texts(pdf: bytes) -> list[str]:
    """Each page's text, as a PDF reader copies it."""
    document = pypdfium2.PdfDocument(pdf)
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def page_size_mm(pdf: bytes, page: int = 0) -> tuple[float, float]:
    width, height = pypdfium2.PdfDocument(pdf)[page].get_size()
    return round(width / 72 * 25.4, 1), round(height / 72 * 25.4, 1)
