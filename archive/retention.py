"""Retention and disposal (Legea 16/1996): closed folders whose term has run out go on
a disposal list; the archive commission approves the list (its act is recorded); only
then does the archivist execute it. A legal hold keeps a folder whatever its term.

Executing writes a destruction record per folder with everything known about it
(folder, nomenclator file, register entries, each document's metadata sheet and file
checksums, the approval act), marks the documents destroyed, and removes their stored
files once the transaction has committed — except files another document still
uses (storage is content-addressed: identical bytes are one file).
"""
import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.db import utcnow
from connectors.registry.models import NomenclatorFile, RegisterEntry

from .documents import ArchiveError, request_reindex
from .metadata import folder_sheet, metadata_sheet
from .models import (ArchiveDocument, ArchiveFolder, ArchiveVersion, DestructionRecord,
                     DisposalItem, DisposalList, ScanBatch, ScanSegment)
from .storage import LocalStorage

PENDING = ("proposed", "approved")


class DisposalRefused(ArchiveError):
    """A proposal naming folders that may not be destroyed, with a reason for each."""

    def __init__(self, reasons: list[str]):
        super().__init__("Lista nu a fost propusă: " + "; ".join(reasons))
        self.reasons = reasons


def _pending_folder_ids(session: Session) -> dict[int, int]:
    """folder id → id of the proposed or approved list it is on."""
    rows = session.execute(select(DisposalItem.folder_id, DisposalList.id)
                           .join(DisposalList, DisposalList.id == DisposalItem.list_id)
                           .where(DisposalList.status.in_(PENDING))).all()
    return {folder_id: list_id for folder_id, list_id in rows}


def why_not_disposable(folder: ArchiveFolder, today: date) -> str | None:
    """The reason a folder may not be destroyed today, or None."""
    if folder.status == "disposed":
        return f"dosarul {folder.label} a fost deja eliminat"
    if folder.nomenclator_file.retention_years is None:
        return f"dosarul {folder.label} se păstrează permanent"
    if folder.legal_hold:
        return f"dosarul {folder.label} este sub păstrare legală ({folder.hold_reason})"
    if folder.status != "closed":
        return f"dosarul {folder.label} este încă deschis"
    if folder.disposable_from > today:
        return (f"termenul de păstrare al dosarului {folder.label} expiră abia la "
                f"{folder.disposable_from.strftime('%d.%m.%Y')}")
    return None


def disposal_candidates(session: Session, today: date) -> list[ArchiveFolder]:
    """Closed folders past their term, not permanent, not held, not on a pending list."""
    pending = _pending_folder_ids(session)
    folders = session.execute(
        select(ArchiveFolder).join(NomenclatorFile)
        .where(ArchiveFolder.status == "closed", ArchiveFolder.legal_hold.is_(False),
               NomenclatorFile.retention_years.is_not(None))
        .order_by(ArchiveFolder.year, NomenclatorFile.code)).scalars().all()
    return [f for f in folders if f.id not in pending and why_not_disposable(f, today) is None]


def propose_disposal(session: Session, folder_ids, actor: str,
                     today: date | None = None) -> DisposalList:
    today = today or date.today()
    ids = sorted({int(i) for i in folder_ids})
    if not ids:
        raise ArchiveError("Alegeți cel puțin un dosar pentru lista de eliminare.")
    pending, reasons, folders = _pending_folder_ids(session), [], []
    for folder_id in ids:
        folder = session.get(ArchiveFolder, folder_id)
        if folder is None:
            reasons.append(f"dosarul nr. {folder_id} nu există")
            continue
        reason = why_not_disposable(folder, today)
        if reason is None and folder.id in pending:
            reason = f"dosarul {folder.label} este deja pe lista de eliminare nr. {pending[folder.id]}"
        if reason:
            reasons.append(reason)
        folders.append(folder)
    if reasons:
        raise DisposalRefused(reasons)
    disposal = DisposalList(status="proposed", created_by=actor, created_at=utcnow(),
                            items=[DisposalItem(folder_id=f.id) for f in folders])
    session.add(disposal)
    session.flush()
    record_event(session, actor, "disposal.proposed", object_ref=f"disposal:{disposal.id}",
                 summary=f"Lista de eliminare nr. {disposal.id}: "
                         + ", ".join(f.label for f in folders),
                 after={"folders": [f.label for f in folders]})
    return disposal


def decide(session: Session, disposal: DisposalList, actor: str, approve: bool,
           approval_act: str = "", note: str = "") -> DisposalList:
    """The commission's decision. The caller checks that `actor` sits on the commission."""
    approval_act, note = (approval_act or "").strip(), (note or "").strip()
    if disposal.status != "proposed":
        raise ArchiveError(f"Lista de eliminare nr. {disposal.id} nu mai așteaptă o decizie "
                           f"(este {STATUS_LABELS.get(disposal.status, disposal.status)}).")
    if actor == disposal.created_by:
        raise ArchiveError("Cine a propus lista nu o poate și aproba sau respinge; decide "
                           "alt membru al comisiei de arhivă.")
    if approve and not approval_act:
        raise ArchiveError("Aprobarea cere actul comisiei (de exemplu „PV nr. 12/15.01.2027”).")
    if not approve and not note:
        raise ArchiveError("Respingerea cere un motiv (nota comisiei).")
    if len(approval_act) > 300 or len(note) > 500:
        raise ArchiveError("Actul are cel mult 300 de caractere, nota cel mult 500.")
    disposal.status = "approved" if approve else "rejected"
    disposal.approval_act, disposal.decision_note = approval_act, note
    disposal.decided_by, disposal.decided_at = actor, utcnow()
    record_event(session, actor, f"disposal.{disposal.status}",
                 object_ref=f"disposal:{disposal.id}",
                 summary=(f"Lista de eliminare nr. {disposal.id} "
                          f"{'aprobată prin ' + approval_act if approve else 'respinsă'}"
                          + (f" — {note}" if note else "")),
                 before={"status": "proposed"},
                 after={"status": disposal.status, "approval_act": approval_act, "note": note})
    return disposal


STATUS_LABELS = {"proposed": "propusă", "approved": "aprobată", "rejected": "respinsă",
                 "executed": "executată"}


@dataclass
class Execution:
    destroyed: list[str] = field(default_factory=list)          # folder labels
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    documents: int = 0
    files_to_delete: set[str] = field(default_factory=set)
    files_shared: set[str] = field(default_factory=set)       # kept: used elsewhere


def execute_disposal(session: Session, storage: LocalStorage, disposal: DisposalList,
                     actor: str, today: date | None = None, town_hall: str = "") -> Execution:
    """Destroy the approved list's folders. The rows change in the caller's
    transaction; the files go when it commits (never if it rolls back)."""
    today = today or date.today()
    if disposal.status != "approved":
        raise ArchiveError(f"Lista de eliminare nr. {disposal.id} nu este aprobată de comisia "
                           "de arhivă; nimic nu a fost eliminat.")
    result, now, doomed = Execution(), utcnow(), []
    for item in disposal.items:
        # Locked and read afresh: a hold placed a moment ago must count.
        folder = session.execute(select(ArchiveFolder).where(ArchiveFolder.id == item.folder_id)
                                 .with_for_update()
                                 .execution_options(populate_existing=True)).scalar_one()
        reason = why_not_disposable(folder, today)
        if reason:
            result.skipped.append((folder.label, reason))
            record_event(session, actor, "archive.folder_disposal_skipped",
                         object_ref=f"folder:{folder.id}",
                         summary=f"Dosarul {folder.label} nu a fost eliminat: {reason}.")
            continue
        doomed.append(folder)
    doomed_ids = [f.id for f in doomed]
    documents_by_folder = _documents(session, doomed_ids)
    files = {sha for docs in documents_by_folder.values() for d in docs
             for v in d.versions for sha in v.stored_files().values()}
    doomed_docs = [d.id for docs in documents_by_folder.values() for d in docs]
    files |= _scan_batches_used_up(session, doomed_docs)
    shared = _used_elsewhere(session, files, doomed_docs)
    for folder in doomed:
        documents = documents_by_folder.get(folder.id, [])
        sheet = folder_sheet(session, folder)
        record = {
            "folder": sheet,
            "nomenclator_file": {"code": folder.nomenclator_file.code,
                                 "title": folder.nomenclator_file.title,
                                 "department": folder.nomenclator_file.department,
                                 "retention": folder.nomenclator_file.retention_label},
            "entries": [_entry_fields(e) for e in _entries(session, folder.id)],
            "documents": [metadata_sheet(session, d, town_hall) for d in documents],
            "disposal_list": disposal.id, "approval_act": disposal.approval_act,
            "approved_by": disposal.decided_by, "proposed_by": disposal.created_by,
            "destroyed_by": actor, "destroyed_at": now.isoformat(),
            "files_kept_shared": sorted({sha for d in documents for v in d.versions
                                         for sha in v.stored_files().values()} & shared),
        }
        session.add(DestructionRecord(folder_id=folder.id, list_id=disposal.id,
                                      destroyed_at=now, destroyed_by=actor,
                                      approval_act=disposal.approval_act,
                                      metadata_json=json.dumps(record, ensure_ascii=False,
                                                               default=str)))
        for document in documents:
            document.destroyed_at = now
            record_event(session, actor, "archive.document_destroyed",
                         object_ref=f"entry:{document.entry_id}",
                         summary=f"{document.title}: eliminat cu lista nr. {disposal.id} "
                                 f"({disposal.approval_act}).", after={"document": document.uid})
        for entry_id in {d.entry_id for d in documents} | {e["id"] for e in record["entries"]}:
            request_reindex(session, entry_id)
        folder.status, folder.disposed_on = "disposed", today
        record_event(session, actor, "archive.folder_disposed", object_ref=f"folder:{folder.id}",
                     summary=f"Dosarul {folder.label} a fost eliminat ({len(documents)} "
                             f"documente) în baza {disposal.approval_act}.",
                     before={"status": "closed"}, after={"status": "disposed"})
        result.destroyed.append(folder.label)
        result.documents += len(documents)
    result.files_shared = files & shared
    result.files_to_delete = files - shared
    disposal.status, disposal.executed_by, disposal.executed_at = "executed", actor, now
    record_event(session, actor, "disposal.executed", object_ref=f"disposal:{disposal.id}",
                 summary=f"Lista de eliminare nr. {disposal.id} executată: "
                         f"{len(result.destroyed)} dosare eliminate"
                         + (f", {len(result.skipped)} oprite: "
                            + "; ".join(r for _, r in result.skipped) if result.skipped else ""),
                 after={"destroyed": result.destroyed, "skipped": dict(result.skipped),
                        "files_deleted": len(result.files_to_delete)})
    _delete_on_commit(session, storage, result.files_to_delete)
    return result


def _documents(session: Session, folder_ids: list[int]) -> dict[int, list[ArchiveDocument]]:
    if not folder_ids:
        return {}
    rows = session.execute(select(RegisterEntry.folder_id, ArchiveDocument)
                           .join(ArchiveDocument, ArchiveDocument.entry_id == RegisterEntry.id)
                           .where(RegisterEntry.folder_id.in_(folder_ids),
                                  ArchiveDocument.destroyed_at.is_(None))
                           .order_by(ArchiveDocument.id)).all()
    found: dict[int, list[ArchiveDocument]] = {}
    for folder_id, document in rows:
        found.setdefault(folder_id, []).append(document)
    return found


def _entries(session: Session, folder_id: int) -> list[RegisterEntry]:
    return session.execute(select(RegisterEntry).where(RegisterEntry.folder_id == folder_id)
                           .order_by(RegisterEntry.id)).scalars().all()


def _entry_fields(entry: RegisterEntry) -> dict:
    """Every column of the register line, as it stood when its folder was destroyed."""
    values = {c.key: getattr(entry, c.key) for c in RegisterEntry.__table__.columns}
    values["label"] = entry.label
    values["register"] = entry.register.code
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}


def _used_elsewhere(session: Session, files: set[str], doomed_docs: list[int]) -> set[str]:
    """Those of `files` a living document outside the disposal still needs."""
    if not files:
        return set()
    wanted = list(files)
    used = set()
    columns = (ArchiveVersion.sha256, ArchiveVersion.searchable_sha256,
               ArchiveVersion.text_sha256, ArchiveVersion.thumbnail_sha256)
    for column in columns:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            used.update(session.execute(
                select(column).join(ArchiveDocument)
                .where(column.in_(chunk), ArchiveDocument.destroyed_at.is_(None),
                       ArchiveDocument.id.not_in(doomed_docs or [0]))).scalars())
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        # A scan segment not (yet) filed on a destroyed document still shows its pages.
        used.update(session.execute(select(ScanSegment.sha256).where(
            ScanSegment.sha256.in_(chunk),
            (ScanSegment.document_id.is_(None)) | ScanSegment.document_id.not_in(
                doomed_docs or [0]))).scalars())
    return used


def _scan_batches_used_up(session: Session, doomed_docs: list[int]) -> set[str]:
    """Scan batches whose every document is destroyed by now: the batch as received
    holds their pages too, so it goes with them. A batch that still holds a page of a
    kept document, or one never matched, stays."""
    if not doomed_docs:
        return set()
    batch_ids = set()
    for start in range(0, len(doomed_docs), 500):
        batch_ids.update(session.execute(select(ScanSegment.batch_id).where(
            ScanSegment.document_id.in_(doomed_docs[start:start + 500]))).scalars())
    gone = set(doomed_docs)
    used_up = set()
    for batch in session.execute(select(ScanBatch).where(
            ScanBatch.id.in_(sorted(batch_ids)))).scalars():
        alive = [seg for seg in batch.segments if seg.document_id is None or (
            seg.document_id not in gone and session.get(ArchiveDocument, seg.document_id)
            .destroyed_at is None)]
        if not alive:
            used_up.add(batch.sha256)
            batch.status = "disposed"
    return used_up


# ---- deleting files once the destruction is committed ----------------------------------

_PENDING_KEY = "archive.files_to_delete"


def _delete_on_commit(session: Session, storage: LocalStorage, files: set[str]) -> None:
    pending = session.info.setdefault(_PENDING_KEY, [])
    pending.append((storage, set(files)))


@event.listens_for(Session, "after_commit")
def _delete_committed(session):
    for storage, files in session.info.pop(_PENDING_KEY, []):
        for sha256 in sorted(files):
            storage.delete(sha256)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction):
    if previous_transaction.parent is None:      # the whole transaction, not a savepoint
        session.info.pop(_PENDING_KEY, None)


# ---- legal hold -----------------------------------------------------------------------

def place_hold(session: Session, folder: ArchiveFolder, actor: str, reason: str) -> ArchiveFolder:
    """Keep a folder whatever its term (a lawsuit, an audit, an inquiry)."""
    reason = (reason or "").strip()
    if not reason:
        raise ArchiveError("Păstrarea legală cere un motiv (de exemplu dosarul instanței).")
    if len(reason) > 500:
        raise ArchiveError("Motivul are cel mult 500 de caractere.")
    if folder.status == "disposed":
        raise ArchiveError(f"Dosarul {folder.label} a fost deja eliminat.")
    before = {"legal_hold": bool(folder.legal_hold), "reason": folder.hold_reason}
    folder.legal_hold, folder.hold_reason = True, reason
    folder.hold_by, folder.hold_at = actor, utcnow()
    record_event(session, actor, "archive.hold_placed", object_ref=f"folder:{folder.id}",
                 summary=f"Dosarul {folder.label} este sub păstrare legală: {reason}",
                 before=before, after={"legal_hold": True, "reason": reason})
    return folder


def lift_hold(session: Session, folder: ArchiveFolder, actor: str, reason: str) -> ArchiveFolder:
    reason = (reason or "").strip()
    if not reason:
        raise ArchiveError("Ridicarea păstrării legale cere un motiv.")
    if len(reason) > 500:
        raise ArchiveError("Motivul are cel mult 500 de caractere.")
    if not folder.legal_hold:
        raise ArchiveError(f"Dosarul {folder.label} nu este sub păstrare legală.")
    before = {"legal_hold": True, "reason": folder.hold_reason}
    folder.legal_hold, folder.hold_by, folder.hold_at = False, actor, utcnow()
    record_event(session, actor, "archive.hold_lifted", object_ref=f"folder:{folder.id}",
                 summary=f"Păstrarea legală a dosarului {folder.label} a fost ridicată: {reason}",
                 before=before, after={"legal_hold": False, "reason": reason})
    return folder
