"""The public-information request and the urbanism certificate through the web app:
registered at the desk, then walked through the inbox by the demo town hall's people.

The engine's day is fixed (the screens register and complete steps "today"), so that
legal terms, waits and the register numbers' dates are known in advance.
"""
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from engine import runtime

from connectors.registry.models import RegisterEntry
from engine.models import HumanTask, ProcessInstance
from engine.models_sla import SlaClock

from webapp_testkit import login, open_task_id, post

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

REQUEST_544 = {
    "procedura": "public-information", "sender_name": "Asociația Orașul Verde",
    "sender_email": "contact@orasulverde.example.ro", "pages": "1",
    "summary": "Solicită lista contractelor de salubrizare încheiate în 2025.",
    "answer_format": "email", "channel": "email",
}
REQUEST_URBANISM = {
    "procedura": "urbanism-certificate", "sender_name": "Vasile Moraru",
    "sender_address": "Str. Morii nr. 10", "land_address": "Str. Câmpului nr. 22",
    "cadastral_number": "50123", "purpose": "construire", "pages": "6",
    "summary": "Certificat de urbanism pentru construirea unei locuințe P+1E.",
}


class Calendar:
    """The town hall's day as the engine sees it, moved on by the test."""

    def __init__(self, today: date):
        self.today = today

    def __call__(self) -> date:
        return self.today


@pytest.fixture
def calendar(monkeypatch):
    calendar = Calendar(date(2026, 3, 2))
    monkeypatch.setattr(runtime, "local_today", calendar)
    return calendar


def register(client, data: dict, **files):
    page = f"/registratura/nou?procedura={data['procedura']}"
    return post(client, "/registratura/nou", {**data, **files}, page_url=page)


def complete(client, task_id, data, expect=302):
    response = post(client, f"/sarcini/{task_id}/finalizeaza", data,
                    page_url=f"/sarcini/{task_id}")
    assert response.status_code == expect, response.text
    return response


def claim(client, task_id):
    response = post(client, f"/sarcini/{task_id}/preia", {}, page_url=f"/sarcini/{task_id}")
    assert response.status_code == 302


def work(client, username, title, data, view="group"):
    """Log in as `username`, take the task from the inbox and complete it."""
    login(client, username)
    task_id = open_task_id(client, title, view=view)
    if view == "group":
        claim(client, task_id)
    complete(client, task_id, data)
    return task_id


def the_case(app):
    from webapp.database import db
    instance = db.session.execute(select(ProcessInstance)).scalar_one()
    entry = db.session.get(RegisterEntry, instance.document_id)
    clock = db.session.execute(select(SlaClock).where(
        SlaClock.instance_id == instance.id)).scalar_one()
    steps = db.session.execute(select(HumanTask.title).where(
        HumanTask.instance_id == instance.id).order_by(HumanTask.id)).scalars().all()
    return instance, entry, clock, steps


def test_both_procedures_are_offered_at_the_desk(demo_app):
    client = login(demo_app.test_client(), "registratura")
    page = client.get("/registratura/nou?procedura=petition").text
    assert "Solicitare de informații de interes public (Legea 544/2001)" in page
    assert "Certificat de urbanism (Legea 50/1991)" in page
    form = client.get("/registratura/nou?procedura=urbanism-certificate").text
    assert 'id="field-cadastral_number"' in form and 'id="field-request_scan"' in form


def test_a_public_information_request_walks_to_the_archive(demo_app, calendar):
    calendar.today = date(2026, 4, 2)             # a Thursday, ten days before Easter
    client = demo_app.test_client()
    login(client, "registratura")
    response = register(client, REQUEST_544)
    assert response.status_code == 302, response.text
    assert "Document înregistrat cu nr. 1/02.04.2026" in client.get(
        response.headers["Location"]).text

    work(client, "sef.relatii", "Repartizare", {"assignment_decision": "repartizat",
                                                "assigned_clerk": "functionar.relatii"})

    calendar.today = date(2026, 4, 6)
    login(client, "functionar.relatii")
    task_id = open_task_id(client, "Analiza solicitării", view="mine")
    page = client.get(f"/sarcini/{task_id}").text
    assert "Solicitare complexă: termenul se prelungește la 30 de zile" in page
    refused = complete(client, task_id, {"analysis_decision": "complexa"}, expect=422)
    assert "«De ce este complexă solicitarea» este obligatoriu." in refused.text
    complete(client, task_id, {"analysis_decision": "complexa",
                               "extension_reason": "Datele sunt la trei servicii diferite."})
    with demo_app.app_context():
        # 30 free days from 2 April end on Sunday 3 May: due Monday 4 May.
        assert the_case(demo_app)[1].due_on == date(2026, 5, 4)
    work(client, "functionar.relatii", "Înștiințarea solicitantului despre prelungire",
         {"extension_notice_date": "2026-04-06", "extension_notice_channel": "email"},
         view="mine")
    work(client, "functionar.relatii", "Redactare răspuns",
         {"answer": "Vă transmitem lista contractelor."}, view="mine")
    work(client, "sef.relatii", "Avizare", {"endorsement": "returnat",
                                            "endorsement_notes": "Atașați actele adiționale."})
    work(client, "functionar.relatii", "Redactare răspuns",
         {"answer": "Vă transmitem lista contractelor și actele adiționale.",
          "answer_file": (io.BytesIO(PDF), "raspuns.pdf")}, view="mine")
    work(client, "sef.relatii", "Avizare", {"endorsement": "avizat"})
    work(client, "primar", "Semnare", {"signature": "semnat"})
    calendar.today = date(2026, 4, 28)
    work(client, "registratura", "Expediere", {"dispatch_channel": "email",
                                               "dispatch_date": "2026-04-28"})

    login(client, "functionar.relatii")
    task_id = open_task_id(client, "Arhivare", view="mine")
    page = client.get(f"/sarcini/{task_id}").text
    # The file chosen for 544 requests is already selected.
    assert re.search(r'<option value="RP-2" selected>RP-2 — Solicitări de informații', page)
    complete(client, task_id, {"file_code": "RP-2"})

    with demo_app.app_context():
        instance, entry, clock, steps = the_case(demo_app)
        assert instance.status == "completed"
        assert (entry.outcome, entry.dispatched_on) == ("comunicat", date(2026, 4, 28))
        assert (entry.file_code, entry.archived_on) == ("RP-2", date(2026, 4, 28))
        assert entry.document_type == "informatii-publice"
        assert (clock.status, clock.extension_days, clock.due_on) == (
            "stopped", 20, date(2026, 5, 4))
    assert steps == ["Repartizare", "Analiza solicitării",
                     "Înștiințarea solicitantului despre prelungire", "Redactare răspuns",
                     "Avizare", "Redactare răspuns", "Avizare", "Semnare", "Expediere",
                     "Arhivare"]


def test_an_urbanism_certificate_walks_to_the_archive(demo_app, calendar):
    calendar.today = date(2026, 3, 2)             # Monday: 15 days end on Tuesday 17 March
    client = demo_app.test_client()
    login(client, "registratura")
    response = register(client, REQUEST_URBANISM,
                        request_scan=(io.BytesIO(PDF), "cerere.pdf"))
    assert response.status_code == 302, response.text
    assert "Document înregistrat cu nr. URB-1/02.03.2026" in client.get(
        response.headers["Location"]).text

    login(client, "sef.urbanism")
    task_id = open_task_id(client, "Repartizare")
    claim(client, task_id)
    assert "Radu Constantin" in client.get(f"/sarcini/{task_id}").text
    complete(client, task_id, {"assignment_decision": "repartizat",
                               "assigned_clerk": "functionar.urbanism"})

    calendar.today = date(2026, 3, 4)
    login(client, "functionar.urbanism")
    task_id = open_task_id(client, "Verificarea documentației", view="mine")
    assert "cerere.pdf" in client.get(f"/sarcini/{task_id}").text     # the scanned request
    refused = complete(client, task_id, {"documentation_check": "incompleta"}, expect=422)
    assert "«Documentele care lipsesc» este obligatoriu." in refused.text
    complete(client, task_id, {"documentation_check": "incompleta",
                               "missing_documents": "Planul de situație vizat de OCPI."})
    with demo_app.app_context():
        assert the_case(demo_app)[2].status == "paused"

    calendar.today = date(2026, 3, 11)            # a week later the documents arrive
    work(client, "registratura", "Primirea completărilor",
         {"completion_received_on": "2026-03-11", "completion_pages": "2",
          "completion_file": (io.BytesIO(PDF), "plan.pdf")})
    with demo_app.app_context():
        assert the_case(demo_app)[1].due_on == date(2026, 3, 24)
    work(client, "functionar.urbanism", "Verificarea documentației",
         {"documentation_check": "completa"}, view="mine")
    work(client, "functionar.urbanism", "Redactare certificat", {
        "certificate_number": "45", "validity_months": "12",
        "regime_juridic": "Imobil situat în intravilan, proprietate privată.",
        "regime_economic": "Folosință actuală teren arabil; permisă locuințe.",
        "regime_tehnic": "POT maxim 35%, CUT maxim 0,9, regim de înălțime P+1E.",
        "outcome": "emis"}, view="mine")
    work(client, "sef.urbanism", "Avizare", {"endorsement": "avizat"})
    work(client, "primar", "Semnare", {"signature": "semnat"})
    calendar.today = date(2026, 3, 20)
    work(client, "registratura", "Expediere", {"dispatch_channel": "ghiseu",
                                               "dispatch_date": "2026-03-20"})
    work(client, "functionar.urbanism", "Arhivare", {"file_code": "URB-1"}, view="mine")

    with demo_app.app_context():
        instance, entry, clock, steps = the_case(demo_app)
        assert instance.status == "completed"
        assert entry.register.code == "urbanism" and entry.number == 1
        assert (entry.outcome, entry.file_code) == ("emis", "URB-1")
        # Sent on 20 March, in time: the week of waiting does not count.
        assert (clock.status, clock.paused_days, clock.due_on) == (
            "stopped", 7, date(2026, 3, 24))
    assert steps == ["Repartizare", "Verificarea documentației", "Primirea completărilor",
                     "Verificarea documentației", "Redactare certificat", "Avizare", "Semnare",
                     "Expediere", "Arhivare"]
    page = client.get(f"/dosare/{instance.id}").text
    assert "Soluționat" in page
    assert 'id="urbanism_certificate"' in client.get(f"/dosare/{instance.id}/diagrama.bpmn").text


def test_an_operating_permit_is_registered_for_the_trade_department(demo_app, calendar):
    request = {"procedura": "operating-permit", "sender_name": "SC Exemplu Market SRL",
               "company_cui": "RO 123", "representative_name": "Cornel Ilie",
               "activity_address": "Str. Principală nr. 41", "caen_codes": "4711",
               "opening_hours": "Luni–Sâmbătă 07:00–22:00", "pages": "3",
               "summary": "Acord de funcționare pentru un magazin alimentar."}
    client = login(demo_app.test_client(), "registratura")
    refused = register(client, request)
    assert refused.status_code == 422
    assert "«Codul unic de înregistrare (CUI)» nu are formatul cerut." in refused.text
    response = register(client, dict(request, company_cui="RO12345678"))
    assert response.status_code == 302, response.text
    assert "Document înregistrat cu nr. 1/02.03.2026" in client.get(
        response.headers["Location"]).text
    work(client, "sef.comert", "Repartizare", {"assignment_decision": "repartizat",
                                               "assigned_clerk": "functionar.comert"})
    login(client, "functionar.comert")
    task_id = open_task_id(client, "Analiza documentației", view="mine")
    assert "aprobare tacită" in client.get(f"/sarcini/{task_id}").text
    with demo_app.app_context():
        instance, entry, clock, _ = the_case(demo_app)
        assert (entry.department, entry.document_type) == ("comert", "acord-functionare")
        assert clock.due_on == date(2026, 4, 1)
