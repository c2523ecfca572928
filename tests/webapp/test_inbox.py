"""The clerks' inbox: sorted by legal term, overdue tasks stand out, paged."""
import re
from datetime import date, timedelta

from sqlalchemy import select

from engine import runtime
from engine.models import AuditEvent, HumanTask
from webapp_testkit import login

REGISTRAR = runtime.Actor("registratura", frozenset({"registratura"}))


def register_on(app, day: date, sender: str, count: int = 1):
    """Register petitions as if on `day` (their 30-day term follows from it)."""
    from webapp.database import db
    with app.app_context():
        for i in range(count):
            runtime.start_instance(db.session, "petition", {
                "sender_name": f"{sender} {i}" if count > 1 else sender,
                "summary": "Cerere de test pentru inbox.", "department": "relatii-publice"},
                REGISTRAR, today=day)
        db.session.commit()
        db.session.remove()


def senders_in_order(html: str) -> list[str]:
    return re.findall(r'<span class="muted">([^<—]+?) —', html)


def test_inbox_sorted_by_due_date_with_overdue_highlighted(demo_app):
    today = date.today()
    register_on(demo_app, today - timedelta(days=5), "Recent")
    register_on(demo_app, today - timedelta(days=40), "Întârziat")     # term passed
    register_on(demo_app, today - timedelta(days=20), "Mijlociu")
    client = login(demo_app.test_client(), "sef.relatii")
    html = client.get("/?view=group").text
    assert senders_in_order(html) == ["Întârziat", "Mijlociu", "Recent"]
    overdue_row = re.search(r'<tr class="overdue"[^>]*>.*?</tr>', html, re.S).group(0)
    assert "Întârziat" in overdue_row and "depășit cu" in overdue_row
    assert html.count('class="overdue"') == 1
    html = client.get("/?view=group&sort=-due").text
    assert senders_in_order(html) == ["Recent", "Mijlociu", "Întârziat"]


def test_inbox_pages_and_counts(demo_app):
    demo_app.config["INBOX_PAGE_SIZE"] = 5
    register_on(demo_app, date.today(), "Petent", count=7)
    client = login(demo_app.test_client(), "sef.relatii")
    first = client.get("/?view=group").text
    assert len(senders_in_order(first)) == 5 and "pagina 1 din 2" in first
    second = client.get("/?view=group&page=2").text
    assert len(senders_in_order(second)) == 2
    assert "Nepreluate, în grupurile mele (7)" in first


def test_a_backlog_past_the_count_limit_reads_as_over_and_still_pages(demo_app):
    """Counting stops past INBOX_COUNT_LIMIT; every task is still reachable page by page."""
    demo_app.config.update(INBOX_PAGE_SIZE=2, INBOX_COUNT_LIMIT=3)
    register_on(demo_app, date.today(), "Petent", count=7)
    client = login(demo_app.test_client(), "sef.relatii")
    first = client.get("/?view=group").text
    assert "Nepreluate, în grupurile mele (3+)" in first
    assert "Peste 3 de sarcini, pagina 1" in first and "din" not in first.split("caption")[1]
    seen, number = [], 1
    while True:
        html = client.get(f"/?view=group&page={number}").text
        seen += senders_in_order(html)
        if f"page={number + 1}" not in html:
            break
        number += 1
    assert number == 4 and sorted(seen) == [f"Petent {i}" for i in range(7)]
    demo_app.config["INBOX_COUNT_LIMIT"] = 7          # at the limit, the exact count again
    assert "(7)" in client.get("/?view=group").text


def test_claimed_task_moves_from_group_to_my_tasks(demo_app):
    register_on(demo_app, date.today(), "Petent")
    client = login(demo_app.test_client(), "sef.relatii")
    task_id = int(re.search(r'data-task-id="(\d+)"', client.get("/?view=group").text).group(1))
    from webapp_testkit import post
    post(client, f"/sarcini/{task_id}/preia", {}, page_url=f"/sarcini/{task_id}")
    assert 'data-task-id' not in client.get("/?view=group").text
    assert f'data-task-id="{task_id}"' in client.get("/?view=mine").text
    post(client, f"/sarcini/{task_id}/elibereaza", {}, page_url=f"/sarcini/{task_id}")
    assert f'data-task-id="{task_id}"' in client.get("/?view=group").text
    from webapp.database import db
    with demo_app.app_context():
        actions = list(db.session.execute(select(AuditEvent.action).where(
            AuditEvent.action.like("task.%")).order_by(AuditEvent.id)).scalars())
    assert actions == ["task.claimed", "task.unclaimed"]


def test_every_task_shows_the_petitions_30_day_term(demo_app):
    day = date(2026, 3, 2)
    register_on(demo_app, day, "Petent")
    from webapp.database import db
    with demo_app.app_context():
        task = db.session.execute(select(HumanTask)).scalar_one()
        assert task.due_on == date(2026, 4, 1)
        task_id = task.id
    client = login(demo_app.test_client(), "sef.relatii")
    assert "01.04.2026" in client.get(f"/sarcini/{task_id}").text


def test_a_tasks_group_rows_say_whether_it_still_waits_for_someone(demo_app):
    """The group count reads the groups' `waiting` flag: it follows every change."""
    from engine import substitution
    from engine.models import HumanTaskGroup
    from webapp.database import db
    from webapp_testkit import post
    register_on(demo_app, date.today(), "Petent")
    client = login(demo_app.test_client(), "sef.relatii")

    def waiting(task_id):
        with demo_app.app_context():
            flags = set(db.session.execute(select(HumanTaskGroup.waiting).where(
                HumanTaskGroup.human_task_id == task_id)).scalars())
            db.session.remove()
        assert len(flags) == 1
        return flags.pop()
    task_id = int(re.search(r'data-task-id="(\d+)"', client.get("/?view=group").text).group(1))
    assert waiting(task_id) is True
    post(client, f"/sarcini/{task_id}/preia", {}, page_url=f"/sarcini/{task_id}")
    assert waiting(task_id) is False
    assert "Nepreluate, în grupurile mele (0)" in client.get("/?view=group").text
    post(client, f"/sarcini/{task_id}/elibereaza", {}, page_url=f"/sarcini/{task_id}")
    assert waiting(task_id) is True
    assert "Nepreluate, în grupurile mele (1)" in client.get("/?view=group").text
    with demo_app.app_context():                 # the head hands it to a colleague
        task = db.session.get(HumanTask, task_id)
        substitution.reassign(db.session, task, runtime.Actor("sef.relatii", frozenset(
            {"sef-relatii-publice"})), "functionar.relatii", "concediu")
        db.session.commit()
        db.session.remove()
    assert waiting(task_id) is False
