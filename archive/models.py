"""Archive tables: documents and their versions, scan batches, yearly folders of the
nomenclator, disposal lists and destruction records.

Files themselves live in the content-addressed storage; rows hold their SHA-256.
An original is never altered: replacing a document adds a version, and derived files
(searchable PDF, text, thumbnail) are separate stored files named on the version.
"""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connectors.db import Base, LongText, utcnow
from connectors.registry.models import NomenclatorFile, RegisterEntry


class ArchiveDocument(Base):
    """A document kept on a register entry (the request, an annex, the answer...).
    `uid` is the unique identifier Legea 135/2007 asks for on the metadata sheet."""
    __tablename__ = "archive_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entry.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    # upload (web), scan (batch or scan folder), form (a task or portal form's file)
    source: Mapped[str] = mapped_column(String(20), default="upload")
    keywords: Mapped[str] = mapped_column(String(500), default="")
    paper_location: Mapped[str] = mapped_column(String(300), default="")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
    # Set when an approved disposal destroyed the files; the row stays as the record.
    destroyed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    entry: Mapped[RegisterEntry] = relationship()
    versions: Mapped[list["ArchiveVersion"]] = relationship(
        back_populates="document", order_by="ArchiveVersion.number", lazy="selectin")

    @property
    def current(self) -> "ArchiveVersion":
        return next(v for v in self.versions if v.number == self.current_version)


class ArchiveVersion(Base):
    """One stored file of a document. Text extraction fills the derived columns."""
    __tablename__ = "archive_version"
    __table_args__ = (UniqueConstraint("document_id", "number",
                                       name="uq_archive_version_document_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("archive_document.id"))
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(300), default="")
    pages: Mapped[Optional[int]] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
    # pending → done | failed; "pdf" when the pages already carried text, "ocr" otherwise
    text_status: Mapped[str] = mapped_column(String(20), default="pending")
    text_source: Mapped[str] = mapped_column(String(10), default="")
    text_error: Mapped[str] = mapped_column(String(500), default="")
    searchable_sha256: Mapped[Optional[str]] = mapped_column(String(64))  # image + text layer
    text_sha256: Mapped[Optional[str]] = mapped_column(String(64))        # plain UTF-8 text
    thumbnail_sha256: Mapped[Optional[str]] = mapped_column(String(64))   # PNG of page 1

    document: Mapped[ArchiveDocument] = relationship(back_populates="versions")

    def stored_files(self) -> dict[str, str]:
        """role → sha256 of every file this version keeps (for verify and disposal)."""
        files = {"original": self.sha256, "searchable": self.searchable_sha256,
                 "text": self.text_sha256, "thumbnail": self.thumbnail_sha256}
        return {role: sha for role, sha in files.items() if sha}


class ScanBatch(Base):
    """A file from the scan station or an upload: many documents, cut apart by
    separator sheets. The batch itself is kept as received."""
    __tablename__ = "scan_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(20), default="upload")  # upload / folder
    pages: Mapped[Optional[int]] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued/split/failed/disposed
    error: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    received_by: Mapped[Optional[str]] = mapped_column(String(100))

    segments: Mapped[list["ScanSegment"]] = relationship(
        back_populates="batch", order_by="ScanSegment.position", lazy="selectin")


class ScanSegment(Base):
    """The pages between two separator sheets: one document. Matched to its register
    entry by the barcode on its pages, or waiting in the manual-matching queue."""
    __tablename__ = "scan_segment"
    __table_args__ = (Index("ix_scan_segment_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("scan_batch.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    first_page: Mapped[int] = mapped_column(Integer)  # 1-based, in the batch
    last_page: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))   # the segment's own PDF
    barcodes: Mapped[str] = mapped_column(String(500), default="")  # what was read
    status: Mapped[str] = mapped_column(String(20), default="unmatched")  # / matched
    reason: Mapped[str] = mapped_column(String(300), default="")  # why not matched
    entry_id: Mapped[Optional[int]] = mapped_column(ForeignKey("register_entry.id"))
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_document.id"))
    matched_by: Mapped[Optional[str]] = mapped_column(String(100))  # None = by barcode
    matched_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    batch: Mapped[ScanBatch] = relationship(back_populates="segments")
    entry: Mapped[Optional[RegisterEntry]] = relationship()


class ArchiveFolder(Base):
    """A nomenclator file for one year: the *dosar* documents are archived into.
    Open during the year, closed at year end, then kept for the file's retention."""
    __tablename__ = "archive_folder"
    __table_args__ = (UniqueConstraint("nomenclator_file_id", "year",
                                       name="uq_archive_folder_file_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomenclator_file_id: Mapped[int] = mapped_column(ForeignKey("nomenclator_file.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open/closed/disposed
    closed_on: Mapped[Optional[date]] = mapped_column(Date)
    closed_by: Mapped[Optional[str]] = mapped_column(String(100))
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str] = mapped_column(String(500), default="")
    hold_by: Mapped[Optional[str]] = mapped_column(String(100))
    hold_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    disposed_on: Mapped[Optional[date]] = mapped_column(Date)

    nomenclator_file: Mapped[NomenclatorFile] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return f"{self.nomenclator_file.code}/{self.year}"

    @property
    def disposable_from(self) -> Optional[date]:
        """Retention runs from 1 January after the file's year; None = permanent."""
        years = self.nomenclator_file.retention_years
        return None if years is None else date(self.year + years + 1, 1, 1)


class DisposalList(Base):
    """Folders proposed for destruction; nothing is destroyed until the archive
    commission approves the list (its act is recorded) and it is then executed."""
    __tablename__ = "disposal_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    # proposed → approved → executed, or proposed → rejected
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
    approval_act: Mapped[str] = mapped_column(String(300), default="")
    decided_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    decided_by: Mapped[Optional[str]] = mapped_column(String(100))
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    executed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    executed_by: Mapped[Optional[str]] = mapped_column(String(100))

    items: Mapped[list["DisposalItem"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")


class DisposalItem(Base):
    __tablename__ = "disposal_item"

    list_id: Mapped[int] = mapped_column(ForeignKey("disposal_list.id"), primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("archive_folder.id"), primary_key=True)

    folder: Mapped[ArchiveFolder] = relationship(lazy="joined")


class DestructionRecord(Base):
    """What was destroyed, when, by whom and under which approval: kept for ever."""
    __tablename__ = "destruction_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("archive_folder.id"), index=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("disposal_list.id"))
    destroyed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    destroyed_by: Mapped[str] = mapped_column(String(100))
    approval_act: Mapped[str] = mapped_column(String(300))
    metadata_json: Mapped[str] = mapped_column(LongText)  # folder, entries, documents
