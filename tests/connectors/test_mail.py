"""E-mail through a real SMTP server on loopback (aiosmtpd): reminders reach the person
or the group, a procedure's `mail.send` step writes to the citizen, a refused recipient
goes to the dead list at once, a relay that is down is retried, and nothing is sent for
a change that rolled back."""
import json
import socket
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from connectors.audit import AuditEvent
from connectors.db import utcnow
from connectors.jobs.models import BackgroundJob
from connectors.jobs.queue import run_pending
from engine import notifications, runtime
from engine.deployment import deploy_folder


@pytest.fixture
def database_url(tmp_path):          # the queue itself is tested on both databases
    return f"sqlite:///{tmp_path / 'dosar.db'}"


class Inbox:
    """What the relay accepted; RCPT to `refuz@…` is refused for good (550)."""
    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuz@"):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay:
    def __init__(self):
        self.inbox, self.port = Inbox(), free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def relay():
    relay = Relay()
    relay.start()
    yield relay, relay.inbox
    relay.stop()


@pytest.fixture
def mail_app(demo_app, relay):
    from webapp.mailing import configure
    demo_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=relay[0].port,
                           SMTP_SECURITY="none", MAIL_FROM="Primăria Test <dosar@primarie.test>",
                           PUBLIC_URL="https://dosar.primarie.test")
    configure(demo_app)
    yield demo_app
    demo_app.config["SMTP_HOST"] = ""
    configure(demo_app)


def set_email(session, username, address):
    from webapp.auth.models import User
    session.execute(select(User).where(User.username == username)).scalar_one().email = address


def test_a_reminder_reaches_the_person_and_an_escalation_the_whole_group(mail_app, relay,
                                                                         session):
    _, inbox = relay
    set_email(session, "functionar.relatii", "ana@primarie.test")
    set_email(session, "sef.relatii", "sef@primarie.test")
    session.commit()
    notifications.notify(session, kind="reminder", recipient="functionar.relatii",
                         message="Petiția 12/2026 are termen mâine.", instance_id=7)
    notifications.notify(session, kind="escalation", group_code="sef-relatii-publice",
                         message="Petiția 12/2026 a depășit termenul.")
    session.commit()
    assert inbox.messages == []                     # nothing leaves from the request
    outcomes = run_pending(session)
    assert [o.status for o in outcomes] == ["done", "done"]
    by_to = {m["To"]: m for m in inbox.messages}
    assert set(by_to) == {"ana@primarie.test", "sef@primarie.test"}
    reminder = by_to["ana@primarie.test"]
    assert reminder["Subject"] == "Termen aproape: Petiția 12/2026 are termen mâine."
    assert "https://dosar.primarie.test/dosare/7" in reminder.get_content()
    assert reminder["From"] == "Primăria Test <dosar@primarie.test>"
    assert by_to["sef@primarie.test"]["Subject"].startswith("Termen depășit: ")
    sent = session.execute(select(AuditEvent.summary).where(
        AuditEvent.action == "mail.sent")).scalars().all()
    assert sorted(s.split(":")[0] for s in sent) == ["ana@primarie.test", "sef@primarie.test"]


def test_nothing_is_sent_for_a_change_that_rolled_back_or_when_mail_is_off(mail_app, relay,
                                                                          session):
    from webapp.mailing import configure
    _, inbox = relay
    set_email(session, "functionar.relatii", "ana@primarie.test")
    session.commit()
    notifications.notify(session, kind="reminder", recipient="functionar.relatii",
                         message="Nu pleacă.")
    session.rollback()
    mail_app.config["SMTP_HOST"] = ""
    configure(mail_app)
    notifications.notify(session, kind="reminder", recipient="functionar.relatii",
                         message="Nici acesta.")
    session.commit()
    assert session.execute(select(BackgroundJob)).scalars().all() == []
    assert run_pending(session) == [] and inbox.messages == []


def test_a_refused_recipient_is_dead_at_once_and_a_relay_that_is_down_is_retried(
        mail_app, relay, session):
    from connectors.mail.outbox import enqueue_mail
    server, inbox = relay
    enqueue_mail(session, to="refuz@primarie.test", subject="Răspuns", body="…")
    session.commit()
    [refused] = run_pending(session)
    job = session.get(BackgroundJob, refused.job_id)
    assert (job.status, job.attempts) == ("dead", 1)
    assert "refuz@primarie.test" in job.last_error

    server.stop()                                    # the relay is down for a while
    enqueue_mail(session, to="ion@exemplu.ro", subject="Răspuns la petiție", body="Bună ziua")
    session.commit()
    [later] = run_pending(session)
    job = session.get(BackgroundJob, later.job_id)
    assert (job.status, job.attempts) == ("queued", 1) and job.run_after > utcnow()
    server.start()
    job.run_after = utcnow() - timedelta(seconds=1)
    session.commit()
    assert [o.status for o in run_pending(session)] == ["done"]
    assert [m["To"] for m in inbox.messages] == ["ion@exemplu.ro"]


DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="answer" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="write" name="Scrie petentului">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="mail.send" resultVariable="mail"><spiffworkflow:parameters>
        <spiffworkflow:parameter id="to_field" type="str" value="'sender_email'" />
        <spiffworkflow:parameter id="subject" type="str" value="'Cererea $registration_label'" />
        <spiffworkflow:parameter id="body" type="str" value="'Bună ziua, $sender_name. Totalul: ${amount}'" />
      </spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="write" />
    <bpmn:sequenceFlow id="f2" sourceRef="write" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_procedure_writes_to_the_citizen_from_a_service_task(mail_app, relay, session,
                                                               tmp_path):
    _, inbox = relay
    folder = tmp_path / "answer"
    folder.mkdir()
    (folder / "answer.bpmn").write_text(DIAGRAM, encoding="utf-8")
    (folder / "procedure.json").write_text(json.dumps({
        "name": "answer", "title": "Răspuns", "process_id": "answer"}), encoding="utf-8")
    deploy_folder(session, folder)
    session.commit()
    actor = runtime.Actor("registratura", frozenset({"registratura"}))
    instance = runtime.start_instance(session, "answer", {
        "sender_name": "Ion Popescu", "sender_email": "ion@exemplu.ro", "amount": 12,
        "registration": {"label": "12/23.11.2026"}}, actor, today=date(2026, 11, 23))
    no_address = runtime.start_instance(session, "answer", {"sender_name": "Fără adresă"},
                                        actor, today=date(2026, 11, 23))
    session.commit()
    assert instance.status == no_address.status == "completed"
    run_pending(session)
    [message] = inbox.messages
    assert message["To"] == "ion@exemplu.ro" and message["Subject"] == "Cererea 12/23.11.2026"
    assert message.get_content().strip() == "Bună ziua, Ion Popescu. Totalul: 12"


def test_placeholders_reach_plain_values_never_attributes():
    from connectors.mail.operations import _fields
    from string import Template
    fields = _fields({"sender_name": "Ion", "registration": {"label": "1/2026", "x": object()}})
    assert fields == {"sender_name": "Ion", "registration_label": "1/2026"}
    assert Template("$sender_name ${sender_name.__class__}").safe_substitute(fields) \
        == "Ion ${sender_name.__class__}"
