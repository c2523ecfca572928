"""The background job that gives every stored version its text, searchable PDF and
thumbnail (`archive.extract_text`, enqueued by `documents.add_document/add_version`).

The job reads what it needs and ends its transaction before the long part: OCR takes
seconds per page, and on SQLite an open writing transaction would hold the database's
write lock all that time. The results are stored (content-addressed, so a re-run
stores nothing new) and written on the version in the job's closing transaction,
together with the audit event and the request to re-index the entry.

A file that cannot be read is marked `failed` with a message for the clerk and the job
ends normally (it would not open on a retry either); a missing or crashing Tesseract
raises, and the queue retries with backoff.
"""
import io
import logging

from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.jobs.queue import handler

from . import settings
from .documents import EXTRACT_TEXT, request_reindex
from .models import ArchiveDocument, ArchiveVersion
from .ocr import extract
from .pages import UnreadableFile

log = logging.getLogger(__name__)


@handler(EXTRACT_TEXT)
def extract_text_job(session: Session, payload: dict) -> None:
    version_id = int(payload["version_id"])
    version = session.get(ArchiveVersion, version_id)
    if version is None or version.text_status == "done":
        return                     # gone, or a re-run of a job that already finished
    document = session.get(ArchiveDocument, version.document_id)
    if document.destroyed_at is not None:
        return                     # disposed of: its files are gone on purpose
    sha256, content_type = version.sha256, version.content_type
    config = settings.current()
    storage = config.storage()
    # End the read before OCR: no lock may be held for the minutes a long scan takes.
    session.commit()

    with storage.open(sha256) as stream:      # missing file (NAS down): raise, retry
        data = stream.read()
    try:
        result = extract(data, content_type, config.ocr_languages)
    except UnreadableFile as err:
        _record_failure(session, version_id, str(err))
        return
    searchable = (storage.put(io.BytesIO(result.searchable_pdf))[0]
                  if result.searchable_pdf is not None else sha256)
    text_sha, _ = storage.put(io.BytesIO(result.text.encode("utf-8")))
    thumbnail_sha, _ = storage.put(io.BytesIO(result.thumbnail_png))

    version = session.get(ArchiveVersion, version_id)
    if version is None or version.text_status == "done":
        return                     # another worker finished it meanwhile (lease ran out)
    version.pages = result.pages
    version.text_status, version.text_source, version.text_error = "done", result.source, ""
    version.searchable_sha256, version.text_sha256 = searchable, text_sha
    version.thumbnail_sha256 = thumbnail_sha
    entry_id = version.document.entry_id
    how = "din stratul de text al PDF-ului" if result.source == "pdf" else "prin OCR"
    record_event(session, None, "archive.text_extracted", object_ref=f"entry:{entry_id}",
                 summary=f"{version.document.title} (v{version.number}): text extras {how}, "
                         f"{result.pages} pagini",
                 after={"document": version.document.uid, "version": version.number,
                        "source": result.source, "pages": result.pages,
                        "characters": len(result.text), "searchable": searchable,
                        "text": text_sha, "thumbnail": thumbnail_sha})
    request_reindex(session, entry_id)


def _record_failure(session: Session, version_id: int, message: str) -> None:
    version = session.get(ArchiveVersion, version_id)
    if version is None or version.text_status == "done":
        return
    log.warning("archive version %s: %s", version_id, message)
    version.text_status, version.text_error = "failed", message[:500]
    entry_id = version.document.entry_id
    record_event(session, None, "archive.text_failed", object_ref=f"entry:{entry_id}",
                 summary=f"{version.document.title} (v{version.number}): {message}"[:1000],
                 after={"document": version.document.uid, "version": version.number,
                        "error": message[:500]})
    request_reindex(session, entry_id)   # its title and metadata are still searchable
