"""Absences with a substitute and signing delegations, through the pages."""
from datetime import date, timedelta

from sqlalchemy import select

from engine import runtime
from engine.models import AuditEvent, HumanTask, ProcessInstance
from engine.models_org import Absence, SigningDelegation
from webapp.database import db

from webapp_testkit import login, open_task_id, post, register_petition

TODAY = date.today()
YEAR = TODAY.year


def absence(client, **fields):
    data = {"persoana": "functionar.relatii", "inlocuitor": "functionar2.relatii",
            "de_la": TODAY.isoformat(), "pana_la": (TODAY + timedelta(days=7)).isoformat(),
            "motiv": "Concediu de odihnă", **fields}
    return post(client, "/absente", data, page_url="/absente")


def delegation(client, **fields):
    data = {"titular": "sef.relatii", "act": f"Dispoziția nr. 12/{YEAR}",
            "de_la": TODAY.isoformat(), "pana_la": TODAY.isoformat(),
            "domeniu": "corespondență curentă", **fields}
    return post(client, "/delegari", data, page_url="/delegari")


def complete(client, task_id, data):
    return post(client, f"/sarcini/{task_id}/finalizeaza", data, page_url=f"/sarcini/{task_id}")


def claim(client, task_id):
    response = post(client, f"/sarcini/{task_id}/preia", {}, page_url=f"/sarcini/{task_id}")
    assert response.status_code == 302


def walk(app, until: str) -> int:
    """Walk the only petition through the engine's API until «until» is the open step."""
    steps = [
        ("Repartizare", runtime.Actor("sef.relatii", frozenset({"sef-relatii-publice"})),
         {"assignment_decision": "repartizat", "assigned_clerk": "functionar.relatii"}),
        ("Redactare răspuns",
         runtime.Actor("functionar.relatii", frozenset({"dept-relatii-publice"})),
         {"answer": "Răspuns complet.", "outcome": "favorabil"}),
        ("Avizare", runtime.Actor("sef.relatii", frozenset({"sef-relatii-publice"})),
         {"endorsement": "avizat"}),
    ]
    with app.app_context():
        instance_id = db.session.execute(select(ProcessInstance.id)).scalar_one()
        for title, actor, data in steps:
            task = open_task(instance_id)
            if task.title == until:
                break
            assert task.title == title
            runtime.complete_task(db.session, task.id, actor, data)
            db.session.commit()
        assert open_task(instance_id).title == until
        db.session.remove()
    return instance_id


def open_task(instance_id) -> HumanTask:
    return db.session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "open")).scalar_one()


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def count(app, model) -> int:
    with app.app_context():
        return len(db.session.execute(select(model)).scalars().all())


def test_a_clerks_substitute_receives_and_completes_the_clerks_task(demo_app):
    client = login(demo_app.test_client(), "registratura")
    register_petition(client)
    instance_id = walk(demo_app, "Redactare răspuns")     # assigned to functionar.relatii

    login(client, "functionar.relatii")
    assert 'href="/absente"' in client.get("/").text          # in everyone's menu
    response = absence(client)
    assert response.status_code == 302
    page = client.get("/absente").text
    assert "Sarcini trecute acum la înlocuitor: 1." in page
    assert "Ioana Dumitru" in page and "Mihai Georgescu" in page and "în curs" in page
    assert "Redactare răspuns" not in client.get("/?view=mine").text
    with demo_app.app_context():
        task = open_task(instance_id)
        assert task.assignee == "functionar2.relatii"
        assert task.delegated_from == "functionar.relatii"
    assert {"absence.recorded", "task.delegated"} <= set(actions(demo_app))

    # The task is now the substitute's own: it is in «Preluate de mine», and the
    # substitute has the absent clerk's groups for the group list.
    login(client, "functionar2.relatii")
    task_id = open_task_id(client, "Redactare răspuns", view="mine")
    page = client.get(f"/sarcini/{task_id}").text
    assert "sarcina a trecut la înlocuitor" in page
    assert "Sarcina era a lui functionar.relatii." in page
    response = complete(client, task_id, {"answer": "Iluminatul va fi reparat.",
                                          "outcome": "favorabil"})
    assert response.status_code == 302
    with demo_app.app_context():
        done = db.session.get(HumanTask, task_id)
        assert done.status == "completed" and done.completed_by == "functionar2.relatii"
        assert open_task(instance_id).title == "Avizare"


def test_the_substitute_of_a_head_sees_the_heads_group_tasks(demo_app):
    client = login(demo_app.test_client(), "registratura")
    register_petition(client)
    login(client, "functionar.relatii")
    assert "Repartizare" not in client.get("/?view=group").text

    login(client, "sef.relatii")
    assert absence(client, persoana="sef.relatii",
                   inlocuitor="functionar.relatii").status_code == 302
    login(client, "functionar.relatii")
    task_id = open_task_id(client, "Repartizare", view="group")
    claim(client, task_id)
    response = complete(client, task_id, {"assignment_decision": "repartizat",
                                          "assigned_clerk": "functionar2.relatii"})
    assert response.status_code == 302


def test_a_clerk_cannot_record_an_absence_for_someone_else(demo_app):
    client = login(demo_app.test_client(), "functionar2.relatii")
    assert absence(client).status_code == 403           # persoana = functionar.relatii
    login(client, "sef.urbanism")                        # a head, of another department
    assert absence(client).status_code == 403
    assert count(demo_app, Absence) == 0


def test_the_head_records_an_absence_for_the_departments_people(demo_app):
    client = login(demo_app.test_client(), "sef.relatii")
    page = client.get("/absente").text
    assert '<option value="functionar.relatii"' in page      # may choose the clerks
    assert absence(client).status_code == 302
    page = client.get("/absente").text
    assert "Ioana Dumitru" in page and "Andrei Stan" in page  # recorded by the head
    assert "Sarcini trecute acum la înlocuitor: 0." in page

    login(client, "functionar.relatii")                      # the absent clerk sees it
    assert "Mihai Georgescu" in client.get("/absente").text
    login(client, "functionar.urbanism")                     # another department does not
    assert "Ioana Dumitru" not in client.get("/absente").text
    login(client, "admin")
    assert "Ioana Dumitru" in client.get("/absente").text


def test_a_substitute_from_another_department_is_refused(demo_app):
    client = login(demo_app.test_client(), "functionar.relatii")
    response = absence(client, inlocuitor="functionar.urbanism")
    assert response.status_code == 422
    assert "«Înlocuitor» trebuie să fie un coleg din compartimentul" in response.text
    response = absence(client, inlocuitor="nimeni")
    assert "«Înlocuitor»: „nimeni” nu este un utilizator activ." in response.text
    login(client, "admin")                     # an administrator may choose anyone
    assert absence(client, inlocuitor="functionar.urbanism").status_code == 302


def test_bad_dates_name_the_field_and_keep_what_was_typed(demo_app):
    client = login(demo_app.test_client(), "functionar.relatii")
    response = absence(client, de_la=(TODAY + timedelta(days=5)).isoformat(),
                       pana_la=TODAY.isoformat(), motiv="Concediu medical")
    assert response.status_code == 422
    assert "«Până la» este înaintea datei de început («De la»)." in response.text
    assert 'value="Concediu medical"' in response.text
    assert '<option value="functionar2.relatii" selected>' in response.text
    response = absence(client, pana_la=(TODAY + timedelta(days=400)).isoformat())
    assert "«Până la»: perioada poate fi de cel mult un an." in response.text
    response = absence(client, de_la="31.12.2026")
    assert "«De la»: „31.12.2026” nu este o dată validă" in response.text
    assert 'value="31.12.2026"' in response.text
    assert count(demo_app, Absence) == 0


def test_cancelling_an_absence_leaves_moved_tasks_with_the_substitute(demo_app):
    client = login(demo_app.test_client(), "registratura")
    register_petition(client)
    instance_id = walk(demo_app, "Redactare răspuns")
    login(client, "functionar.relatii")
    absence(client)
    with demo_app.app_context():
        absence_id = db.session.execute(select(Absence.id)).scalar_one()
    login(client, "functionar.urbanism")
    response = post(client, f"/absente/{absence_id}/anuleaza", {})
    assert response.status_code == 403

    login(client, "functionar.relatii")
    response = post(client, f"/absente/{absence_id}/anuleaza", {}, page_url="/absente")
    assert response.status_code == 302
    page = client.get("/absente").text
    assert "anulată" in page and "rămân la înlocuitor" in page
    assert "absence.cancelled" in actions(demo_app)
    with demo_app.app_context():
        assert open_task(instance_id).assignee == "functionar2.relatii"


def test_the_delegated_signer_signs_in_the_name_of_the_act(demo_app):
    client = login(demo_app.test_client(), "registratura")
    register_petition(client)
    instance_id = walk(demo_app, "Semnare")
    login(client, "sef.relatii")
    assert "Semnare" not in client.get("/?view=group").text

    login(client, "primar")
    assert "Delegări de semnătură" in client.get("/").text   # in the menu
    assert delegation(client).status_code == 302
    page = client.get("/delegari").text
    assert f"Dispoziția nr. 12/{YEAR}" in page and "Andrei Stan" in page and "valabilă" in page
    assert "delegation.granted" in actions(demo_app)

    login(client, "sef.relatii")
    assert f"Dispoziția nr. 12/{YEAR}" in client.get("/delegari").text   # their own
    task_id = open_task_id(client, "Semnare")
    claim(client, task_id)
    assert complete(client, task_id, {"signature": "semnat"}).status_code == 302
    with demo_app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        signer = runtime.instance_data(db.session, instance)["signer"]
        assert signer["signed_by"] == "sef.relatii"
        assert signer["signed_as"] == f"prin delegare (Dispoziția nr. 12/{YEAR})"


def test_after_revocation_the_holder_can_no_longer_sign(demo_app):
    client = login(demo_app.test_client(), "registratura")
    register_petition(client)
    instance_id = walk(demo_app, "Semnare")
    login(client, "secretar")                 # drafts the mayor's dispositions
    assert delegation(client).status_code == 302
    login(client, "sef.relatii")
    task_id = open_task_id(client, "Semnare")
    claim(client, task_id)

    login(client, "secretar")
    with demo_app.app_context():
        delegation_id = db.session.execute(select(SigningDelegation.id).where(
            SigningDelegation.holder == "sef.relatii")).scalar_one()
    response = post(client, f"/delegari/{delegation_id}/revoca", {}, page_url="/delegari")
    assert response.status_code == 302
    assert "revocată" in client.get("/delegari").text
    assert "delegation.revoked" in actions(demo_app)

    login(client, "sef.relatii")
    response = complete(client, task_id, {"signature": "semnat"})
    assert response.status_code == 302      # back to the task page, with the reason
    page = client.get(response.headers["Location"]).text
    assert "sef.relatii nu poate semna" in page and "nu are o delegare valabilă" in page
    with demo_app.app_context():
        assert open_task(instance_id).title == "Semnare"    # nothing was signed
    # The former holder releases the step; the mayor signs it.
    response = post(client, f"/sarcini/{task_id}/elibereaza", {}, page_url=f"/sarcini/{task_id}")
    assert response.status_code == 302
    login(client, "primar")
    task_id = open_task_id(client, "Semnare")
    claim(client, task_id)
    assert complete(client, task_id, {"signature": "semnat"}).status_code == 302
    with demo_app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        assert runtime.instance_data(db.session, instance)["signer"]["signed_as"] == "primar"


def test_only_the_mayor_the_secretary_and_admin_grant_delegations(demo_app):
    client = login(demo_app.test_client(), "sef.relatii")
    assert "Delegări de semnătură" not in client.get("/").text
    assert delegation(client, titular="functionar.relatii").status_code == 403
    with demo_app.app_context():
        demo_delegation = db.session.execute(select(SigningDelegation.id)).scalar_one()
    assert post(client, f"/delegari/{demo_delegation}/revoca", {}).status_code == 403
    assert count(demo_app, SigningDelegation) == 1          # the demo's own only


def test_a_delegation_needs_an_act_an_active_holder_and_a_sound_period(demo_app):
    client = login(demo_app.test_client(), "primar")
    response = delegation(client, titular="nimeni", act="",
                          pana_la=(TODAY - timedelta(days=1)).isoformat())
    assert response.status_code == 422
    assert "«Titular»: „nimeni” nu este un utilizator activ." in response.text
    assert "«Actul de delegare» este obligatoriu." in response.text
    assert "«Până la» este înaintea datei de început («De la»)." in response.text
    assert 'value="corespondență curentă"' in response.text
    assert count(demo_app, SigningDelegation) == 1
