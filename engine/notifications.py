"""Notifications: reminders, escalations and other news for a person or a group.

They are rows read by the inbox; `notification_added` tells whoever listens (the web
app's e-mail of reminders and escalations) in the same transaction.
"""
from blinker import Namespace
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from connectors.db import utcnow

from .models_sla import Notification

notification_added = Namespace().signal("notification-added")


def notify(session: Session, *, kind: str, message: str, recipient: str | None = None,
           group_code: str | None = None, instance_id: int | None = None) -> Notification:
    if not (recipient or group_code):
        raise ValueError("a notification needs a recipient or a group")
    note = Notification(kind=kind, message=message[:1000], recipient=recipient,
                        group_code=group_code, instance_id=instance_id)
    session.add(note)
    notification_added.send(session, notification=note)
    return note


def _for(username: str, groups) -> object:
    return or_(Notification.recipient == username, Notification.group_code.in_(sorted(groups)))


def unread(session: Session, username: str, groups, limit: int = 20) -> list[Notification]:
    return session.execute(select(Notification).where(
        _for(username, groups), Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ).scalars().all()


def mark_read(session: Session, username: str, groups, notification_ids: list[int]) -> int:
    """Only one's own (or one's groups') notifications can be marked read."""
    return session.execute(update(Notification).where(
        Notification.id.in_(notification_ids), _for(username, groups),
        Notification.read_at.is_(None)).values(read_at=utcnow())).rowcount
