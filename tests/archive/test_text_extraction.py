"""Text extraction as a background job: real Tesseract (ron+eng) on generated Romanian
letters, real PDFs read back with pdfium, the real job queue on SQLite.

The documents are small slips (a second of Tesseract each); the OCR ones are `slow`."""
import hashlib
import io
import json

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import select

import archive.ocr
from archive import settings
from archive.documents import EXTRACT_TEXT, INDEX_ENTRY, add_document
from archive.models import ArchiveVersion
from archive.text_extraction import extract_text_job
from connectors.audit import AuditEvent
from connectors.jobs.models import BackgroundJob
from connectors.jobs.queue import run_pending
from ocr_testkit import (BORN_DIGITAL, LETTER, fax_pdf, mixed_pdf, new_entry, raster,
                         scan_pdf, text_pdf)

WORDS = ("Primăria", "ședință", "învățământ")
CEDILLA = "Şedinţa"          # old cedilla letters: kept as written, never "corrected"


@pytest.fixture
def database_url(tmp_path):
    """OCR does not depend on the database: these tests run on SQLite only (the queue's
    own tests run on both databases)."""
    return f"sqlite:///{tmp_path / 'dosar.db'}"


@pytest.fixture
def tesseract_runs(monkeypatch):
    """Counts the pages Tesseract really processes (the real program still runs)."""
    calls = []
    real = archive.ocr.run_tesseract

    def counting(args):
        calls.append(args)
        return real(args)
    monkeypatch.setattr(archive.ocr, "run_tesseract", counting)
    return calls


def keep(session, data: bytes, content_type="application/pdf", filename="scan.pdf"):
    entry = new_entry(session)
    document = add_document(session, settings.current().storage(), entry, io.BytesIO(data),
                            filename=filename, content_type=content_type, actor="registratura")
    session.commit()
    return document.current.id


def extract_all(session):
    return run_pending(session, kinds=(EXTRACT_TEXT,))


def stored(sha256: str) -> bytes:
    with settings.current().storage().open(sha256) as stream:
        return stream.read()


def pdf_texts(data: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(data)
    texts = [page.get_textpage().get_text_range() for page in pdf]
    pdf.close()
    return texts


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.slow
def test_a_scanned_letter_becomes_searchable_with_its_diacritics(session, tesseract_runs):
    original = scan_pdf([raster(LETTER)])
    version_id = keep(session, original)

    [outcome] = extract_all(session)
    assert outcome.status == "done"
    version = session.get(ArchiveVersion, version_id)
    assert (version.text_status, version.text_source, version.pages) == ("done", "ocr", 1)
    assert len(tesseract_runs) == 1                       # one run gives PDF and text
    text = stored(version.text_sha256).decode("utf-8")
    for word in WORDS + (CEDILLA,):
        assert word in text
    assert "Ședința" not in text and "Ş" in text          # the cedilla was not "fixed"
    # The searchable PDF opens and its hidden text layer can be selected and searched.
    [layer] = pdf_texts(stored(version.searchable_sha256))
    for word in WORDS + (CEDILLA,):
        assert word in words(layer)
    # The original is kept exactly as received.
    assert stored(version.sha256) == original
    assert hashlib.sha256(original).hexdigest() == version.sha256
    thumbnail = Image.open(io.BytesIO(stored(version.thumbnail_sha256)))
    assert thumbnail.format == "PNG" and 150 <= thumbnail.width <= 200
    event = session.execute(select(AuditEvent).where(
        AuditEvent.action == "archive.text_extracted")).scalar_one()
    assert event.object_ref == f"entry:{version.document.entry_id}"
    assert json.loads(event.after_json)["source"] == "ocr"
    reindex = session.execute(select(BackgroundJob).where(
        BackgroundJob.kind == INDEX_ENTRY)).scalar_one()
    assert json.loads(reindex.payload_json) == {"entry_id": version.document.entry_id}


def test_a_pdf_with_its_own_text_is_not_ocred(session, tesseract_runs):
    original = text_pdf([BORN_DIGITAL])
    version_id = keep(session, original, filename="dispozitie.pdf")

    extract_all(session)
    version = session.get(ArchiveVersion, version_id)
    assert (version.text_status, version.text_source, version.pages) == ("done", "pdf", 1)
    assert tesseract_runs == []
    assert stored(version.text_sha256).decode("utf-8") == "\n".join(BORN_DIGITAL)
    assert version.searchable_sha256 == version.sha256    # already searchable as it is
    assert Image.open(io.BytesIO(stored(version.thumbnail_sha256))).width <= 200


@pytest.mark.slow
def test_a_mixed_pdf_keeps_page_one_and_ocrs_page_two(session, tesseract_runs):
    original = mixed_pdf(BORN_DIGITAL, raster(LETTER))
    version_id = keep(session, original)

    extract_all(session)
    version = session.get(ArchiveVersion, version_id)
    assert (version.text_status, version.text_source, version.pages) == ("done", "ocr", 2)
    assert len(tesseract_runs) == 1                       # page 2 only
    first, second = stored(version.text_sha256).decode("utf-8").split("\f")
    assert first == "\n".join(BORN_DIGITAL)
    assert all(word in second for word in WORDS + (CEDILLA,))
    layers = pdf_texts(stored(version.searchable_sha256))
    assert layers[0] == pdf_texts(original)[0]            # page 1 copied unchanged
    assert all(word in words(layers[1]) for word in WORDS)

    # A worker that died before its commit runs the job again: same files, nothing new.
    files_before = sorted(settings.current().storage().root.rglob("*"))
    derived = (version.searchable_sha256, version.text_sha256, version.thumbnail_sha256)
    version.text_status = "pending"
    session.commit()
    extract_text_job(session, {"version_id": version_id})
    session.commit()
    version = session.get(ArchiveVersion, version_id)
    assert (version.searchable_sha256, version.text_sha256, version.thumbnail_sha256) == derived
    assert sorted(settings.current().storage().root.rglob("*")) == files_before


@pytest.mark.slow
def test_a_fax_compressed_scan_is_ocred(session):
    original = fax_pdf(raster(LETTER))
    pdf = pdfium.PdfDocument(original)
    [image] = list(pdf[0].get_objects())
    assert image.get_filters() == ["CCITTFaxDecode"]      # really a G4 fax page
    pdf.close()
    version_id = keep(session, original, filename="fax.pdf")

    extract_all(session)
    version = session.get(ArchiveVersion, version_id)
    assert (version.text_status, version.text_source) == ("done", "ocr")
    text = stored(version.text_sha256).decode("utf-8")
    assert all(word in text for word in WORDS)
    searchable = stored(version.searchable_sha256)
    assert b"/CCITTFaxDecode" in searchable               # still a small black-and-white page
    assert len(searchable) < 4 * len(original) + 20_000


def test_an_unreadable_file_fails_once_with_a_romanian_message(session, tesseract_runs):
    version_id = keep(session, b"%PDF-1.4\n" + bytes(range(256)) * 8, filename="rupt.pdf")

    [outcome] = extract_all(session)
    assert outcome.status == "done"                       # not retried: it would not open
    version = session.get(ArchiveVersion, version_id)
    assert version.text_status == "failed"
    assert "nu poate fi deschis" in version.text_error
    assert version.text_sha256 is None and tesseract_runs == []
    job = session.get(BackgroundJob, outcome.job_id)
    assert (job.status, job.attempts) == ("done", 1)
    assert session.execute(select(AuditEvent.action).where(
        AuditEvent.action == "archive.text_failed")).scalar_one()


def test_a_file_of_another_kind_says_which_files_are_read(session):
    version_id = keep(session, b"PK\x03\x04 un document Word",
                      content_type="application/vnd.openxmlformats-officedocument."
                                   "wordprocessingml.document", filename="cerere.docx")
    extract_all(session)
    version = session.get(ArchiveVersion, version_id)
    assert version.text_status == "failed"
    assert "doar PDF, TIFF, PNG și JPEG" in version.text_error


def test_without_tesseract_the_job_waits_and_retries(session, monkeypatch, tmp_path):
    version_id = keep(session, scan_pdf([raster(["Proces-verbal de recepție"])]))
    monkeypatch.setenv("PATH", str(tmp_path))            # no tesseract to be found

    [outcome] = extract_all(session)
    assert outcome.status == "queued"
    assert "Tesseract nu este instalat" in outcome.error
    version = session.get(ArchiveVersion, version_id)
    assert version.text_status == "pending"
    job = session.get(BackgroundJob, outcome.job_id)
    assert job.attempts == 1 and job.run_after > job.created_at   # later, with backoff


@pytest.mark.slow
def test_a_scanned_png_with_a_white_background_is_read(session):
    image = raster(LETTER, dpi=200)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(200, 200))
    version_id = keep(session, out.getvalue(), content_type="application/octet-stream",
                      filename="poza.png")
    extract_all(session)
    version = session.get(ArchiveVersion, version_id)
    assert (version.text_status, version.pages) == ("done", 1)
    assert "Primăria" in stored(version.text_sha256).decode("utf-8")
    pdf = pdfium.PdfDocument(stored(version.searchable_sha256))
    width_in = pdf[0].get_width() / 72                    # the page keeps its paper size
    assert abs(width_in - image.width / 200) < 0.05
