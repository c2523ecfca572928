"""The audit trail: every state change, who made it, when, before and after."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEvent
from .serializer import REGISTRY, dumps


def _json(value):
    return None if value is None else dumps(REGISTRY.convert(value))


def record(session: Session, actor: str | None, action: str, *, instance_id: int | None = None,
           object_ref: str | None = None, summary: str = "", before=None, after=None) -> None:
    session.add(AuditEvent(actor=actor, action=action, instance_id=instance_id,
                           object_ref=object_ref, summary=summary[:1000],
                           before_json=_json(before), after_json=_json(after)))


def history(session: Session, instance_id: int) -> list[AuditEvent]:
    """An instance's events, oldest first."""
    return session.execute(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                           .order_by(AuditEvent.at, AuditEvent.id)).scalars().all()
