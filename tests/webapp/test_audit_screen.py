"""The auditor's screen (/audit), `dosar audit seal|verify` and the scheduler's sealing
job, on SQLite and MariaDB, through Flask's test client and the real `dosar` command."""
import csv
import io
import json
import re
from contextlib import contextmanager
from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import select, text

from connectors import audit_chain
from connectors.audit import AuditEvent, record_event
from webapp_testkit import login, post

ROW = re.compile(r'data-event-id="(\d+)" data-sealed="(yes|no)"')


@contextmanager
def database(app):
    """Database work between requests, in an app context of its own (requests of the
    test client must not share one)."""
    from webapp.database import db
    with app.app_context():
        try:
            yield db.session
            db.session.commit()
        finally:
            db.session.remove()


def add(app, actor, action, object_ref, count=1, instance_id=None, summary="rezumat"):
    with database(app) as session:
        for _ in range(count):
            record_event(session, actor, action, object_ref=object_ref, summary=summary,
                         instance_id=instance_id)
        session.commit()
        return list(session.execute(select(AuditEvent.id).where(AuditEvent.actor == actor)
                                    .order_by(AuditEvent.id)).scalars())[-count:]


def seal(app):
    with database(app) as session:
        return audit_chain.seal(session)


def sql(app, statement, **params):
    with database(app) as session:
        session.execute(text(statement), params)


def events(app, action):
    with database(app) as session:
        return [(e.actor, e.after_json) for e in session.execute(
            select(AuditEvent).where(AuditEvent.action == action)
            .order_by(AuditEvent.id)).scalars()]


def shown(html: str) -> dict[int, str]:
    return {int(i): sealed for i, sealed in ROW.findall(html)}


def test_clerks_are_refused_the_screen(demo_app):
    client = login(demo_app.test_client(), "functionar.relatii")
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert post(client, "/audit/verifica", {}).status_code == 403
    assert demo_app.test_client().get("/audit").status_code == 302      # not logged in


def test_the_auditor_searches_the_trail_and_sees_seal_states(demo_app):
    sealed = add(demo_app, "ana.pop", "archive.document_added", "entry:7", 2, instance_id=41)
    seal(demo_app)
    fresh = add(demo_app, "ana.pop", "task.completed", "entry:8", 1, instance_id=42)
    other = add(demo_app, "ion.ion", "archive.filed", "entry:70", 1)
    sql(demo_app, "UPDATE audit_event SET at = :at WHERE id = :id",
        at=datetime(2024, 3, 5, 9, 30), id=other[0])
    client = login(demo_app.test_client(), "auditor")

    page = client.get("/audit?actor=ana.pop")
    assert page.status_code == 200
    rows = shown(page.text)
    assert rows == {sealed[0]: "yes", sealed[1]: "yes", fresh[0]: "no"}
    assert list(rows) == sorted(rows, reverse=True)                      # newest first
    assert "sigilat, nr." in page.text and "nesigilat încă" in page.text

    assert set(shown(client.get("/audit?actiune=archive.*").text)) >= {*sealed, *other}
    assert fresh[0] not in shown(client.get("/audit?actiune=archive.*").text)
    assert set(shown(client.get("/audit?obiect=entry:7").text)) == set(sealed)
    assert set(shown(client.get("/audit?obiect=entry:7*").text)) == {*sealed, *other}
    assert set(shown(client.get("/audit?instanta=42").text)) == set(fresh)
    assert set(shown(client.get("/audit?de=2024-03-05&pana=2024-03-05").text)) == set(other)
    assert shown(client.get("/audit?de=2024-03-06&pana=2024-03-31").text) == {}
    bad = client.get("/audit?de=05.03.2024&instanta=abc")
    assert bad.status_code == 422 and "AAAA-LL-ZZ" in bad.text and shown(bad.text) == {}

    admin = login(demo_app.test_client(), "admin")
    assert admin.get("/audit?actor=ion.ion").status_code == 200


def test_pages_of_one_hundred_newest_first(demo_app):
    made = add(demo_app, "pagina", "task.claimed", "entry:1", 230)
    client = login(demo_app.test_client(), "auditor")
    seen, url = [], "/audit?actor=pagina"
    while url:
        html = client.get(url).text
        rows = list(shown(html))
        assert len(rows) <= 100
        seen.append(rows)
        older = re.search(r'href="([^"]+)" rel="next"', html)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert [len(rows) for rows in seen] == [100, 100, 30]
    assert [i for rows in seen for i in rows] == sorted(made, reverse=True)


def test_verify_button_reports_the_chain_and_is_recorded(demo_app):
    ids = add(demo_app, "martor", "task.completed", "entry:5", 6)
    seal(demo_app)
    client = login(demo_app.test_client(), "auditor")
    ok = post(client, "/audit/verifica", {}, page_url="/audit")
    assert ok.status_code == 200 and 'data-chain="ok"' in ok.text
    assert "Capătul lanțului" in ok.text

    sql(demo_app, "UPDATE audit_event SET summary = 'altceva' WHERE id = :id", id=ids[2])
    broken = post(client, "/audit/verifica", {}, page_url="/audit")
    assert 'data-chain="broken"' in broken.text
    assert f'data-kind="edited" data-event-id="{ids[2]}"' in broken.text
    assert f"#{ids[2]}" in broken.text
    assert [(actor, json.loads(after)["ok"]) for actor, after in
            events(demo_app, "audit.verified")] == [("auditor", True), ("auditor", False)]


def test_the_csv_export_holds_the_filtered_events(demo_app):
    ids = add(demo_app, "exportat", "entry.cancelled", "entry:9", 3, summary="=HYPERLINK(1)")
    add(demo_app, "altul", "entry.cancelled", "entry:9", 2)
    seal(demo_app)
    client = login(demo_app.test_client(), "auditor")
    response = client.get("/audit/export.csv?actor=exportat")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["id", "nr_lant", "sigiliu_sha256"]
    assert [int(r[0]) for r in rows[1:]] == sorted(ids, reverse=True)
    assert all(r[1] and len(r[2]) == 64 for r in rows[1:])              # sealed
    assert rows[1][8] == "'=HYPERLINK(1)"                                # not a formula
    [(actor, after)] = events(demo_app, "audit.exported")
    assert actor == "auditor" and "exportat" in after


def test_dosar_audit_verify_exits_1_and_names_the_broken_event(app, database_url, tmp_path,
                                                               monkeypatch):
    from webapp.cli import main
    monkeypatch.setenv("DOSAR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DOSAR_DATABASE_URL", database_url)
    runner = CliRunner()

    def dosar(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    ids = add(app, "cli-test", "task.completed", "entry:3", 5)

    unsealed = dosar("audit", "verify")
    assert unsealed.exit_code == 0 and "5 încă nesigilate" in unsealed.output
    sealed = dosar("audit", "seal")                  # and the verification's own event
    assert sealed.exit_code == 0 and "sigilate acum: 6" in sealed.output
    ok = dosar("audit", "verify", "--json")
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.output)
    assert report["ok"] and report["checked"] == 6 and report["head"]["seq"] == 6
    anchor = f"{report['head']['seq']}:{report['head']['hash']}"

    sql(app, "DELETE FROM audit_event WHERE id = :id", id=ids[1])
    sql(app, "UPDATE audit_event SET summary = 'x' WHERE id = :id", id=ids[3])
    broken = dosar("audit", "verify", "--anchor", anchor)
    assert broken.exit_code == 1
    assert f"#{ids[3]}" in broken.output and "Modificat după sigilare" in broken.output
    assert "Lanț rescris" not in broken.output          # the head noted earlier is intact
    assert "Șters: lipsesc din lanț nr. 2" in broken.output
    as_json = json.loads(dosar("audit", "verify", "--json").output)
    assert [(p["kind"], p["event_id"]) for p in as_json["problems"]] == [
        ("deleted", ids[2]), ("edited", ids[3])]
    assert as_json["first"]["kind"] == "deleted" and as_json["problems"][1]["message"]
    # verify seals nothing by itself; --seal does (the audit.* events recorded above)
    assert as_json["unsealed"] == 3
    after_seal = json.loads(dosar("audit", "verify", "--seal", "--json").output)
    assert after_seal["unsealed"] == 1                       # just this run's own event
    assert [actor for actor, _ in events(app, "audit.verified")] == ["cli"] * 5


def test_the_scheduler_leader_seals_every_minute(app):
    from webapp import scheduler
    from webapp.audit.sealing import scheduled_seal
    add(app, "planificat", "timer.fired", "timer:1", 4)
    app.config.update(TIMER_INTERVAL_SECONDS=3600, JOB_INTERVAL_SECONDS=0, BACKUP_HOUR=None)
    running = scheduler.start(app, with_jobs=False)
    try:
        job = running.get_job("audit-seal")
        assert job is not None and job.trigger.interval.total_seconds() == 60
    finally:
        scheduler.stop(running)                         # and give the lease up
    leader = scheduler.Candidate(app, holder="sef:1:a")
    follower = scheduler.Candidate(app, holder="alt:2:b")
    assert leader.campaign() and not follower.campaign()
    assert scheduled_seal(app, follower) == 0
    assert scheduled_seal(app, leader) == 4
    with database(app) as session:
        assert audit_chain.verify(session).unsealed == 0
    app.config["AUDIT_SEAL_SECONDS"] = 0
    running = scheduler.start(app, with_jobs=False)
    try:
        assert running.get_job("audit-seal") is None
    finally:
        scheduler.stop(running)
