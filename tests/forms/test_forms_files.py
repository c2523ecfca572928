"""File fields: real type from the bytes, size limits, storing, keeping earlier files."""

import io

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from forms import sniff_content_type
from forms_testkit import EXE_BYTES, HTML_BYTES, JPEG_BYTES, small_pdf, small_png, upload, valid_post

STORED = {"sha256": "cd" * 32, "name": "vechi.pdf", "size": 700, "content_type": "application/pdf"}


def test_a_real_pdf_is_accepted_and_stored(form, store):
    pdf = small_pdf()
    assert len(pdf) < 1024  # fits the sample's 1 KB limit
    data, errors = form.parse(valid_post(), MultiDict([("annex", upload(pdf, "răspuns.pdf"))]), store_file=store)
    assert errors == {}
    assert store.calls == [{"name": "răspuns.pdf", "content_type": "application/pdf", "content": pdf}]
    assert data["annex"]["name"] == "răspuns.pdf"
    assert data["annex"]["size"] == len(pdf)
    assert data["annex"]["content_type"] == "application/pdf"


def test_the_sniffed_type_is_used_not_the_declared_one(form, store):
    png = small_png()
    files = MultiDict([("annex", upload(png, "scan", "application/octet-stream"))])
    data, errors = form.parse(valid_post(), files, store_file=store)
    assert errors == {}
    assert store.calls[0]["content_type"] == "image/png"
    assert data["annex"]["content_type"] == "image/png"


@pytest.mark.parametrize("content", [EXE_BYTES, HTML_BYTES], ids=["exe", "html"])
def test_a_disguised_file_claiming_pdf_is_refused(form, store, content):
    files = MultiDict([("annex", upload(content, "decizie.pdf", "application/pdf"))])
    data, errors = form.parse(valid_post(), files, store_file=store)
    assert errors == {"annex": "«Anexă»: tipul fișierului nu este permis (se acceptă: PDF, PNG)."}
    assert store.calls == []
    assert "annex" not in data


def test_a_recognised_type_outside_accept_is_refused(form, store):
    files = MultiDict([("annex", upload(JPEG_BYTES, "poza.jpg", "image/jpeg"))])
    _, errors = form.parse(valid_post(), files, store_file=store, lang="en")
    assert errors == {"annex": '"Annex": this type of file is not allowed (accepted: PDF, PNG).'}
    assert store.calls == []


def test_an_oversize_file_is_refused(form, store):
    too_big = small_pdf() + b"%" * 1024
    files = MultiDict([("annex", upload(too_big))])
    _, errors = form.parse(valid_post(), files, store_file=store)
    assert errors == {"annex": "«Anexă»: fișierul depășește dimensiunea maximă de 1 KB."}
    assert store.calls == []


def test_default_limit_is_ten_megabytes(form, store):
    jpeg = JPEG_BYTES + b"\x00" * (10 * 1024 * 1024 + 1 - len(JPEG_BYTES))
    files = MultiDict([("photo", upload(jpeg, "fatada.jpg", "image/jpeg"))])
    _, errors = form.parse(valid_post(), files, store_file=store, existing={"annex": STORED})
    assert errors == {"photo": "«Fotografie»: fișierul depășește dimensiunea maximă de 10 MB."}
    files = MultiDict([("photo", upload(JPEG_BYTES, "fatada.jpg", "image/jpeg"))])
    data, errors = form.parse(valid_post(), files, store_file=store, existing={"annex": STORED})
    assert errors == {} and data["photo"]["content_type"] == "image/jpeg"


def test_an_empty_file_input_means_no_file(form, store):
    files = MultiDict([("annex", FileStorage(io.BytesIO(b""), filename="", content_type="application/octet-stream")),
                       ("photo", FileStorage(io.BytesIO(b""), filename=""))])
    data, errors = form.parse(valid_post(), files, store_file=store)
    assert errors == {"annex": "«Anexă» este obligatoriu."}  # required; photo is optional
    assert "photo" not in data
    assert store.calls == []


def test_a_named_but_empty_file_is_refused(form, store):
    _, errors = form.parse(valid_post(), MultiDict([("annex", upload(b"", "gol.pdf"))]), store_file=store)
    assert errors == {"annex": "«Anexă»: fișierul încărcat este gol."}


def test_upload_without_store_file_is_an_error(form):
    _, errors = form.parse(valid_post(), MultiDict([("annex", upload(small_pdf()))]))
    assert errors == {"annex": "«Anexă»: încărcarea fișierelor nu este disponibilă aici."}


def test_two_files_in_one_field_are_refused(form, store):
    files = MultiDict([("annex", upload(small_pdf(), "a.pdf")), ("annex", upload(small_pdf(), "b.pdf"))])
    _, errors = form.parse(valid_post(), files, store_file=store)
    assert errors == {"annex": "«Anexă»: încărcați un singur fișier."}
    assert store.calls == []


def test_a_previously_stored_file_is_kept_when_nothing_new_is_uploaded(form, store):
    data, errors = form.parse(valid_post(), MultiDict(), store_file=store, existing={"annex": STORED})
    assert errors == {}
    assert data["annex"] == STORED


def test_a_new_upload_replaces_the_stored_file(form, store):
    files = MultiDict([("annex", upload(small_png(), "nou.png", "image/png"))])
    data, _ = form.parse(valid_post(), files, store_file=store, existing={"annex": STORED})
    assert data["annex"]["name"] == "nou.png"


def test_a_refused_upload_keeps_the_stored_file_and_reports(form, store):
    files = MultiDict([("annex", upload(HTML_BYTES, "nou.pdf"))])
    data, errors = form.parse(valid_post(), files, store_file=store, existing={"annex": STORED})
    assert data["annex"] == STORED
    assert "annex" in errors


def test_accepted_files_are_stored_even_if_other_fields_fail(form, store):
    # Browsers cannot re-fill a file input: keep the upload so the user need not repeat it.
    data, errors = form.parse(valid_post(answer="scurt"), MultiDict([("annex", upload(small_pdf()))]),
                              store_file=store)
    assert set(errors) == {"answer"}
    assert data["annex"]["size"] == len(small_pdf())
    assert len(store.calls) == 1


def test_an_optional_stored_file_can_be_removed(form, store):
    existing = {"annex": STORED, "photo": {"name": "fatada.jpg", "size": 1}}
    data, errors = form.parse(valid_post(photo__remove="da", annex__remove="da"), MultiDict(),
                              store_file=store, existing=existing)
    assert errors == {}
    assert "photo" not in data
    assert data["annex"] == STORED  # required: cannot be removed, only replaced


def test_streams_that_cannot_seek_are_still_checked(form, store):
    class OneWay(io.RawIOBase):
        def __init__(self, content):
            self._inner = io.BytesIO(content)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self._inner.readinto(buffer)

    pdf = small_pdf()
    files = MultiDict([("annex", FileStorage(OneWay(pdf), filename="a.pdf"))])
    data, errors = form.parse(valid_post(), files, store_file=store)
    assert errors == {}
    assert store.calls[0]["content"] == pdf
    files = MultiDict([("annex", FileStorage(OneWay(pdf + b" " * 2048), filename="a.pdf"))])
    assert "annex" in form.parse(valid_post(), files, store_file=store)[1]


@pytest.mark.parametrize("head, expected", [
    (b"%PDF-1.7\n", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    (b"\xff\xd8\xff\xdb", "image/jpeg"),
    (b"II*\x00\x08\x00", "image/tiff"),
    (b"MM\x00*\x00\x00", "image/tiff"),
    (b"MZ\x90\x00", None),
    (b"<html>", None),
    (b"", None),
])
def test_sniffing_recognises_types_by_their_first_bytes(head, expected):
    assert sniff_content_type(head) == expected
