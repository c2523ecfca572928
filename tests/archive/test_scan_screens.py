"""The scan screens as the Registratura uses them (upload a batch, match by hand what
the barcodes could not), and the watched scan folder the scan station drops into."""
import io
import os
import sys
import time
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp"))

from archive import scan_folder, settings  # noqa: E402
from archive.models import ArchiveDocument, ScanBatch, ScanSegment  # noqa: E402
from archive.scanning import SPLIT_BATCH  # noqa: E402
from connectors.audit import AuditEvent  # noqa: E402
from connectors.jobs.queue import run_pending  # noqa: E402
from connectors.registry import cancel_entry  # noqa: E402
from connectors.registry.models import RegisterEntry  # noqa: E402
from scan_testkit import (cover_sheet, fax_pdf, letter, make_registers, pages_of,  # noqa: E402
                          register, scan)
from webapp.archive.views_scans import poll_scan_folder  # noqa: E402
from webapp.database import db  # noqa: E402
from webapp_testkit import login, post, register_petition  # noqa: E402


def run_splits(app) -> None:
    with app.app_context():
        outcomes = run_pending(db.session, kinds=(SPLIT_BATCH,))
        assert all(o.status == "done" for o in outcomes), outcomes
        db.session.remove()


@pytest.fixture
def desk(demo_app):
    """The Registratura logged in, with two registered petitions (the second cancelled)."""
    client = login(demo_app.test_client(), "registratura")
    for sender in ("Ion Pop", "Ana Dinu"):
        assert register_petition(client, sender_name=sender).status_code == 302
    with demo_app.app_context():
        entry, cancelled = db.session.execute(
            select(RegisterEntry).order_by(RegisterEntry.id)).scalars().all()
        cancel_entry(db.session, cancelled, "registratura", "Înregistrat de două ori.")
        db.session.commit()
        labels = entry.id, entry.label, cancelled.label
        db.session.remove()
    return client, *labels


def test_a_document_without_a_readable_barcode_is_matched_by_hand(demo_app, desk):
    client, entry_id, label, cancelled_label = desk
    assert "Loturi scanate" in client.get("/arhiva/scanari").text
    batch = fax_pdf(scan(pages_of(letter("Scrisoare fără cod", 2))))
    response = post(client, "/arhiva/scanari", {"batch": (io.BytesIO(batch), "lot-ghiseu.pdf")},
                    page_url="/arhiva/scanari")
    assert response.status_code == 302
    assert "a fost primit" in client.get("/arhiva/scanari").text
    run_splits(demo_app)

    page = client.get("/arhiva/scanari/de-potrivit").text
    assert "niciun cod de bare citit" in page
    with demo_app.app_context():
        segment_id = db.session.execute(select(ScanSegment.id)).scalar_one()
    thumbnail = client.get(f"/arhiva/scanari/segmente/{segment_id}/miniatura.png")
    assert thumbnail.mimetype == "image/png"
    assert Image.open(io.BytesIO(thumbnail.data)).width <= 160
    scanned = client.get(f"/arhiva/scanari/segmente/{segment_id}.pdf")
    assert len(pypdfium2.PdfDocument(scanned.data)) == 2

    match = f"/arhiva/scanari/segmente/{segment_id}/potrivire"
    wrong = post(client, match, {"number": "999/2026"}, page_url="/arhiva/scanari/de-potrivit")
    assert wrong.status_code == 422
    assert "Înregistrarea 999/2026 nu există în registru." in wrong.text
    assert 'value="999/2026"' in wrong.text                    # what was typed comes back
    void = post(client, match, {"number": cancelled_label}, page_url="/arhiva/scanari/de-potrivit")
    assert void.status_code == 422 and "este anulată" in void.text
    with demo_app.app_context():
        assert db.session.get(ScanSegment, segment_id).status == "unmatched"

    year = label.split(".")[-1]
    right = post(client, match, {"number": f"{label.split('/')[0]}/{year}"},
                 page_url="/arhiva/scanari/de-potrivit")
    assert right.status_code == 302
    assert f"a fost atașat la înregistrarea {label}" in client.get(right.location).text
    assert "Niciun document scanat nu așteaptă" in client.get("/arhiva/scanari/de-potrivit").text
    entry_page = client.get(f"/registratura/{entry_id}").text
    assert f"Scanare {label}" in entry_page
    with demo_app.app_context():
        segment = db.session.get(ScanSegment, segment_id)
        assert (segment.status, segment.entry_id, segment.matched_by) == (
            "matched", entry_id, "registratura")
        assert db.session.get(ArchiveDocument, segment.document_id).current.pages == 2
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "archive.segment_matched")).scalar_one()
        assert (event.actor, event.object_ref) == ("registratura", f"entry:{entry_id}")
    batches = client.get("/arhiva/scanari").text
    assert f'href="/registratura/{entry_id}"' in batches and "potrivit manual" in batches


def test_upload_checks_the_file_and_the_separator_sheet_prints(demo_app, desk):
    client = desk[0]
    refused = post(client, "/arhiva/scanari", {"batch": (io.BytesIO(b"nu e scanare"), "a.pdf")},
                   page_url="/arhiva/scanari")
    assert refused.status_code == 422
    assert "«Lot scanat»: tipul fișierului nu este permis (se acceptă: PDF, TIFF)" in refused.text
    empty = post(client, "/arhiva/scanari", {}, page_url="/arhiva/scanari")
    assert empty.status_code == 422 and "alegeți fișierul" in empty.text
    sheet = client.get("/arhiva/scanari/separator.pdf")
    image = pypdfium2.PdfDocument(sheet.data)[0].render(scale=150 / 72).to_pil()
    assert {c.text for c in zxingcpp.read_barcodes(image)} == {"DOSAR-SEPARATOR"}
    clerk = login(demo_app.test_client(), "functionar.relatii")
    assert clerk.get("/arhiva/scanari").status_code == 403
    assert clerk.get("/arhiva/scanari/de-potrivit").status_code == 403


# --- the watched folder ------------------------------------------------------------------

def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_the_scan_folder_takes_complete_batches_and_rejects_unreadable_ones(session, tmp_path):
    make_registers(session)
    entry = register(session)
    session.commit()
    inbox = tmp_path / "scanari"
    inbox.mkdir()
    (inbox / "lot-dimineata.pdf").write_bytes(fax_pdf(scan(pages_of(cover_sheet(entry)))))
    (inbox / "stricat.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    (inbox / "note.txt").write_text("nu e lot")
    past = time.time() - 60
    for name in ("lot-dimineata.pdf", "stricat.pdf"):
        os.utime(inbox / name, (past, past))
    (inbox / "se-scrie.tif").write_bytes(b"II*\x00" + b"\x00" * 100)   # the scanner is at it
    storage = settings.current().storage()

    result = scan_folder.poll_once(session, storage, inbox)
    assert [name for name, _ in result.received] == ["lot-dimineata.pdf"]
    assert [name for name, _ in result.rejected] == ["stricat.pdf"]
    assert result.waiting == ["se-scrie.tif"]
    assert files_under(inbox) == {"preluate/lot-dimineata.pdf", "respinse/stricat.pdf",
                                  "respinse/stricat.pdf.txt", "note.txt", "se-scrie.tif"}
    reason = (inbox / "respinse" / "stricat.pdf.txt").read_text(encoding="utf-8")
    assert "stricat.pdf" in reason and "nu poate fi" in reason
    batch = session.execute(select(ScanBatch)).scalar_one()
    assert (batch.source, batch.filename, batch.received_by) == ("folder", "lot-dimineata.pdf",
                                                                "scanare")
    run_pending(session, kinds=(SPLIT_BATCH,))
    session.expire_all()
    assert batch.segments[0].entry_id == entry.id

    # The file the scanner was writing: same size at the next look, so it is complete
    # (and, being no real TIFF, rejected with the reason, not lost).
    result = scan_folder.poll_once(session, storage, inbox)
    assert [name for name, _ in result.rejected] == ["se-scrie.tif"]
    # The same batch dropped again is not taken in twice.
    (inbox / "lot-dimineata-copie.pdf").write_bytes(
        (inbox / "preluate" / "lot-dimineata.pdf").read_bytes())
    os.utime(inbox / "lot-dimineata-copie.pdf", (past, past))
    scan_folder.poll_once(session, storage, inbox)
    assert session.scalar(select(func.count()).select_from(ScanBatch)) == 1
    assert files_under(inbox) == {
        "preluate/lot-dimineata.pdf", "preluate/lot-dimineata-copie.pdf",
        "respinse/stricat.pdf", "respinse/stricat.pdf.txt", "respinse/se-scrie.tif",
        "respinse/se-scrie.tif.txt", "note.txt"}


def test_dosar_archive_watch_takes_the_folder_in_and_splits_the_batches(app, tmp_path):
    with app.app_context():
        make_registers(db.session)
        entry = register(db.session)
        db.session.commit()
        label = entry.label
        db.session.remove()
    inbox = Path(app.config["SCAN_INBOX_DIR"])
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "lot.pdf").write_bytes(fax_pdf(scan(pages_of(cover_sheet(entry)))))
    past = time.time() - 60
    os.utime(inbox / "lot.pdf", (past, past))
    result = app.test_cli_runner().invoke(args=["archive", "watch", "--once"])
    assert result.exit_code == 0, result.output
    assert "preluat: lot.pdf → lotul nr. 1" in result.output
    assert (inbox / "preluate" / "lot.pdf").exists()
    with app.app_context():
        document = db.session.execute(select(ArchiveDocument)).scalar_one()
        assert document.title == f"Scanare {label}"
        db.session.remove()
    # What the scheduler of `dosar serve` calls: one look, the splitting left to the jobs.
    (inbox / "lot-2.pdf").write_bytes(fax_pdf(scan(pages_of(letter("Anexă", 1)))))
    os.utime(inbox / "lot-2.pdf", (past, past))
    assert [name for name, _ in poll_scan_folder(app).received] == ["lot-2.pdf"]
    assert (inbox / "preluate" / "lot-2.pdf").exists()
