"""Keeping the search index in step with the register and the archive.

Whenever the registry changes an entry it says so (`entry_changed`, inside its
transaction); we answer by enqueueing an `archive.index_entry` job in that same
transaction, so the job exists exactly when the change committed. The job rebuilds the
entry's search document from the database and the stored text files, and replaces
it in the index, or removes it when the entry is gone. The index is never written by
the web layer.
"""
import logging
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.jobs.queue import handler
from connectors.registry.models import RegisterEntry
from connectors.registry.signals import entry_changed

from . import settings as archive_settings
from .documents import INDEX_ENTRY, request_reindex
from .models import ArchiveDocument
from .search import SearchBackend, SearchDocument, backend_from_settings
from .search.base import CONFIDENTIAL
from .storage import LocalStorage, StorageError

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2_000_000     # an entry's text in the index; OCR of a thick file stops here


def _text(storage: LocalStorage, sha256: str | None) -> str:
    if not sha256:
        return ""
    try:
        with storage.open(sha256) as stream:
            return stream.read(MAX_TEXT_CHARS * 4).decode("utf-8", errors="replace")
    except StorageError:
        # A text file missing from storage must not keep the entry out of the index.
        log.warning("text file %s missing from storage", sha256)
        return ""


def search_document(entry: RegisterEntry, documents: list[ArchiveDocument],
                    storage: LocalStorage) -> SearchDocument:
    """The entry as the index sees it: its register fields, its documents' titles and
    the text of each document's current version (destroyed documents left out)."""
    kept = [d for d in documents if d.destroyed_at is None]
    texts = [_text(storage, d.current.text_sha256) for d in kept]
    return SearchDocument(
        entry_id=entry.id, label=entry.label, registered_on=entry.registered_on,
        sender_name=entry.sender_name or "", department=entry.department or "",
        document_type=entry.document_type or "", file_code=entry.file_code or "",
        direction=entry.direction or "in", cancelled=bool(entry.cancelled),
        summary=entry.summary or "", titles=[d.title for d in kept],
        text="\n\n".join(t for t in texts if t)[:MAX_TEXT_CHARS],
        visibility=([entry.department] if entry.department else [])
        + ([CONFIDENTIAL] if entry.confidential else []))


def _documents_of(session: Session, entry_ids: list[int]) -> dict[int, list[ArchiveDocument]]:
    out: dict[int, list[ArchiveDocument]] = {i: [] for i in entry_ids}
    for document in session.execute(select(ArchiveDocument).where(
            ArchiveDocument.entry_id.in_(entry_ids)).order_by(ArchiveDocument.id)).scalars():
        out[document.entry_id].append(document)
    return out


def current_backend() -> SearchBackend:
    return backend_from_settings(archive_settings.current())


@handler(INDEX_ENTRY)
def index_entry(session: Session, payload: dict) -> None:
    """Job: (re)index one entry. Idempotent: indexing twice gives the same document."""
    entry_id = int(payload["entry_id"])
    backend = current_backend()
    entry = session.get(RegisterEntry, entry_id)
    if entry is None:
        backend.delete([entry_id])
        return
    storage = archive_settings.current().storage()
    backend.index([search_document(entry, _documents_of(session, [entry_id])[entry_id],
                                   storage)])


@entry_changed.connect
def _entry_changed(sender, session: Session, entry_id: int, **_) -> None:
    request_reindex(session, entry_id)


def reindex_all(session: Session, backend: SearchBackend, batch: int = 1000,
                storage: LocalStorage | None = None, actor: str | None = None,
                progress=None) -> int:
    """Rebuild the whole index from the database: empty it, then index every entry in
    batches (bounded memory). Returns the number of entries indexed."""
    storage = storage or archive_settings.current().storage()
    started = time.monotonic()
    backend.clear()
    done, last_id = 0, 0
    while True:
        entries = session.execute(select(RegisterEntry).where(RegisterEntry.id > last_id)
                                  .order_by(RegisterEntry.id).limit(batch)).scalars().all()
        if not entries:
            break
        documents = _documents_of(session, [e.id for e in entries])
        docs = [search_document(e, documents[e.id], storage) for e in entries]
        backend.index(docs, wait=False)
        done += len(docs)
        last_id = entries[-1].id
        session.expunge_all()        # keep memory flat over a large register
        if progress:
            progress(done)
    backend.optimize()
    record_event(session, actor, "archive.reindexed", object_ref="search-index",
                 summary=f"Indexul de căutare a fost reconstruit: {done} înregistrări.",
                 after={"entries": done, "backend": backend.name,
                        "seconds": round(time.monotonic() - started, 1)})
    return done
