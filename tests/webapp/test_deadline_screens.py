"""What people see and do about legal terms: the head extends a term on the file's
page, reminders and escalations reach the inbox, a head reassigns a task."""
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from engine.models import AuditEvent, HumanTask, ProcessInstance
from webapp_testkit import login, open_task_id, post, register_petition


def _instance_id(app) -> int:
    from webapp.database import db
    with app.app_context():
        return db.session.execute(select(ProcessInstance.id)).scalar_one()


def test_the_head_extends_the_term_with_a_reason_and_a_clerk_cannot(demo_app):
    client = demo_app.test_client()
    login(client, "registratura")
    register_petition(client)
    instance_id = _instance_id(demo_app)
    page = client.get(f"/dosare/{instance_id}").text
    assert "Prelungirea termenului" not in page      # the registrar may not extend
    assert "30 de zile (OG 27/2002)" in page
    assert post(client, f"/dosare/{instance_id}/prelungire",
                {"days": "15", "reason": "x"}).status_code == 403

    login(client, "sef.relatii")
    page = client.get(f"/dosare/{instance_id}").text
    assert "Prelungirea termenului" in page and 'max="15"' in page
    response = post(client, f"/dosare/{instance_id}/prelungire", {"days": "20", "reason": "x"})
    assert "cel mult 15 zile" in client.get(response.headers["Location"]).text
    response = post(client, f"/dosare/{instance_id}/prelungire",
                    {"days": "15", "reason": "Sunt necesare verificări pe teren."})
    page = client.get(response.headers["Location"]).text
    assert "Termenul a fost prelungit până la" in page
    assert "prelungit cu 15 zile" in page
    assert "Prelungirea termenului" not in page       # once only (OG 27/2002)
    from webapp.database import db
    with demo_app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        task = db.session.execute(select(HumanTask).where(HumanTask.status == "open")).scalar_one()
        assert task.due_on == instance.due_on
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "deadline.extended")).scalar_one()
        assert event.actor == "sef.relatii" and "verificări pe teren" in event.summary


def test_an_escalation_reaches_the_head_in_the_inbox_and_can_be_marked_read(demo_app):
    from engine.wakeup import fire_due_timers
    from webapp.database import db
    client = demo_app.test_client()
    login(client, "registratura")
    register_petition(client)
    with demo_app.app_context():
        instance = db.session.execute(select(ProcessInstance)).scalar_one()
        fired = fire_due_timers(db.session, datetime.combine(instance.due_on, datetime.min.time())
                                + timedelta(days=2))
        assert [f.kind for f in fired] == ["reminder", "reminder", "escalation"]
        assert fired[0].outcome.startswith("fără efect")      # too late to remind
    login(client, "sef.relatii")
    inbox = client.get("/").text
    assert "Notificări" in inbox and "a expirat la" in inbox
    ids = re.findall(r'name="id" value="(\d+)"', inbox)
    post(client, "/notificari/citite", {"id": ids})
    assert "a expirat la" not in client.get("/").text
    login(client, "functionar.urbanism")              # not theirs
    assert "a expirat la" not in client.get("/").text


def test_the_head_reassigns_a_task_with_a_reason(demo_app):
    from engine import runtime
    from webapp.database import db
    client = demo_app.test_client()
    login(client, "registratura")
    register_petition(client)
    with demo_app.app_context():
        task = db.session.execute(select(HumanTask).where(HumanTask.status == "open")).scalar_one()
        runtime.complete_task(db.session, task.id,
                              runtime.Actor("sef.relatii", frozenset({"sef-relatii-publice"})),
                              {"assignment_decision": "repartizat",
                               "assigned_clerk": "functionar.relatii"})
        db.session.commit()
    login(client, "functionar.relatii")
    task_id = open_task_id(client, "Redactare răspuns", view="mine")
    assert "Redistribuie" not in client.get(f"/sarcini/{task_id}").text
    assert post(client, f"/sarcini/{task_id}/redistribuie",
                {"to_user": "functionar2.relatii", "reason": "x"}).status_code == 403

    login(client, "sef.relatii")
    assert "Redistribuie sarcina" in client.get(f"/sarcini/{task_id}").text
    response = post(client, f"/sarcini/{task_id}/redistribuie",
                    {"to_user": "functionar2.relatii", "reason": " "})
    assert "cere un motiv" in client.get(response.headers["Location"]).text
    post(client, f"/sarcini/{task_id}/redistribuie",
         {"to_user": "functionar2.relatii", "reason": "Ioana este în concediu medical."})
    login(client, "functionar2.relatii")
    assert open_task_id(client, "Redactare răspuns", view="mine") == task_id
    with demo_app.app_context():
        task = db.session.get(HumanTask, task_id)
        assert (task.assignee, task.delegated_from) == ("functionar2.relatii", "functionar.relatii")
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "task.reassigned")).scalar_one()
        assert event.actor == "sef.relatii" and "concediu" in event.summary
