"""Tables of the legal clock: one SLA clock per case, persistent timers, notifications.

A timer is a row with a due time. The scheduler fires due rows, each in the same
transaction as its effect and marked fired there, so a timer that fell due while
the application was stopped fires once when it starts again, and never twice.
"""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from connectors.db import Base, utcnow


class SlaClock(Base):
    """The legal term of one case: when it started, what extended or paused it."""
    __tablename__ = "sla_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("register_entry.id"))
    profile_json: Mapped[str] = mapped_column(Text)     # the SlaProfile in force
    variant: Mapped[str] = mapped_column(String(50), default="")  # e.g. "refusal"
    started_on: Mapped[date] = mapped_column(Date)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    extensions_used: Mapped[int] = mapped_column(Integer, default=0)
    paused_since: Mapped[Optional[date]] = mapped_column(Date)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)   # in the profile's unit
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running/paused/stopped
    stopped_on: Mapped[Optional[date]] = mapped_column(Date)


class Timer(Base):
    """A due row: reminder, escalation, tacit approval, or a diagram's timer event."""
    __tablename__ = "timer"
    __table_args__ = (
        Index("ix_timer_due", "fired_at", "cancelled", "due_at"),
        UniqueConstraint("instance_id", "kind", "due_at", name="uq_timer_instance_kind_due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime] = mapped_column(DateTime)      # naive UTC
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    fired_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(500), default="")


class Notification(Base):
    """A message for a person (`recipient`) or for everyone in a group."""
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_recipient", "recipient", "read_at"),
                      Index("ix_notification_group", "group_code", "read_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[Optional[str]] = mapped_column(String(100))
    group_code: Mapped[Optional[str]] = mapped_column(String(100))
    instance_id: Mapped[Optional[int]] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
