"""Keeping files on register entries: a new document, or a new version of one.

The bytes go to the content-addressed storage first (idempotent: storing the same
file twice keeps one copy); the rows, the audit event and the text-extraction job are
added in the caller's transaction, so a rolled-back upload leaves only an unreferenced
file behind, never a row pointing at nothing.
"""
import uuid
from typing import BinaryIO

from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.jobs.queue import enqueue
from connectors.registry.models import RegisterEntry

from .filenames import safe_filename
from .models import ArchiveDocument, ArchiveVersion
from .storage import LocalStorage

EXTRACT_TEXT = "archive.extract_text"   # job kind: OCR / text layer of a version


class ArchiveError(Exception):
    """A request the archive refuses; the message is for the user (Romanian)."""


def add_document(session: Session, storage: LocalStorage, entry: RegisterEntry,
                 stream: BinaryIO, *, filename: str, content_type: str, actor: str | None,
                 source: str = "upload", title: str = "", max_bytes: int | None = None,
                 pages: int | None = None) -> ArchiveDocument:
    """Keep a new document on `entry`; its text is extracted in the background."""
    if entry.cancelled:
        raise ArchiveError(f"Înregistrarea {entry.label} este anulată.")
    filename = safe_filename(filename)
    sha256, size = storage.put(stream, max_bytes=max_bytes)
    document = ArchiveDocument(uid=str(uuid.uuid4()), entry_id=entry.id, source=source,
                               title=(title or filename or sha256[:12])[:300],
                               created_by=actor, current_version=1)
    session.add(document)
    version = _version(document, 1, sha256, size, filename, content_type, actor, pages)
    session.add(version)
    session.flush()
    record_event(session, actor, "archive.document_added", object_ref=f"entry:{entry.id}",
                 summary=f"{document.title} ({filename})",
                 after={"document": document.uid, "sha256": sha256, "size": size,
                        "source": source})
    enqueue(session, EXTRACT_TEXT, {"version_id": version.id},
            dedupe_key=f"{EXTRACT_TEXT}:{version.id}")
    return document


def add_version(session: Session, storage: LocalStorage, document: ArchiveDocument,
                stream: BinaryIO, *, filename: str, content_type: str, actor: str | None,
                note: str = "", max_bytes: int | None = None) -> ArchiveVersion:
    """Replace a document's file: the old version stays, the new one becomes current."""
    if document.destroyed_at is not None:
        raise ArchiveError("Documentul a fost eliminat din arhivă.")
    filename = safe_filename(filename)
    sha256, size = storage.put(stream, max_bytes=max_bytes)
    number = max(v.number for v in document.versions) + 1
    before = document.current.sha256
    version = _version(document, number, sha256, size, filename, content_type, actor, None)
    version.note = (note or "")[:300]
    session.add(version)
    document.current_version = number
    session.flush()
    record_event(session, actor, "archive.version_added", object_ref=f"entry:{document.entry_id}",
                 summary=f"{document.title}: versiunea {number}" + (f" — {note}" if note else ""),
                 before={"sha256": before}, after={"sha256": sha256, "version": number})
    enqueue(session, EXTRACT_TEXT, {"version_id": version.id},
            dedupe_key=f"{EXTRACT_TEXT}:{version.id}")
    return version


def _version(document, number, sha256, size, filename, content_type, actor, pages):
    return ArchiveVersion(document=document, number=number, sha256=sha256, size=size,
                          filename=(filename or "")[:300], content_type=content_type,
                          created_by=actor, pages=pages, text_status="pending")


INDEX_ENTRY = "archive.index_entry"     # job kind: (re)index one register entry


def request_reindex(session: Session, entry_id: int) -> None:
    """Ask for the entry's search document to be rebuilt (once, however often asked)."""
    enqueue(session, INDEX_ENTRY, {"entry_id": entry_id},
            dedupe_key=f"{INDEX_ENTRY}:{entry_id}")
