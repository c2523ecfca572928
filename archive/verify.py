"""Proving the archive is whole (Legea 16/1996, art. 27¹: integrity of electronic
documents): every file the database names is read again and re-hashed.

The hashes the database refers to (sorted by the database) and the files on disk
(listed in the same order, one directory at a time) are walked side by side, like a
merge: each file is read once, in chunks, and nothing grows with the archive's size
except the counters and a bounded list of problems. Only for the files found
missing or changed are the rows that name them looked up, to say which entry,
document, version and role is hurt.
"""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from sqlalchemy import or_, select, union
from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.db import utcnow
from connectors.registry.models import RegisterEntry

from .models import ArchiveDocument, ArchiveVersion, ScanBatch, ScanSegment
from .storage import LocalStorage, StorageError

LIST_LIMIT = 1000       # problems listed one by one; beyond that they are only counted
SAMPLE_LIMIT = 20       # unreferenced files named, as examples
LOOKUP_CHUNK = 500      # hashes per IN (...) when finding who refers to a bad file

ROLE_NAMES = {"original": "original", "searchable": "PDF căutabil", "text": "text extras",
              "thumbnail": "miniatură", "batch": "lot scanat", "segment": "document din lot"}


@dataclass
class Reference:
    """A row that names a file: a document's version (in one of its roles), a scan
    batch, or a segment cut from one."""
    role: str
    entry_id: int | None = None
    entry_label: str = ""
    document_id: int | None = None
    document_title: str = ""
    version: int | None = None
    batch_id: int | None = None

    def describe(self) -> str:
        parts = []
        if self.entry_label:
            parts.append(f"nr. {self.entry_label}")
        if self.document_title:
            parts.append(f"«{self.document_title}»")
        if self.version is not None:
            parts.append(f"versiunea {self.version}")
        if self.batch_id is not None:
            parts.append(f"lotul scanat #{self.batch_id}")
        parts.append(ROLE_NAMES.get(self.role, self.role))
        return ", ".join(parts)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Problem:
    sha256: str
    references: list[Reference] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"sha256": self.sha256, "references": [r.to_dict() for r in self.references]}


@dataclass
class VerifyReport:
    started_at: datetime
    finished_at: datetime | None = None
    checked: int = 0
    missing_count: int = 0
    changed_count: int = 0
    missing: list[Problem] = field(default_factory=list)
    changed: list[Problem] = field(default_factory=list)
    unreferenced_count: int = 0          # stored, named by no row: informational
    unreferenced_sample: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing_count or self.changed_count)

    def summary(self) -> str:
        return (f"{self.checked} fișiere verificate: {self.missing_count} lipsă, "
                f"{self.changed_count} modificate; {self.unreferenced_count} fișiere "
                f"în depozit nereferite de arhivă.")

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked,
                "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "missing_count": self.missing_count, "changed_count": self.changed_count,
                "missing": [p.to_dict() for p in self.missing],
                "changed": [p.to_dict() for p in self.changed],
                "unreferenced_count": self.unreferenced_count,
                "unreferenced_sample": self.unreferenced_sample}

    def lines(self) -> list[str]:
        """The report as a person reads it (Romanian)."""
        out = [self.summary()]
        for title, problems, count in (("Fișiere lipsă", self.missing, self.missing_count),
                                       ("Fișiere modificate (conținutul nu mai corespunde "
                                        "amprentei SHA-256)", self.changed, self.changed_count)):
            if not count:
                continue
            out.append(f"{title}: {count}")
            for problem in problems:
                out.append(f"  {problem.sha256}")
                for ref in problem.references or [Reference(role="?")]:
                    out.append(f"    — {ref.describe()}")
            if count > len(problems):
                out.append(f"  … și încă {count - len(problems)}")
        if self.unreferenced_count:
            out.append(f"Nereferite (informativ; de ex. fișiere din formulare fără "
                       f"înregistrare): {', '.join(self.unreferenced_sample)}"
                       + (" …" if self.unreferenced_count > len(self.unreferenced_sample)
                          else ""))
        return out


def verify_archive(session: Session, storage: LocalStorage,
                   actor: str | None = None) -> VerifyReport:
    """Re-hash every file the archive's rows refer to; record the run in the audit
    trail (in the caller's transaction) and return the report."""
    report = VerifyReport(started_at=utcnow())
    stored = storage.iter_stored()
    on_disk = next(stored, None)
    previous = ""
    for sha256 in _referenced_hashes(session):
        if sha256 <= previous:
            # The merge needs both sides in the same order; a database collation that
            # sorts hex differently would make every file look missing.
            raise RuntimeError(f"hashes not in ascending order: {previous} then {sha256}")
        previous = sha256
        while on_disk is not None and on_disk < sha256:
            _unreferenced(report, on_disk)
            on_disk = next(stored, None)
        if on_disk == sha256:
            on_disk = next(stored, None)
            try:
                state = storage.verify(sha256)
            except StorageError:
                state = "missing"
        else:
            state = "missing"
        report.checked += 1
        if state == "missing":
            report.missing_count += 1
            if len(report.missing) < LIST_LIMIT:
                report.missing.append(Problem(sha256))
        elif state == "changed":
            report.changed_count += 1
            if len(report.changed) < LIST_LIMIT:
                report.changed.append(Problem(sha256))
    while on_disk is not None:
        _unreferenced(report, on_disk)
        on_disk = next(stored, None)
    _name_references(session, report.missing + report.changed)
    report.finished_at = utcnow()
    record_event(session, actor, "archive.verified", object_ref="archive:storage",
                 summary=report.summary(),
                 after={"checked": report.checked, "missing": report.missing_count,
                        "changed": report.changed_count,
                        "unreferenced": report.unreferenced_count,
                        "missing_sha256": [p.sha256 for p in report.missing[:50]],
                        "changed_sha256": [p.sha256 for p in report.changed[:50]]})
    return report


def _unreferenced(report: VerifyReport, sha256: str) -> None:
    report.unreferenced_count += 1
    if len(report.unreferenced_sample) < SAMPLE_LIMIT:
        report.unreferenced_sample.append(sha256)


def _live():
    # A destroyed document's files were deleted on purpose, under an approved list.
    return ArchiveDocument.destroyed_at.is_(None)


def _referenced_hashes(session: Session) -> Iterator[str]:
    """Every distinct hash a row refers to, ascending, streamed from the database."""
    v, d = ArchiveVersion, ArchiveDocument
    parts = [select(column.label("sha256")).join(d, v.document_id == d.id)
             .where(_live(), column.isnot(None))
             for column in (v.sha256, v.searchable_sha256, v.text_sha256, v.thumbnail_sha256)]
    # A batch whose documents were all destroyed went with them (status "disposed").
    parts.append(select(ScanBatch.sha256.label("sha256")).where(ScanBatch.status != "disposed"))
    parts.append(select(ScanSegment.sha256.label("sha256"))
                 .outerjoin(d, ScanSegment.document_id == d.id)
                 .where(or_(ScanSegment.document_id.is_(None), _live())))
    hashes = union(*parts).subquery()
    result = session.execute(select(hashes.c.sha256).order_by(hashes.c.sha256)
                             .execution_options(stream_results=True, yield_per=1000))
    try:
        for (sha256,) in result:
            yield sha256
    finally:
        result.close()


def _name_references(session: Session, problems: list[Problem]) -> None:
    """Fill in which rows refer to each bad file."""
    by_hash = {p.sha256: p for p in problems}
    hashes = sorted(by_hash)
    v, d = ArchiveVersion, ArchiveDocument
    for start in range(0, len(hashes), LOOKUP_CHUNK):
        chunk = hashes[start:start + LOOKUP_CHUNK]
        rows = session.execute(
            select(v, d, RegisterEntry).join(d, v.document_id == d.id)
            .join(RegisterEntry, d.entry_id == RegisterEntry.id)
            .where(_live(), or_(v.sha256.in_(chunk), v.searchable_sha256.in_(chunk),
                                v.text_sha256.in_(chunk), v.thumbnail_sha256.in_(chunk)))
            .order_by(RegisterEntry.id, d.id, v.number)).all()
        for version, document, entry in rows:
            for role, sha256 in version.stored_files().items():
                if sha256 in by_hash:
                    by_hash[sha256].references.append(Reference(
                        role=role, entry_id=entry.id, entry_label=entry.label,
                        document_id=document.id, document_title=document.title,
                        version=version.number))
        for batch in session.execute(select(ScanBatch).where(ScanBatch.sha256.in_(chunk))
                                     .order_by(ScanBatch.id)).scalars():
            by_hash[batch.sha256].references.append(Reference(
                role="batch", batch_id=batch.id, document_title=batch.filename))
        for segment in session.execute(select(ScanSegment).where(
                ScanSegment.sha256.in_(chunk)).order_by(ScanSegment.id)).scalars():
            entry = segment.entry
            by_hash[segment.sha256].references.append(Reference(
                role="segment", batch_id=segment.batch_id, document_id=segment.document_id,
                entry_id=entry.id if entry else None, entry_label=entry.label if entry else "",
                document_title=f"paginile {segment.first_page}–{segment.last_page}"))
