"""Helpers for the forms tests: sample files, a store_file stand-in that
records what it was asked to keep, and a tiny HTML reader so tests look at
elements rather than at string fragments.  (Named uniquely so that importing
it from a test never picks up another directory's module.)"""

import hashlib
import io
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

from werkzeug.datastructures import FileStorage, MultiDict


SAMPLE = Path(__file__).with_name("answer.json")


def small_pdf() -> bytes:
    """A real (tiny, one blank page) PDF document."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def small_png() -> bytes:
    """A real 1x1 white PNG."""
    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# The start of a Windows executable ("MZ" header) - what a renamed .exe looks like.
EXE_BYTES = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
             + b"This program cannot be run in DOS mode.")
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert('pwned')</script></body></html>"
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32 + b"\xff\xd9"


def upload(content: bytes, filename="document.pdf", content_type="application/pdf") -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=filename, content_type=content_type)


class Store:
    """Stands in for the web app's file store; remembers every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, storage, content_type):
        content = storage.read()
        self.calls.append({"name": storage.filename, "content_type": content_type, "content": content})
        return {"sha256": hashlib.sha256(content).hexdigest(), "name": storage.filename,
                "size": len(content), "content_type": content_type}


def valid_post(**overrides) -> MultiDict:
    """A submission of the sample form that passes validation (files aside)."""
    fields = {"answer": "Vă comunicăm că cererea a fost aprobată.", "outcome": "favorabil",
              "consent": "da"}
    fields.update(overrides)
    return MultiDict([(k, v) for k, v in fields.items() if v is not None])


class Page(HTMLParser):
    """Elements of a rendered fragment: tag, attributes, and the text inside."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements, self._open = [], []
        self.feed(str(html))

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("input", "br", "img", "meta", "link"):
            self._open.append(element)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                if tag == "textarea":  # browsers drop the newline right after <textarea>
                    self._open[i]["text"] = self._open[i]["text"].removeprefix("\n")
                del self._open[i:]
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, tag=None, **attrs):
        return [e for e in self.elements
                if (tag is None or e["tag"] == tag)
                and all(e["attrs"].get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]

    def one(self, tag=None, **attrs):
        found = self.find(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    def by_id(self, id_):
        return self.one(id=id_)

    def label_for(self, id_):
        return self.one("label", for_=id_)["text"]
