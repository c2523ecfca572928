"""Changing the id in the address bar gives nobody what is not theirs.

A clerk of Relații cu publicul tries Urbanism's entry, case, task, documents and
notification; the overseers (Registratura, the mayor, the archivist) try confidential
entries; each refusal is a 403 or 404 without the content, and leaves the data as it
was. The department's head and clerks read their confidential entry, and every such
read is on the audit trail."""
import io
import re

import pytest
from sqlalchemy import func, select

from webapp_testkit import csrf, login, post

from town_samples import PDF, build_town


@pytest.fixture
def town(demo_app):
    town = build_town(demo_app)
    town.app = demo_app
    return town


def as_user(app, username):
    client = login(app.test_client(), username)
    client.csrf_token = csrf(client.get("/").text)
    return client


def send(client, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": client.csrf_token},
                       content_type="multipart/form-data")


def snapshot(app, case) -> dict:
    """What a refused attempt must leave as it was."""
    from archive.models import ArchiveDocument
    from connectors.registry.models import RegisterEntry
    from engine.models import HumanTask, ProcessInstance
    from engine.models_sla import Notification, SlaClock
    from webapp.database import db
    with app.app_context():
        s = db.session
        entry = s.get(RegisterEntry, case.entry_id)
        task = s.get(HumanTask, case.task_id)
        clock = s.execute(select(SlaClock).where(
            SlaClock.instance_id == case.instance_id)).scalar_one_or_none()
        state = {
            "entry": (entry.cancelled, entry.linked_entry_id, entry.department, entry.summary),
            "task": (task.status, task.assignee, task.department),
            "instance": s.get(ProcessInstance, case.instance_id).status,
            "due": clock.due_on if clock else None,
            "documents": s.execute(select(func.count()).select_from(ArchiveDocument).where(
                ArchiveDocument.entry_id == case.entry_id)).scalar_one(),
            "unread": s.execute(select(func.count()).select_from(Notification).where(
                Notification.read_at.is_(None))).scalar_one(),
        }
        s.remove()
    return state


def reads_of(app, entry_id, action="registry.confidential_read") -> list[tuple]:
    from connectors.audit import AuditEvent
    from webapp.database import db
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.actor, AuditEvent.after_json).where(
            AuditEvent.action == action, AuditEvent.object_ref == f"entry:{entry_id}")).all()
        db.session.remove()
    return rows


def pages_of(case) -> list[str]:
    version = f"/arhiva/documente/{case.document_id}/versiuni/1"
    return [f"/registratura/{case.entry_id}", f"/registratura/{case.entry_id}/recipisa.pdf",
            f"/registratura/{case.entry_id}/eticheta.pdf", f"/dosare/{case.instance_id}",
            f"/dosare/{case.instance_id}/diagrama.bpmn",
            f"/dosare/{case.instance_id}/fisiere/{case.scan_sha256}",
            f"/sarcini/{case.task_id}", f"{version}/original", f"{version}/miniatura.png",
            f"/arhiva/documente/{case.document_uid}",
            f"/arhiva/documente/{case.document_uid}.json",
            f"/arhiva/documente/{case.document_uid}.xml"]


def actions_on(case, town) -> list[tuple[str, dict]]:
    return [
        (f"/sarcini/{case.task_id}/preia", {}),
        (f"/sarcini/{case.task_id}/finalizeaza", {"department": "relatii-publice"}),
        (f"/sarcini/{case.task_id}/elibereaza", {}),
        (f"/sarcini/{case.task_id}/redistribuie", {"to_user": "functionar.relatii"}),
        (f"/dosare/{case.instance_id}/prelungire", {"days": "10", "reason": "mai mult timp"}),
        (f"/registratura/{case.entry_id}/conexeaza", {"to_id": str(town.own.entry_id)}),
        (f"/registratura/{case.entry_id}/anuleaza", {"reason": "greșeală"}),
        (f"/arhiva/inregistrari/{case.entry_id}/documente",
         {"file": (io.BytesIO(PDF), "x.pdf"), "title": "strecurat"}),
        (f"/arhiva/documente/{case.document_id}/versiuni",
         {f"version-file-{case.document_id}": (io.BytesIO(PDF), "y.pdf")}),
    ]


def assert_refused(response, url, *secrets):
    assert response.status_code in (403, 404), (url, response.status_code)
    for secret in secrets:
        assert secret not in response.get_data(as_text=True), (url, secret)


def test_a_clerk_cannot_reach_another_departments_things_by_their_ids(town):
    app, other = town.app, town.other
    clerk = as_user(app, "functionar.relatii")
    # Their own department's entry opens: the refusals below are about the id.
    assert clerk.get(f"/registratura/{town.own.entry_id}").status_code == 200
    before = snapshot(app, other)
    for url in pages_of(other):
        assert_refused(clerk.get(url), url, "sesizare despre un gard", "Petent Urbanism:")
    for url, data in actions_on(other, town):
        assert_refused(send(clerk, url, data), url, "sesizare despre un gard")
    # Urbanism's notification (its head's group) is not the clerk's to mark read.
    assert send(clerk, "/notificari/citite", {"id": str(town.notification_id)}).status_code == 302
    assert snapshot(app, other) == before
    # Nor a confidential entry of another department.
    for url in pages_of(town.confidential_other):
        assert_refused(clerk.get(url), url, "familiei Avram")


def test_the_overseers_see_a_confidential_entrys_line_masked_and_nothing_more(town):
    app, secret = town.app, town.confidential_own
    before = snapshot(app, secret)
    for username in ("registratura", "primar", "arhivar"):
        client = as_user(app, username)
        register = client.get("/registratura/").get_data(as_text=True)
        line = re.search(r'<tr[^>]*data-entry-id="%d">(.*?)</tr>' % secret.entry_id,
                         register, re.S)
        assert line, f"{username} does not see the confidential entry's line"
        assert "confidențial" in line.group(1)
        assert "plângere" not in line.group(1) and "Petent Confidențial" not in line.group(1)
        assert f'href="/registratura/{secret.entry_id}"' not in line.group(1)
        assert "Relații cu publicul" in line.group(1)          # department stays
        # Its sender's name does not find it in the register either.
        found = client.get("/registratura/", query_string={"sender": "Petent Confidențial"})
        assert f'data-entry-id="{secret.entry_id}"' not in found.text
        for url in pages_of(secret):
            if username == "registratura" and url.endswith(("recipisa.pdf", "eticheta.pdf")):
                continue        # the desk prints the citizen's receipt the day it registers
            assert_refused(client.get(url), url, "plângere disciplinară", "Petent Confidențial")
        for url, data in actions_on(secret, town):
            assert_refused(send(client, url, data), url, "plângere disciplinară")
    # The desk's scan, once matched to the confidential entry, is its document too.
    from archive.models import ScanSegment
    from webapp.database import db
    with app.app_context():
        segment = db.session.get(ScanSegment, town.segment_id)
        segment.entry_id, segment.status = secret.entry_id, "matched"
        db.session.commit()
        db.session.remove()
    for username in ("registratura", "arhivar"):
        url = f"/arhiva/scanari/segmente/{town.segment_id}.pdf"
        assert_refused(as_user(app, username).get(url), url)
    # The register book shows the line, masked.
    mayor = as_user(app, "primar")
    book = mayor.get("/registratura/registru.csv").get_data(as_text=True)
    assert "plângere disciplinară" not in book and "confidențial" in book
    assert mayor.get("/registratura/registru.pdf").status_code == 200
    # The desk's sender autocomplete does not offer a confidential entry's sender.
    senders = as_user(app, "registratura").get("/registratura/expeditori?q=Petent").json
    names = {s["name"] for s in senders}
    assert "Petent Urbanism:" in names and "Petent Confidențial:" not in names
    assert snapshot(app, secret) == before
    assert reads_of(app, secret.entry_id) == []      # nothing was read


def test_the_desk_prints_a_confidential_receipt_on_the_day_and_it_is_recorded(town):
    app, secret = town.app, town.confidential_other
    desk = as_user(app, "registratura")
    assert desk.get(f"/registratura/{secret.entry_id}/recipisa.pdf").status_code == 200
    assert [actor for actor, _ in reads_of(app, secret.entry_id)] == ["registratura"]
    # The page after registering gives the number, not the case.
    page = desk.get(f"/registratura/{secret.entry_id}/inregistrat").get_data(as_text=True)
    assert "familiei Avram" not in page and "confidențial" in page


def test_the_department_and_admin_read_a_confidential_entry_and_each_read_is_recorded(town):
    app, secret = town.app, town.confidential_own
    for username in ("sef.relatii", "functionar.relatii", "admin"):
        client = as_user(app, username)
        page = client.get(f"/registratura/{secret.entry_id}")
        assert page.status_code == 200 and "plângere disciplinară" in page.text, username
        download = client.get(f"/arhiva/documente/{secret.document_id}/versiuni/1/original")
        assert download.status_code == 200 and download.data == PDF
    # Working on the case reads it too: the task page is a recorded read.
    assert as_user(app, "sef.relatii").get(f"/sarcini/{secret.task_id}").status_code == 200
    readers = [actor for actor, _ in reads_of(app, secret.entry_id)]
    assert readers.count("sef.relatii") == 3 and readers.count("admin") == 2
    downloads = reads_of(app, secret.entry_id, "archive.document_read")
    assert len(downloads) == 3 and all('"confidential": true' in after for _, after in downloads)
    # The head lists it in full in the register; the head of another department not at all.
    register = as_user(app, "sef.relatii").get("/registratura/").text
    assert "plângere disciplinară" in register
    other_head = as_user(app, "sef.urbanism")
    assert f'data-entry-id="{secret.entry_id}"' not in other_head.get("/registratura/").text
    assert_refused(other_head.get(f"/registratura/{secret.entry_id}"), "page", "plângere")


def test_the_archive_search_finds_a_confidential_entry_only_for_its_readers(town):
    from archive.documents import INDEX_ENTRY
    from connectors.jobs.queue import run_pending
    from webapp.database import db
    app = town.app
    with app.app_context():
        assert all(o.status == "done" for o in run_pending(db.session, kinds=(INDEX_ENTRY,)))
        db.session.remove()
    words = {"q": "plângere disciplinară"}
    for username in ("registratura", "primar", "arhivar", "functionar.urbanism"):
        result = as_user(app, username).get("/arhiva/", query_string=words).text
        assert f"/registratura/{town.confidential_own.entry_id}" not in result, username
    for username in ("sef.relatii", "admin"):
        result = as_user(app, username).get("/arhiva/", query_string=words).text
        assert f"/registratura/{town.confidential_own.entry_id}" in result, username
    # The same words the overseers may read are still found: only the entry is hidden.
    found = as_user(app, "registratura").get("/arhiva/", query_string={"q": "gard"}).text
    assert f"/registratura/{town.other.entry_id}" in found


def test_a_confidential_document_type_is_confidential_at_registration(demo_app, tmp_path,
                                                                        monkeypatch):
    """A procedure registering a confidential type (here a copy of the petition as
    social assistance) marks its entries without the desk ticking anything."""
    import json
    import shutil
    from pathlib import Path
    from connectors.registry.models import RegisterEntry
    from engine.deployment import deploy_folder
    from webapp.database import db
    processes = Path(__file__).resolve().parents[2] / "processes"
    shutil.copytree(processes / "circuit", tmp_path / "circuit")
    shutil.copytree(processes / "petition", tmp_path / "social")
    meta = json.loads((tmp_path / "social" / "procedure.json").read_text())
    meta.update(name="social-assistance", title="Ajutor social (Legea 416/2001)",
                document_type="asistenta-sociala")
    (tmp_path / "social" / "procedure.json").write_text(json.dumps(meta))
    with demo_app.app_context():
        deploy_folder(db.session, tmp_path / "social", actor="analist")
        db.session.commit()
        db.session.remove()
    desk = login(demo_app.test_client(), "registratura")
    data = {"procedura": "social-assistance", "sender_name": "Elena Avram", "pages": "1",
            "summary": "Cerere de ajutor social pentru familie", "department": "urbanism"}
    response = post(desk, "/registratura/nou", data,
                    page_url="/registratura/nou?procedura=social-assistance")
    assert response.status_code == 302, response.text
    # The town hall may set its own list: then the same type is an ordinary one.
    monkeypatch.setenv("DOSAR_CONFIDENTIAL_TYPES", "medical")
    assert post(desk, "/registratura/nou", data,
                page_url="/registratura/nou?procedura=social-assistance").status_code == 302
    with demo_app.app_context():
        marks = db.session.execute(select(RegisterEntry.confidential).where(
            RegisterEntry.document_type == "asistenta-sociala")
            .order_by(RegisterEntry.id)).scalars().all()
        db.session.remove()
    assert marks == [True, False]
