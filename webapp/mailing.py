"""Reminders and escalations also go out by e-mail, to the person or to every member of
the group they are for, when the town hall has configured its SMTP relay.

Listens to the engine's `notification_added` and enqueues the messages in the same
transaction as the notification (connectors/mail): a rolled-back reminder sends nothing.
"""
from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from connectors.mail import settings as mail_settings
from connectors.mail.outbox import enqueue_mail, valid_address
from engine.notifications import notification_added

from .auth.models import User, UserGroup

SUBJECTS = {"reminder": "Termen aproape: ", "escalation": "Termen depășit: "}


def configure(app: Flask) -> None:
    c = app.config
    mail_settings.configure(mail_settings.MailSettings(
        host=c["SMTP_HOST"], port=c["SMTP_PORT"], security=c["SMTP_SECURITY"],
        username=c["SMTP_USERNAME"], password=c["SMTP_PASSWORD"], sender=c["MAIL_FROM"]))
    import connectors.mail.outbox  # noqa: F401  (registers the `mail.send` job)
    notification_added.connect(mail_notification)


def recipients(session, notification) -> list[str]:
    if notification.recipient:
        users = select(User).where(User.username == notification.recipient)
    else:
        users = select(User).join(UserGroup).where(
            UserGroup.group_code == notification.group_code)
    return sorted({u.email for u in session.execute(users.where(User.active.is_(True)))
                   .scalars() if valid_address(u.email)})


def mail_notification(session, notification) -> None:
    if not mail_settings.current().enabled:
        return
    public_url = current_app.config["PUBLIC_URL"] if has_app_context() else ""
    link = (f"\n\n{public_url}/dosare/{notification.instance_id}"
            if notification.instance_id and public_url else "")
    subject = SUBJECTS.get(notification.kind, "") + notification.message
    for address in recipients(session, notification):
        enqueue_mail(session, to=address, subject=subject, body=notification.message + link,
                     object_ref=f"instance:{notification.instance_id}"
                     if notification.instance_id else "")
