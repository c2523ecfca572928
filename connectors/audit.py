"""The audit trail's table, at the bottom layer: the engine, the archive and the web
app all record into it. Events are only ever added, never updated or deleted."""
import json
from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, LongText, utcnow


class AuditEvent(Base):
    """Who did what, when, with the data before and after. Never updated or deleted."""
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[Optional[str]] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    instance_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    # Indexed: an entry's page reads the events about it (`entry:<id>`).
    object_ref: Mapped[Optional[str]] = mapped_column(String(255), index=True)
    summary: Mapped[str] = mapped_column(String(1000), default="")
    before_json: Mapped[Optional[str]] = mapped_column(LongText)
    after_json: Mapped[Optional[str]] = mapped_column(LongText)
    # The hash chain, filled in by the sealing step in event order (seq 1, 2, 3…):
    # chain_hash covers this event's fields and the previous event's chain_hash, so an
    # edited, deleted or reordered event breaks the chain from that point on.
    seq: Mapped[Optional[int]] = mapped_column(BigInteger, unique=True)
    chain_hash: Mapped[Optional[str]] = mapped_column(String(64))


def record_event(session: Session, actor: str | None, action: str, *, object_ref: str,
                 summary: str = "", before: dict | None = None, after: dict | None = None,
                 instance_id: int | None = None) -> None:
    """Add an event in the caller's transaction (plain JSON; dates as ISO text)."""
    def dump(value):
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str,
                                                      sort_keys=True)
    session.add(AuditEvent(actor=actor, action=action, instance_id=instance_id,
                           object_ref=object_ref, summary=summary[:1000],
                           before_json=dump(before), after_json=dump(after)))
