"""Enqueue a message; the `mail.send` job hands it to the SMTP relay.

Sending is at least once: a worker that dies after the relay accepted a message but
before its job is marked done sends it again after the job's lease. Every message
carries a Message-ID fixed when it was enqueued, so the copies are recognisably the
same message for the recipient's mail system.
"""
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.jobs.queue import PermanentJobError, enqueue, handler

from .settings import current

SEND = "mail.send"


class MailError(ValueError):
    pass


def valid_address(address: str) -> bool:
    name, email = parseaddr(address or "")
    local, _, domain = email.partition("@")
    return bool(local and domain and "." in domain and not any(c in email for c in " \r\n"))


def enqueue_mail(session: Session, *, to: str, subject: str, body: str, key: str = "",
                 object_ref: str = "") -> bool:
    """Queue one message in the caller's transaction. False when e-mail is off.
    A `key` makes a second message with the same key, still queued, a no-op."""
    if not current().enabled:
        return False
    if not valid_address(to):
        raise MailError(f"adresa de e-mail «{to}» nu este validă")
    domain = current().sender.rpartition("@")[2].strip(">") or "localhost"
    payload = {"to": to, "subject": " ".join(subject.split())[:250], "body": body,
               "message_id": make_msgid(idstring=uuid.uuid4().hex[:12], domain=domain),
               "object_ref": object_ref}
    enqueue(session, SEND, payload, dedupe_key=f"mail:{key}" if key else None)
    return True


def compose(payload: dict) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current().sender
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Message-ID"] = payload["message_id"]
    message["Date"] = formatdate(localtime=True)
    message.set_content(payload["body"])
    return message


def _connect():
    settings = current()
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if settings.username:
        smtp.login(settings.username, settings.password)
    return smtp


@handler(SEND)
def send(session: Session, payload: dict) -> None:
    """Hand the message to the relay. A refusal for good (5xx: unknown mailbox, message
    rejected) will not change by retrying: the job goes to the dead list at once."""
    if not current().enabled:
        raise RuntimeError("e-mail nu este configurat în acest proces (DOSAR_SMTP_HOST)")
    try:
        with _connect() as smtp:
            smtp.send_message(compose(payload))
    except smtplib.SMTPRecipientsRefused as err:
        codes = [code for code, _ in err.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentJobError(f"serverul de e-mail refuză destinatarul: {err.recipients}")
        raise
    except smtplib.SMTPResponseException as err:
        if err.smtp_code >= 500 and not isinstance(err, smtplib.SMTPAuthenticationError):
            raise PermanentJobError(f"serverul de e-mail refuză mesajul: {err.smtp_code} "
                                    f"{err.smtp_error!r}") from err
        raise
    record_event(session, None, "mail.sent", object_ref=payload.get("object_ref") or
                 f"mail:{payload['message_id']}",
                 summary=f"{payload['to']}: {payload['subject']}"[:1000])
