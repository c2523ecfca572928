"""`dosar archive verify`: every file the archive refers to is re-hashed; a file
changed on disk or gone is named with the entry, document, version and role it
belongs to, and the command fails so that a cron job or a monitor notices."""
import io
import json
from datetime import date

from reportlab.pdfgen import canvas
from sqlalchemy import select

from archive.documents import add_document, add_version
from archive.form_files import keep_form_files
from archive.models import ArchiveDocument, ScanBatch
from archive.storage import LocalStorage
from archive.verify import verify_archive
from connectors.audit import AuditEvent
from connectors.jobs.models import BackgroundJob
from connectors.registry import register_document
from connectors.registry.models import Register


def pdf_bytes(text: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def new_entry(session, sender="Ion Popescu"):
    if session.execute(select(Register).where(Register.code == "general")).first() is None:
        session.add(Register(code="general", name="Registrul general"))
        session.flush()
    return register_document(session, "general", date(2026, 3, 2), "registratura",
                             sender_name=sender, department="urbanism")


def keep(session, storage, entry, data: bytes, title: str, filename="cerere.pdf"):
    return add_document(session, storage, entry, io.BytesIO(data), filename=filename,
                        content_type="application/pdf", actor="registratura", title=title)


def test_a_changed_and_a_missing_file_are_named_with_their_entry_and_document(app, session):
    storage = LocalStorage(app.config["STORAGE_DIR"])
    entry = new_entry(session)
    request = keep(session, storage, entry, pdf_bytes("Cerere de certificat"), "Cererea")
    annex = keep(session, storage, entry, pdf_bytes("Plan de situatie"), "Anexa 1",
                 filename="plan.pdf")
    replaced = add_version(session, storage, request, io.BytesIO(pdf_bytes("Cerere corectata")),
                           filename="cerere-v2.pdf", content_type="application/pdf",
                           actor="registratura", note="semnată")
    # A derived file (the searchable PDF) is checked like an original.
    searchable, _ = storage.put(io.BytesIO(pdf_bytes("Cerere corectata + text")))
    replaced.searchable_sha256 = searchable
    session.commit()
    label = entry.label

    clean = verify_archive(session, storage)
    assert clean.ok and clean.checked == 4
    assert clean.missing_count == clean.changed_count == 0

    first = request.versions[0]
    path = storage.path_for(first.sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01                       # one bit flipped on the NAS
    path.write_bytes(bytes(data))
    storage.path_for(annex.current.sha256).unlink()    # a file gone
    storage.path_for(searchable).unlink()
    report = verify_archive(session, storage, actor="arhivar")
    session.commit()

    assert not report.ok and report.checked == 4
    assert [p.sha256 for p in report.changed] == [first.sha256]
    (changed,) = report.changed[0].references
    assert (changed.entry_label, changed.document_title, changed.version, changed.role) == (
        label, "Cererea", 1, "original")
    described = {p.sha256: [r.describe() for r in p.references] for p in report.missing}
    assert described == {
        annex.current.sha256: [f"nr. {label}, «Anexa 1», versiunea 1, original"],
        searchable: [f"nr. {label}, «Cererea», versiunea 2, PDF căutabil"]}
    # The run is in the audit trail, with who ran it and what it found.
    event = session.execute(select(AuditEvent).where(
        AuditEvent.action == "archive.verified").order_by(AuditEvent.id.desc())).scalars().first()
    assert event.actor == "arhivar"
    assert json.loads(event.after_json)["missing"] == 2
    assert json.loads(event.after_json)["changed_sha256"] == [first.sha256]


def test_the_command_fails_on_a_damaged_archive_and_lists_what_is_hurt(app, session):
    storage = LocalStorage(app.config["STORAGE_DIR"])
    entry = new_entry(session, sender="Maria Ionescu")
    document = keep(session, storage, entry, pdf_bytes("Sesizare"), "Sesizarea")
    # A scan batch refers to its own file too.
    batch_sha, _ = storage.put(io.BytesIO(pdf_bytes("Lot scanat")))
    session.add(ScanBatch(sha256=batch_sha, filename="lot-0001.pdf"))
    # A file nobody refers to (a form's file on a case without entry) is only reported.
    stray, _ = storage.put(io.BytesIO(b"%PDF-1.4 stray"))
    session.commit()
    label = entry.label
    runner = app.test_cli_runner()

    result = runner.invoke(args=["archive", "verify"])
    assert result.exit_code == 0, result.output
    assert "2 fișiere verificate: 0 lipsă, 0 modificate; 1 fișiere" in result.output

    storage.path_for(document.current.sha256).write_bytes(b"%PDF-1.4 altered")
    storage.path_for(batch_sha).unlink()
    result = runner.invoke(args=["archive", "verify"])
    assert result.exit_code == 1
    assert f"nr. {label}, «Sesizarea», versiunea 1, original" in result.output
    assert "lotul scanat" in result.output and "lot-0001.pdf" in result.output
    assert stray in result.output                                   # informational

    result = runner.invoke(args=["archive", "verify", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False and report["checked"] == 2
    assert report["changed"][0]["references"][0]["entry_label"] == label
    assert report["missing"][0]["references"][0]["role"] == "batch"
    assert report["unreferenced_sample"] == [stray]


def test_storage_lists_its_files_in_order_without_writes_in_progress(tmp_path):
    storage = LocalStorage(tmp_path)
    hashes = sorted(storage.put(io.BytesIO(f"fișier {i}".encode()))[0] for i in range(30))
    (tmp_path / ".upload-abc").write_bytes(b"half written")
    assert list(storage.iter_stored()) == hashes
    assert storage.exists(hashes[0]) and storage.verify(hashes[0]) == "ok"
    storage.path_for(hashes[0]).unlink()
    assert not storage.exists(hashes[0]) and storage.verify(hashes[0]) == "missing"


def test_files_of_a_form_are_kept_once_on_the_entry_without_a_second_copy(app, session):
    storage = LocalStorage(app.config["STORAGE_DIR"])
    entry = new_entry(session)
    sha256, size = storage.put(io.BytesIO(pdf_bytes("Raspuns semnat")))
    ref = {"sha256": sha256, "name": "raspuns.pdf", "size": size,
           "content_type": "application/pdf"}
    added = keep_form_files(session, storage, entry, [("Răspunsul redactat (fișier)", ref)],
                            "functionar.relatii")
    # The same file completed again (a task sent back and redone) is not added twice.
    again = keep_form_files(session, storage, entry, [("Răspunsul redactat (fișier)", ref)],
                            "functionar.relatii")
    session.commit()
    assert len(added) == 1 and again == []
    (document,) = session.execute(select(ArchiveDocument).where(
        ArchiveDocument.entry_id == entry.id)).scalars().all()
    assert (document.title, document.source) == ("Răspunsul redactat (fișier)", "form")
    assert (document.current.sha256, document.current.filename) == (sha256, "raspuns.pdf")
    assert list(storage.iter_stored()) == [sha256]                   # one copy of the bytes
    job = session.execute(select(BackgroundJob).where(
        BackgroundJob.kind == "archive.extract_text")).scalar_one()
    assert json.loads(job.payload_json) == {"version_id": document.current.id}
    assert verify_archive(session, storage).ok
