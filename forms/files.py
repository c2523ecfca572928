"""Checks on uploaded files: real type (from the first bytes) and size.

The content type a browser sends is whatever the sender's computer claims;
a renamed .exe or an HTML page can arrive as "application/pdf".  We only
accept types we can recognise by their magic bytes, and we measure the
size ourselves instead of trusting the Content-Length of the part.
"""

from __future__ import annotations

import io
import os

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # 10 MiB: a scanned multi-page request fits

# type -> byte prefixes that identify it
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),  # little- and big-endian TIFF
}
SUPPORTED_TYPES = tuple(SIGNATURES)

# Short names for messages, and extensions for the `accept` attribute
# (some phone browsers filter the file picker better by extension).
TYPE_NAMES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/tiff": "TIFF"}
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/tiff": (".tif", ".tiff"),
}

_SNIFF_BYTES = 16


class UploadRejected(Exception):
    """An upload we refuse; `reason` is a message key in forms.messages."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def sniff_content_type(head: bytes) -> str | None:
    """The type recognised from the first bytes of a file, or None."""
    for content_type, prefixes in SIGNATURES.items():
        if any(head.startswith(p) for p in prefixes):
            return content_type
    return None


def is_empty_upload(storage) -> bool:
    """A file input left empty is still posted, with an empty filename."""
    return storage is None or not (storage.filename or "").strip()


def check_upload(storage, accept, max_bytes: int) -> str:
    """Check a werkzeug FileStorage; return the sniffed content type.

    Raises UploadRejected("file_empty" | "file_too_large" | "file_type").
    Leaves the stream rewound to the start, ready for the caller to store.
    """
    size = _measure(storage, max_bytes)
    if size == 0:
        raise UploadRejected("file_empty")
    if size > max_bytes:
        raise UploadRejected("file_too_large")
    head = storage.stream.read(_SNIFF_BYTES)
    storage.stream.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None or content_type not in accept:
        raise UploadRejected("file_type")
    if content_type in IMAGE_TYPES:
        _check_pixels(storage)
    return content_type


# Decompression bombs: a small PNG or TIFF can declare 50,000 × 50,000 pixels (10 GB
# once decoded). Only the headers are read here (Pillow decodes nothing on open, and
# walking a TIFF's pages reads their directories only); anything declaring more than
# a scanned A3 page at 600 dpi (~70 MP) on any page, or more pages than any scan, is
# refused before a byte of pixels is decoded.
MAX_IMAGE_PIXELS = 120_000_000
MAX_IMAGE_FRAMES = 2000
IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff")


def _check_pixels(storage) -> None:
    import warnings
    from PIL import Image
    stream = storage.stream
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                for index in range(MAX_IMAGE_FRAMES + 1):
                    if index:
                        try:
                            image.seek(index)
                        except EOFError:
                            break
                    if index == MAX_IMAGE_FRAMES:
                        raise UploadRejected("file_image_too_large")
                    width, height = image.size
                    if width * height > MAX_IMAGE_PIXELS:
                        raise UploadRejected("file_image_too_large")
    except Image.DecompressionBombError:
        raise UploadRejected("file_image_too_large") from None
    except (OSError, ValueError, SyntaxError):
        pass        # not decodable: refused as unreadable later, never a bomb
    finally:
        stream.seek(0)


def _measure(storage, max_bytes: int) -> int:
    stream = storage.stream
    try:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        return size
    except (AttributeError, OSError, io.UnsupportedOperation):
        # A stream we cannot rewind: keep at most max_bytes + 1 in memory,
        # enough to know it is too big, and let the caller read the copy.
        data = stream.read(max_bytes + 1)
        storage.stream = io.BytesIO(data)
        return len(data)
