"""The Registratura's screens: the register with its filters, an entry's page,
cancelling and joining entries, the desk form's sender suggestions."""
import json
import re
from datetime import date, timedelta

from sqlalchemy import select

from connectors.registry import register_document
from connectors.registry.models import Register, RegisterEntry
from engine.models import AuditEvent, HumanTask, ProcessInstance
from engine.models_sla import SlaClock

from webapp_testkit import login, post, register_petition

TODAY = date.today()


def add_entries(app, *specs, register="general"):
    """Register documents straight in the register (no procedure), each on its own date."""
    from webapp.database import db
    with app.app_context():
        ids = []
        for on, fields in specs:
            entry = register_document(db.session, register, on, "registratura", **fields)
            ids.append(entry.id)
        db.session.commit()
        db.session.remove()
    return ids


def urbanism_register(app) -> str:
    """The Urbanism series (`URB-12/2026`); created if the demo has none."""
    from webapp.database import db
    with app.app_context():
        register = db.session.execute(select(Register).where(
            Register.prefix == "URB-")).scalars().first()
        if register is None:
            register = Register(code="urbanism", name="Registrul Urbanism", prefix="URB-",
                                kind="department", department="urbanism")
            db.session.add(register)
            db.session.commit()
        code = register.code
        db.session.remove()
    return code


def shown(client, query="") -> list[str]:
    """The register's lines on the page, as the numbers the clerk reads."""
    page = client.get("/registratura/" + query)
    assert page.status_code == 200, page.text
    return re.findall(r'data-entry-id="\d+">\s*<td><a href="/registratura/\d+">([^<]+)</a>',
                      page.text)


def entry(app, entry_id) -> RegisterEntry:
    from webapp.database import db
    with app.app_context():
        found = db.session.get(RegisterEntry, entry_id)
        db.session.expunge(found)
        db.session.remove()
    return found


MARCH = [
    (date(2026, 3, 2), dict(sender_name="Ion Popescu", department="urbanism",
                            document_type="petitie", summary="Cerere de informații.")),
    (date(2026, 3, 10), dict(sender_name="Maria Ionescu", department="taxe",
                             document_type="cerere", summary="Certificat fiscal.")),
    (date(2026, 4, 15), dict(sender_name="SC Construct SRL", department="urbanism",
                             document_type="petitie", summary="Sesizare drum.",
                             dispatched_on=date(2026, 4, 20), outcome="favorabil")),
    (date(2026, 5, 5), dict(sender_name="Vasile Ionică", department="relatii-publice",
                            document_type="petitie", summary="Iluminat public.",
                            cancelled=True, cancel_reason="înregistrat de două ori")),
]


def test_each_filter_narrows_the_register(demo_app):
    add_entries(demo_app, *MARCH)
    client = login(demo_app.test_client(), "registratura")
    assert shown(client) == ["4/05.05.2026", "3/15.04.2026", "2/10.03.2026", "1/02.03.2026"]
    assert shown(client, "?number=2") == ["2/10.03.2026"]
    assert shown(client, "?number=2/2026") == ["2/10.03.2026"]
    assert shown(client, "?number=2/10.03.2026") == ["2/10.03.2026"]
    assert shown(client, "?number=2/2025") == []
    assert shown(client, "?from=2026-03-05&to=2026-04-30") == ["3/15.04.2026", "2/10.03.2026"]
    assert shown(client, "?from=10.03.2026&to=10.03.2026") == ["2/10.03.2026"]
    # The printed register book of the same period is one click away.
    page = client.get("/registratura/?from=2026-03-05&to=2026-04-30").text
    assert 'href="/registratura/registru.csv?de=2026-03-05&amp;pana=2026-04-30"' in page
    assert shown(client, "?sender=ionescu") == ["2/10.03.2026"]         # any case
    assert shown(client, "?sender=ION") == ["4/05.05.2026", "2/10.03.2026", "1/02.03.2026"]
    assert shown(client, "?department=urbanism") == ["3/15.04.2026", "1/02.03.2026"]
    assert shown(client, "?type=cerere") == ["2/10.03.2026"]
    assert shown(client, "?status=deschis") == ["2/10.03.2026", "1/02.03.2026"]
    assert shown(client, "?status=expediat") == ["3/15.04.2026"]
    assert shown(client, "?status=anulat") == ["4/05.05.2026"]
    # Filters combine.
    assert shown(client, "?department=urbanism&status=deschis&sender=pop") == ["1/02.03.2026"]


def test_a_series_number_is_found_by_its_label(demo_app):
    series = urbanism_register(demo_app)
    add_entries(demo_app, *MARCH[:2])
    add_entries(demo_app, (date(2026, 3, 3), dict(sender_name="Arhitect", department="urbanism",
                                                  summary="Certificat de urbanism.")),
                register=series)
    client = login(demo_app.test_client(), "registratura")
    assert shown(client, "?number=URB-1/2026") == ["URB-1/03.03.2026"]
    assert shown(client, "?number=urb-1") == ["URB-1/03.03.2026"]
    assert shown(client, "?number=1") == ["1/02.03.2026"]     # the general register's 1
    assert shown(client, "?number=XYZ-1/2026") == []


def test_overdue_means_past_the_term_and_still_open(demo_app):
    late, dispatched, cancelled, in_time = add_entries(
        demo_app,
        (TODAY - timedelta(days=40), dict(sender_name="Întârziat", due_on=TODAY - timedelta(days=3))),
        (TODAY - timedelta(days=40), dict(sender_name="Răspuns dat", due_on=TODAY - timedelta(days=3),
                                          dispatched_on=TODAY - timedelta(days=5))),
        (TODAY - timedelta(days=40), dict(sender_name="Anulat", due_on=TODAY - timedelta(days=3),
                                          cancelled=True)),
        (TODAY - timedelta(days=2), dict(sender_name="În termen", due_on=TODAY + timedelta(days=10))))
    client = login(demo_app.test_client(), "registratura")
    assert shown(client, "?status=intarziat") == [entry(demo_app, late).label]
    page = client.get("/registratura/?status=intarziat").text
    assert 'class="overdue"' in page and "depășit cu 3 zile" in page
    assert "10 zile rămase" in client.get("/registratura/?status=deschis").text


def test_sorting_and_pages_of_fifty(demo_app):
    start = date(2026, 1, 5)
    add_entries(demo_app, *[(start + timedelta(days=i // 3),
                             dict(sender_name=f"Petent {i:02d}", department="taxe",
                                  due_on=start + timedelta(days=60 - i)))
                            for i in range(55)])
    client = login(demo_app.test_client(), "registratura")
    first = shown(client)
    assert len(first) == 50 and first[0].startswith("55/")        # newest first
    second = shown(client, "?page=2")
    assert [n.split("/")[0] for n in second] == ["5", "4", "3", "2", "1"]
    assert "55 înregistrări, pagina 2 din 2" in client.get("/registratura/?page=2").text
    assert "Pagina 3 nu există; ultima pagină este 2." in client.get("/registratura/?page=3").text
    assert [n.split("/")[0] for n in shown(client, "?sort=number")[:3]] == ["1", "2", "3"]
    assert [n.split("/")[0] for n in shown(client, "?sort=-number")[:2]] == ["55", "54"]
    page = client.get("/registratura/?sort=sender").text
    assert page.index("Petent 00") < page.index("Petent 01") < page.index("Petent 49")
    page = client.get("/registratura/?sort=-sender").text
    assert page.index("Petent 54") < page.index("Petent 53")
    # The latest term first when sorting by term, descending: entry 1 (60 days out).
    assert shown(client, "?sort=-due")[0].startswith("1/")
    assert shown(client, "?sort=due")[0].startswith("55/")
    # The page links keep the filters and the order.
    page = client.get("/registratura/?department=taxe&sort=sender").text
    link = re.search(r'href="(/registratura/\?[^"]*page=2[^"]*)"', page).group(1)
    assert "department=taxe" in link and "sort=sender" in link
    assert len(shown(client, link.removeprefix("/registratura/").replace("&amp;", "&"))) == 5


def test_a_department_sees_only_its_own_entries(demo_app):
    urbanism, taxes = add_entries(
        demo_app, (date(2026, 3, 2), dict(sender_name="Pentru Urbanism", department="urbanism")),
        (date(2026, 3, 3), dict(sender_name="Pentru Taxe", department="taxe")))
    client = login(demo_app.test_client(), "functionar.taxe")
    assert shown(client) == ["2/03.03.2026"]
    assert "/registratura/registru.pdf" not in client.get("/registratura/").text
    assert client.get(f"/registratura/{urbanism}").status_code == 403
    assert client.get(f"/registratura/{taxes}").status_code == 200
    login(client, "sef.urbanism")
    assert shown(client) == ["1/02.03.2026"]
    login(client, "primar")
    assert len(shown(client)) == 2


def test_an_entrys_page_shows_its_term_holder_history_and_files(demo_app):
    import io
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    client = login(demo_app.test_client(), "registratura")
    assert register_petition(client, scan=(io.BytesIO(pdf), "petitie.pdf")).status_code == 302
    from webapp.database import db
    with demo_app.app_context():
        instance = db.session.execute(select(ProcessInstance)).scalar_one()
        entry_id, instance_id = instance.document_id, instance.id
        task = db.session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalars().first()
        step, groups = task.title, task.group_codes
        due_on = instance.due_on
    page = client.get(f"/registratura/{entry_id}").text
    assert "Gheorghe Ionescu" in page and "Str. Lungă nr. 3" in page
    assert "a înregistrat și a pornit procedura" in page                   # history
    holder = re.search(r'<table class="current-tasks">.*?</table>', page, re.S).group(0)
    assert step in holder and groups[0] in holder                           # who has it now
    left = (due_on - TODAY).days
    assert due_on.strftime("%d.%m.%Y") in page and f"{left} zile rămase" in page
    download = re.search(r'href="(/arhiva/documente/\d+/versiuni/1/original)">petitie.pdf<',
                         page).group(1)
    assert client.get(download).data == pdf
    assert f'href="/dosare/{instance_id}"' in page
    assert f'href="/registratura/{entry_id}/recipisa.pdf"' in page
    assert f'href="/registratura/{entry_id}/eticheta.pdf"' in page
    # A suspended and extended term says so.
    with demo_app.app_context():
        clock = db.session.execute(select(SlaClock).where(
            SlaClock.instance_id == instance_id)).scalar_one_or_none()
        if clock is None:
            clock = SlaClock(instance_id=instance_id, document_id=entry_id, profile_json="{}",
                             started_on=TODAY, due_on=due_on)
            db.session.add(clock)
        clock.extension_days, clock.status, clock.paused_since = 15, "paused", TODAY
        db.session.commit()
        db.session.remove()
    page = client.get(f"/registratura/{entry_id}").text
    assert "prelungit cu 15 zile" in page
    assert f"termen suspendat din {TODAY.strftime('%d.%m.%Y')}" in page
    # Overdue: the days past the term.
    (late,) = add_entries(demo_app, (TODAY - timedelta(days=40),
                                     dict(sender_name="X", due_on=TODAY - timedelta(days=4))))
    assert "depășit cu 4 zile" in client.get(f"/registratura/{late}").text


def test_cancelling_needs_a_reason_and_keeps_the_number(demo_app):
    first, second = add_entries(demo_app, (date(2026, 3, 2), dict(sender_name="Greșit")),
                                (date(2026, 3, 2), dict(sender_name="Bun")))
    client = login(demo_app.test_client(), "functionar.relatii")
    url = f"/registratura/{first}/anuleaza"
    assert post(client, url, {"reason": "dublură"}).status_code == 403
    login(client, "registratura")
    refused = post(client, url, {"reason": "  "}, page_url=f"/registratura/{first}")
    assert refused.status_code == 422 and "«Motivul anulării» este obligatoriu." in refused.text
    assert not entry(demo_app, first).cancelled
    done = post(client, url, {"reason": "înregistrat de două ori"},
                page_url=f"/registratura/{first}")
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).text
    assert "a fost anulată" in page and "înregistrat de două ori" in page
    assert "a anulat înregistrarea" in page                                # in the history
    assert shown(client, "?status=anulat") == ["1/02.03.2026"]
    assert "1/02.03.2026" in shown(client)                                # still in the register
    (third,) = add_entries(demo_app, (date(2026, 3, 3), dict(sender_name="Următorul")))
    assert entry(demo_app, third).number == 3                             # 1 is not given again
    again = post(client, url, {"reason": "încă o dată"}, page_url=f"/registratura/{first}")
    assert again.status_code == 422 and "deja anulată" in again.text
    from webapp.database import db
    with demo_app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.object_ref == f"entry:{first}")).scalar_one()
        assert (event.action, event.actor) == ("entry.cancelled", "registratura")
        assert json.loads(event.after_json)["cancelled"] is True


def test_joining_an_entry_to_another_by_its_number(demo_app):
    head, later, other = add_entries(
        demo_app,
        (date(2026, 3, 2), dict(sender_name="Ion Popescu", department="relatii-publice")),
        (date(2026, 3, 9), dict(sender_name="Ion Popescu", department="relatii-publice")),
        (date(2026, 3, 9), dict(sender_name="Altcineva", department="taxe")))
    url = f"/registratura/{later}/conexeaza"
    client = login(demo_app.test_client(), "functionar.relatii")
    assert post(client, url, {"to": "1/2026"}).status_code == 403
    login(client, "sef.urbanism")                      # head of another department
    assert post(client, url, {"to": "1/2026"}).status_code == 403
    login(client, "sef.relatii")                       # head of the entry's department
    page_url = f"/registratura/{later}"
    bad = post(client, url, {"to": "unu"}, page_url=page_url)
    assert bad.status_code == 422 and "«Conexat la» nu este un număr de înregistrare" in bad.text
    assert 'value="unu"' in bad.text
    unknown = post(client, url, {"to": "99/2026"}, page_url=page_url)
    assert unknown.status_code == 422 and "Nu există în registru înregistrarea «99/2026»" in unknown.text
    # Not one the head cannot see (another department's) either.
    hidden = post(client, url, {"to": "3/2026"}, page_url=page_url)
    assert hidden.status_code == 422 and "Nu există" in hidden.text
    itself = post(client, url, {"to": "2/09.03.2026"}, page_url=page_url)
    assert itself.status_code == 422 and "la el însuși" in itself.text
    done = post(client, url, {"to": "1/02.03.2026"}, page_url=page_url)
    assert done.status_code == 302
    assert entry(demo_app, later).linked_entry_id == head
    page = client.get(f"/registratura/{later}").text
    linked = re.search(r'<ol class="linked">.*?</ol>', page, re.S).group(0)
    assert f'<a href="/registratura/{head}">1/02.03.2026</a>' in linked
    assert "a conexat documentul (la nr. 1/02.03.2026)" in page
    # The first document of the matter lists the one joined to it.
    page = client.get(f"/registratura/{head}").text
    assert f'<a href="/registratura/{later}">2/09.03.2026</a>' in page
    assert entry(demo_app, other).linked_entry_id is None


def test_the_desk_form_suggests_earlier_senders(demo_app):
    add_entries(
        demo_app,
        (date(2026, 3, 2), dict(sender_name="Ion Popescu", sender_address="Str. Mare 1",
                                sender_email="ion@example.ro")),
        (date(2026, 3, 3), dict(sender_name="Maria Ionescu", sender_address="Str. Mică 2")),
        (date(2026, 3, 4), dict(sender_name="Ion Popescu", sender_address="Str. Mare 1",
                                sender_email="ion@example.ro")),
        (date(2026, 3, 5), dict(sender_name="Ana-Ioana Pop", sender_address="Bd. Unirii 3")),
        (date(2026, 3, 6), dict(sender_name="Gheorghe Zaharia", sender_address="Str. Lungă 9")),
        (date(2026, 3, 7), dict(sender_name="Ionel Greșit", cancelled=True)))
    client = login(demo_app.test_client(), "registratura")
    found = client.get("/registratura/expeditori?q=Io").get_json()
    # A name starting with it, or with a word starting with it; each sender once,
    # the most recently registered first; cancelled registrations left out.
    assert [s["name"] for s in found] == ["Ana-Ioana Pop", "Ion Popescu", "Maria Ionescu"]
    assert found[1] == {"name": "Ion Popescu", "address": "Str. Mare 1",
                        "email": "ion@example.ro"}
    assert [s["name"] for s in client.get("/registratura/expeditori?q=ion").get_json()] == [
        "Ion Popescu", "Maria Ionescu"]                                      # any case
    assert client.get("/registratura/expeditori?q=I").get_json() == []
    assert client.get("/registratura/expeditori?q=%25%25").get_json() == []   # % is not a wildcard
    add_entries(demo_app, *[(date(2026, 4, 1), dict(sender_name=f"Ion {i}")) for i in range(12)])
    assert len(client.get("/registratura/expeditori?q=Ion").get_json()) == 10
    login(client, "functionar.relatii")
    assert client.get("/registratura/expeditori?q=Ion").status_code == 403


def test_the_desk_form_is_keyboard_ready_and_ends_on_a_confirmation(demo_app):
    client = login(demo_app.test_client(), "registratura")
    form = client.get("/registratura/nou?procedura=petition")
    assert 'src="/static/registratura.js"' in form.text
    assert 'data-senders-url="/registratura/expeditori"' in form.text
    # Only scripts from the app itself: the policy allows no inline script.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", form.text)
    assert client.get("/static/registratura.js").status_code == 200
    response = register_petition(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert re.search(r'<p class="registered-number">Nr\. 1/\d\d\.\d\d\.\d{4}</p>', page)
    assert re.search(r'<button type="submit" autofocus>Înregistrează alt document</button>', page)
    assert "Tipărește recipisa" in page and "/recipisa.pdf" in page


def test_bad_filter_values_give_a_message_not_an_error(demo_app):
    add_entries(demo_app, *MARCH[:2])
    client = login(demo_app.test_client(), "registratura")
    page = client.get("/registratura/?from=2026-13-45&to=ieri&sort=sender;drop&status=pierdut"
                      "&page=doi&number=nr.unu&sender=%25")
    assert page.status_code == 200
    assert "«De la» nu este o dată validă" in page.text
    assert "«Până la» nu este o dată validă" in page.text
    assert "Registrul nu poate fi ordonat după «sender;drop»" in page.text
    assert "Starea «pierdut» nu există" in page.text
    assert "«Pagina» trebuie să fie un număr întreg pozitiv" in page.text
    assert "«Număr» nu este un număr de înregistrare" in page.text
    # The bad filters are ignored; "%" is searched for literally.
    assert shown(client, "?from=2026-13-45&sort=x") == ["2/10.03.2026", "1/02.03.2026"]
    assert shown(client, "?sender=%25") == []
    assert client.get("/registratura/999999").status_code == 404


def test_the_desk_offers_the_petition_first_then_the_clerks_last_choice(demo_app):
    client = demo_app.test_client()
    login(client, "registratura")
    assert 'value="petition" selected' in client.get("/registratura/nou").text
    post(client, "/registratura/nou", {
        "procedura": "public-information", "sender_name": "Ana Pop",
        "summary": "Solicit lista contractelor de achiziție din 2025."},
        page_url="/registratura/nou?procedura=public-information")
    assert 'value="public-information" selected' in client.get("/registratura/nou").text


def test_cancelling_a_registration_stops_its_procedure(demo_app):
    client = login(demo_app.test_client(), "registratura")
    register_petition(client)
    from webapp.database import db
    with demo_app.app_context():
        instance = db.session.execute(select(ProcessInstance)).scalar_one()
        entry_id, instance_id = instance.document_id, instance.id
    login(client, "sef.relatii")
    assert "Repartizare" in client.get("/?view=group").text
    login(client, "registratura")
    post(client, f"/registratura/{entry_id}/anuleaza", {"reason": "depusă din greșeală"},
         page_url=f"/registratura/{entry_id}")
    login(client, "sef.relatii")
    assert "Repartizare" not in client.get("/?view=group").text        # out of the inbox
    with demo_app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        assert instance.status == "cancelled"
        assert db.session.execute(select(SlaClock.status)).scalar_one() == "stopped"
        from engine.models_sla import Timer
        assert all(t.cancelled or t.fired_at for t in db.session.execute(select(Timer)).scalars())
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "instance.cancelled")).scalar_one()
        assert event.summary == "depusă din greșeală"
    login(client, "registratura")
    assert "Oprit: înregistrare anulată" in client.get(f"/dosare/{instance_id}").text


def test_joining_a_matter_to_an_earlier_one_brings_its_documents_along(session):
    from connectors.registry import link_entries, linked_entries
    session.add(Register(code="general", name="Registrul general", prefix=""))
    session.flush()
    first, second, third = (register_document(session, "general", date(2026, 3, d), "reg",
                                              sender_name=f"P{d}") for d in (2, 3, 4))
    link_entries(session, third, second)       # a matter headed by the second document
    link_entries(session, second, first)       # which turns out to continue the first
    session.flush()
    assert third.linked_entry_id == first.id
    assert [e.id for e in linked_entries(session, third)] == [first.id, second.id, third.id]
