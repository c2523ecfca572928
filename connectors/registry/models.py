"""Register tables: one register per series, one counter per register and year."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connectors.db import Base, utcnow


class Register(Base):
    """A numbering series, e.g. the general in/out register or `URB` for Urbanism."""
    __tablename__ = "register"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20), default="")  # "URB-" → URB-123/2026


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
    registered_on: Mapped[date] = mapped_column(Date)
    registered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    registered_by: Mapped[Optional[str]] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(10), default="in")  # in / out / internal
    document_type: Mapped[str] = mapped_column(String(100), default="")
    sender_name: Mapped[str] = mapped_column(String(300), default="")
    sender_address: Mapped[str] = mapped_column(String(500), default="")
    sender_email: Mapped[str] = mapped_column(String(300), default="")
    sender_reference: Mapped[str] = mapped_column(String(100), default="")  # their own no.
    sender_date: Mapped[Optional[date]] = mapped_column(Date)
    pages: Mapped[Optional[int]] = mapped_column(Integer)
    annexes: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    recipient: Mapped[str] = mapped_column(String(300), default="")
    linked_entry_id: Mapped[Optional[int]] = mapped_column(ForeignKey("register_entry.id"))
    file_code: Mapped[str] = mapped_column(String(50), default="")  # indicativ dosar
    dispatched_on: Mapped[Optional[date]] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(300), default="")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)

    register: Mapped[Register] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        """What citizens quote: `1234/22.11.2026` (with the series prefix if any)."""
        return (f"{self.register.prefix}{self.number}/"
                f"{self.registered_on.strftime('%d.%m.%Y')}")
