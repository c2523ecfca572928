"""Files uploaded in a procedure's forms (the scanned petition at the desk, the drafted
answer...) kept as documents of the register entry the procedure works on.

The form already stored the bytes in the same content-addressed storage, so only
the rows are added, pointing at that hash: nothing is stored twice. The rows, their
audit events and the text-extraction jobs join the caller's transaction, the one that
completes the task, so a task that fails to complete keeps nothing.
"""
import logging
import uuid
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.jobs.queue import enqueue
from connectors.registry.models import RegisterEntry

from .documents import EXTRACT_TEXT
from .models import ArchiveDocument, ArchiveVersion
from .storage import LocalStorage, StorageError

log = logging.getLogger(__name__)

FormFile = tuple[str, dict]     # (the form field's title, the stored file's reference)


def keep_form_files(session: Session, storage: LocalStorage, entry: RegisterEntry,
                    files: Iterable[FormFile], actor: str | None) -> list[ArchiveDocument]:
    """Add a document (source "form") on `entry` for each already-stored file that the
    entry does not keep yet. A reference is a form's file value: a dict with sha256,
    name, size and content_type. Returns the documents added."""
    if entry.cancelled:
        return []
    kept = set(session.execute(
        select(ArchiveVersion.sha256).join(ArchiveDocument)
        .where(ArchiveDocument.entry_id == entry.id)).scalars())
    added = []
    for title, ref in files:
        sha256 = ref.get("sha256") if isinstance(ref, dict) else None
        if not sha256 or sha256 in kept:
            continue
        try:
            path = storage.path_for(sha256)
        except StorageError:
            log.warning("form file with an invalid hash on entry %s: %r", entry.id, sha256)
            continue
        if not path.is_file():
            # A reference to nothing would only fail later, at download; verify names it.
            log.warning("form file %s of entry %s is not in storage", sha256, entry.id)
            continue
        kept.add(sha256)
        added.append(_add(session, entry, title, ref, sha256, path.stat().st_size, actor))
    return added


def _add(session, entry, title, ref, sha256, size, actor) -> ArchiveDocument:
    filename = str(ref.get("name") or "")[:300]
    document = ArchiveDocument(uid=str(uuid.uuid4()), entry_id=entry.id, source="form",
                               title=(title or filename or sha256[:12])[:300],
                               created_by=actor, current_version=1)
    session.add(document)
    version = ArchiveVersion(document=document, number=1, sha256=sha256, size=size,
                             filename=filename,
                             content_type=ref.get("content_type") or "application/octet-stream",
                             created_by=actor, text_status="pending")
    session.add(version)
    session.flush()
    record_event(session, actor, "archive.document_added", object_ref=f"entry:{entry.id}",
                 summary=f"{document.title} ({filename}) — din formular",
                 after={"document": document.uid, "sha256": sha256, "size": size,
                        "source": "form"})
    enqueue(session, EXTRACT_TEXT, {"version_id": version.id},
            dedupe_key=f"{EXTRACT_TEXT}:{version.id}")
    return document
