"""Scan batches as the scan station produces them: real papers printed to pixels,
scanned at 200 dpi a little skewed, 1-bit, fax-compressed; cut at the separator sheets
and matched to their register entries by the barcodes printed at registration."""
import io
import time

import pytest
from PIL import ImageChops
from pypdf import PdfReader
from sqlalchemy import func, select

from archive import settings
from archive.documents import ArchiveError
from archive.models import ArchiveDocument, ScanBatch, ScanSegment
from archive.scanning import SPLIT_BATCH, match_segment, receive_batch, split_batch_job
from connectors.audit import AuditEvent
from connectors.jobs.models import BackgroundJob
from connectors.jobs.queue import run_pending
from connectors.registry import cancel_entry
from scan_testkit import (cover_sheet, fax_pdf, label, letter, make_registers, multipage_tiff,
                          pages_of, receipt, register, scan, separator, stick)


def split(session) -> list:
    """What the worker does: run the queued split jobs (not the OCR that follows)."""
    outcomes = run_pending(session, kinds=(SPLIT_BATCH,))
    assert [o.status for o in outcomes] == ["done"] * len(outcomes), outcomes
    session.expire_all()
    return outcomes


def image_streams(pdf: bytes) -> list[bytes]:
    """The raw (still compressed) image of each page: equal bytes, same scan."""
    streams = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = page["/Resources"]["/XObject"]
        streams.append(next(iter(xobjects.values())).get_object()._data)
    return streams


def stored(pdf_sha: str) -> bytes:
    with settings.current().storage().open(pdf_sha) as stream:
        return stream.read()


@pytest.mark.slow
def test_a_twenty_page_batch_is_cut_at_separators_and_each_document_lands_on_its_entry(
        session):
    make_registers(session)
    petition = register(session)                          # 1/22.11.2026: its receipt
    urbanism = register(session, "urbanism")              # URB-1/…: its cover sheet
    complaint = register(session)                         # 2/…: a Code39 on the letter
    request = register(session)                           # 3/…: the label stuck on page 2
    session.commit()
    sticker = pages_of(label(request))[0]
    last = pages_of(letter("Reclamație", 4))
    last[1] = stick(last[1], sticker, x_mm=125, y_mm=12)
    images = (pages_of(receipt(petition)) + pages_of(letter("Petiție", 3))
              + pages_of(separator())
              + pages_of(cover_sheet(urbanism)) + pages_of(letter("Memoriu tehnic", 4))
              + pages_of(separator())
              + pages_of(letter("Sesizare", 4, code39=complaint.label))
              + pages_of(separator())
              + last)
    assert len(images) == 20
    batch_pdf = fax_pdf(scan(images, angle=2.0))
    assert b"/CCITTFaxDecode" in batch_pdf

    batch = receive_batch(session, settings.current().storage(), batch_pdf, "lot-1.pdf",
                          "registratura", source="upload")
    session.commit()
    started = time.perf_counter()
    split(session)
    print(f"\n20-page batch split and matched in {time.perf_counter() - started:.1f} s")

    batch = session.get(ScanBatch, batch.id)
    assert (batch.status, batch.pages) == ("split", 20)
    assert stored(batch.sha256) == batch_pdf                       # the batch is kept whole
    segments = batch.segments
    assert [(s.first_page, s.last_page) for s in segments] == [(1, 4), (6, 10), (12, 15),
                                                                (17, 20)]
    assert [s.status for s in segments] == ["matched"] * 4, [s.reason for s in segments]
    assert [s.entry_id for s in segments] == [petition.id, urbanism.id, complaint.id,
                                              request.id]
    assert all(s.matched_by is None for s in segments)             # by barcode, not by hand
    batch_pages = image_streams(batch_pdf)
    for segment, entry, pages in zip(segments, (petition, urbanism, complaint, request),
                                     (4, 5, 4, 4)):
        document = session.get(ArchiveDocument, segment.document_id)
        assert (document.entry_id, document.source, document.title) == (
            entry.id, "scan", f"Scanare {entry.label}")
        version = document.current
        assert (version.pages, version.content_type) == (pages, "application/pdf")
        pdf = stored(version.sha256)
        # The scanner's own page images, not re-encoded; no separator among them.
        assert image_streams(pdf) == batch_pages[segment.first_page - 1:segment.last_page]
    assert session.scalar(select(func.count()).select_from(ArchiveDocument)) == 4
    actions = session.execute(select(AuditEvent.action, AuditEvent.object_ref)).all()
    assert ("archive.batch_received", f"scan_batch:{batch.id}") in actions
    assert sorted(ref for action, ref in actions if action == "archive.segment_matched") == \
        sorted(f"entry:{e.id}" for e in (petition, urbanism, complaint, request))


def test_a_tiff_batch_becomes_pdf_documents_without_losing_a_pixel(session):
    make_registers(session)
    entry = register(session)
    session.commit()
    scanned = scan(pages_of(cover_sheet(entry)) + pages_of(letter("Cerere", 1))
                   + pages_of(separator()) + pages_of(letter("Fără număr", 1)), angle=1.0)
    batch = receive_batch(session, settings.current().storage(), multipage_tiff(scanned),
                          "lot.tif", "registratura")
    session.commit()
    split(session)
    first, second = session.get(ScanBatch, batch.id).segments
    assert (first.status, first.entry_id, first.first_page, first.last_page) == (
        "matched", entry.id, 1, 2)
    assert (second.status, second.reason) == ("unmatched", "niciun cod de bare citit")
    pdf = PdfReader(io.BytesIO(stored(first.sha256)))
    assert len(pdf.pages) == 2
    image = pdf.pages[0]["/Resources"]["/XObject"]["/Im0"].get_object()
    assert image["/Filter"] == ["/CCITTFaxDecode"]                 # fax-compressed still
    pixels = pdf.pages[0].images[0].image.convert("1")
    assert ImageChops.difference(pixels, scanned[0]).getbbox() is None   # pixel for pixel
    assert round(float(pdf.pages[0].mediabox.width) / 72 * 25.4) == 210   # A4 at 200 dpi


def unmatched_reason(session, pages) -> str:
    batch = receive_batch(session, settings.current().storage(), fax_pdf(scan(pages)),
                          "lot.pdf", "registratura")
    session.commit()
    split(session)
    (segment,) = session.get(ScanBatch, batch.id).segments
    assert segment.status == "unmatched" and segment.document_id is None
    return segment.reason


def test_documents_that_cannot_be_matched_wait_with_the_reason(session):
    make_registers(session)
    first, second = register(session), register(session)
    cancelled = register(session)
    session.commit()
    cancel_entry(session, cancelled, "registratura", "Înregistrat de două ori.")
    session.commit()
    assert unmatched_reason(session, pages_of(letter("Scrisoare", 2))) == \
        "niciun cod de bare citit"
    ghost = letter("Scrisoare", 1, code39="99/01.01.2026")
    assert unmatched_reason(session, pages_of(ghost)) == \
        "codul 99/01.01.2026 nu există în registru"
    two = pages_of(cover_sheet(first)) + pages_of(cover_sheet(second))
    assert unmatched_reason(session, two) == \
        f"coduri pentru două înregistrări diferite: {first.label}, {second.label}"
    assert unmatched_reason(session, pages_of(cover_sheet(cancelled))) == \
        f"înregistrarea {cancelled.label} este anulată"
    assert session.scalar(select(func.count()).select_from(ArchiveDocument)) == 0


def test_splitting_again_after_a_crash_creates_nothing_twice(session):
    make_registers(session)
    entry = register(session)
    session.commit()
    data = fax_pdf(scan(pages_of(cover_sheet(entry)) + pages_of(separator())
                        + pages_of(letter("Anexă", 1))))
    batch = receive_batch(session, settings.current().storage(), data, "lot.pdf", "registratura")
    session.commit()
    # A worker dies before committing: nothing of its work remains.
    split_batch_job(session, {"batch_id": batch.id})
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ScanSegment)) == 0
    split(session)
    # The job runs again (its lease ran out while the first worker was slow).
    job = session.execute(select(BackgroundJob).where(BackgroundJob.kind == SPLIT_BATCH)).scalar_one()
    job.status = "queued"
    session.commit()
    split(session)
    split_batch_job(session, {"batch_id": batch.id})
    session.commit()
    assert session.scalar(select(func.count()).select_from(ScanSegment)) == 2
    assert session.scalar(select(func.count()).select_from(ArchiveDocument)) == 1
    # The same file dropped again is recognised, not taken in twice.
    with pytest.raises(ArchiveError, match=f"lotul nr. {batch.id}"):
        receive_batch(session, settings.current().storage(), data, "lot-copie.pdf", "registratura")


def test_a_segment_is_matched_by_hand_once(session):
    make_registers(session)
    entry, other = register(session), register(session)
    session.commit()
    batch = receive_batch(session, settings.current().storage(),
                          fax_pdf(scan(pages_of(letter("Fără cod", 3)))), "lot.pdf",
                          "registratura")
    session.commit()
    split(session)
    (segment,) = session.get(ScanBatch, batch.id).segments
    storage = settings.current().storage()
    document = match_segment(session, storage, segment, entry, "arhivar")
    session.commit()
    session.expire_all()
    assert (segment.status, segment.entry_id, segment.document_id, segment.matched_by) == (
        "matched", entry.id, document.id, "arhivar")
    assert document.current.pages == 3 and document.source == "scan"
    with pytest.raises(ArchiveError, match="deja atașat"):
        match_segment(session, storage, segment, other, "arhivar")
