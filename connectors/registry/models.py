"""Register tables: one register per series, one counter per register and year."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connectors.db import Base, utcnow


class Register(Base):
    """A numbering series, e.g. the general in/out register or `URB` for Urbanism."""
    __tablename__ = "register"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20), default="")  # "URB-" → URB-123/2026
    # in_out: the single register of incoming and outgoing documents;
    # internal: documents that never leave the town hall; department: a series.
    kind: Mapped[str] = mapped_column(String(20), default="in_out")
    department: Mapped[Optional[str]] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RegisterCounter(Base):
    """Last number given in a register for a year; numbering restarts on 1 January."""
    __tablename__ = "register_counter"

    register_id: Mapped[int] = mapped_column(ForeignKey("register.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class RegisterEntry(Base):
    """One line of the register (the fields of the Registrul unic de intrare-ieșire)."""
    __tablename__ = "register_entry"
    __table_args__ = (UniqueConstraint("register_id", "year", "number",
                                       name="uq_register_entry_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("register.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    registered_on: Mapped[date] = mapped_column(Date, index=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    registered_by: Mapped[Optional[str]] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(10), default="in")  # in / out / internal
    # How it arrived: ghiseu, posta, email, fax, telefon, portal.
    channel: Mapped[str] = mapped_column(String(20), default="ghiseu")
    document_type: Mapped[str] = mapped_column(String(100), default="")
    # Confidential types (social assistance, child protection…): only the departments
    # handling the entry see it, not the register's overseers.
    confidential: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sender_name: Mapped[str] = mapped_column(String(300), default="", index=True)
    sender_address: Mapped[str] = mapped_column(String(500), default="")
    sender_email: Mapped[str] = mapped_column(String(300), default="")
    sender_reference: Mapped[str] = mapped_column(String(100), default="")  # their own no.
    sender_date: Mapped[Optional[date]] = mapped_column(Date)
    pages: Mapped[Optional[int]] = mapped_column(Integer)
    annexes: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(100), default="", index=True)
    assigned_to: Mapped[str] = mapped_column(String(100), default="")  # the clerk
    recipient: Mapped[str] = mapped_column(String(300), default="")
    linked_entry_id: Mapped[Optional[int]] = mapped_column(ForeignKey("register_entry.id"))
    file_code: Mapped[str] = mapped_column(String(50), default="")  # indicativ dosar
    # The nomenclator file of the year the entry was archived into (archive_folder).
    folder_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    # The legal term (mirrored from the instance's SLA clock for register queries).
    due_on: Mapped[Optional[date]] = mapped_column(Date, index=True)
    # The answer is recorded on the entry it answers: same number, dispatch columns.
    dispatched_on: Mapped[Optional[date]] = mapped_column(Date)
    dispatch_channel: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(String(300), default="")
    archived_on: Mapped[Optional[date]] = mapped_column(Date)
    # Quoted with the number on the public status page (no login there).
    access_code: Mapped[str] = mapped_column(String(16), default="")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    cancelled_by: Mapped[Optional[str]] = mapped_column(String(100))
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")

    register: Mapped[Register] = relationship(lazy="joined")
    linked_entry: Mapped[Optional["RegisterEntry"]] = relationship(remote_side=[id])

    @property
    def label(self) -> str:
        """What citizens quote: `1234/22.11.2026` (with the series prefix if any)."""
        return (f"{self.register.prefix}{self.number}/"
                f"{self.registered_on.strftime('%d.%m.%Y')}")


class NomenclatorFile(Base):
    """A file (*dosar*) of the archival nomenclator: every registered document is
    archived into exactly one. `retention_years` None means permanent (P)."""
    __tablename__ = "nomenclator_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    department: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(300))
    retention_years: Mapped[Optional[int]] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def retention_label(self) -> str:
        return "P" if self.retention_years is None else str(self.retention_years)
