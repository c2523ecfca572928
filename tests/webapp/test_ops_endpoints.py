"""Health, readiness and metrics endpoints, and JSON request logs: what a load
balancer, Prometheus and a log collector see — and what they must not see."""
import json
import logging
import re
from datetime import timedelta

from sqlalchemy import update

from engine.timers import local_today
from tests.webapp.webapp_testkit import login, register_petition


def sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    assert match, f"{name}{labels} missing from:\n{text}"
    return float(match.group(1))


def test_health_and_readiness_answer_without_login(app):
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json == {"status": "ready", "checks": {
        "database": "ok", "migrations": "ok", "storage": "ok"}}


def test_readiness_fails_when_the_database_does_not_answer(tmp_path):
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI":
                      "mysql+pymysql://dosar:secret-password@127.0.0.1:1/dosar",
                      "TESTING": True, "STORAGE_DIR": str(tmp_path), "SECRET_KEY": "t",
                      "DATA_DIR": str(tmp_path)})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200      # the process itself is fine
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json == {"status": "unavailable", "checks": {
        "database": "failed", "migrations": "skipped", "storage": "ok"}}
    assert "secret-password" not in ready.text and "127.0.0.1" not in ready.text


def test_readiness_fails_before_migrations_and_on_read_only_storage(tmp_path):
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.db'}",
                      "TESTING": True, "STORAGE_DIR": str(tmp_path / "files"),
                      "SECRET_KEY": "t", "DATA_DIR": str(tmp_path)})
    storage = tmp_path / "gone"
    storage.write_text("a file where the storage folder should be")
    app.config["STORAGE_DIR"] = str(storage)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"] == {"database": "ok", "migrations": "behind",
                                    "storage": "failed"}


def test_metrics_count_requests_by_endpoint_and_the_work_waiting(demo_app):
    from connectors.db import utcnow
    from connectors.jobs.models import BackgroundJob
    from connectors.jobs.queue import enqueue
    from engine.models import HumanTask
    from engine.models_sla import Timer
    from webapp.database import db
    healthz = 'dosar_http_requests_total{endpoint="ops.healthz",method="GET",status="200"}'
    before = demo_app.test_client().get("/metrics").text
    earlier = sample(before, healthz) if healthz in before else 0    # counted per process
    client = login(demo_app.test_client(), "registratura")
    assert register_petition(client).status_code == 302
    client.get("/healthz")
    client.get("/arhiva/document/987654")          # two documents, one endpoint series
    client.get("/arhiva/document/987655")
    # One open task falls overdue; a timer is due; a job waits in the queue.
    with demo_app.app_context():
        session = db.session
        task = session.query(HumanTask).filter_by(status="open").first()
        session.execute(update(HumanTask).where(HumanTask.id == task.id)
                        .values(due_on=local_today() - timedelta(days=2)))
        session.add(Timer(instance_id=task.instance_id, kind="reminder",
                          due_at=utcnow() - timedelta(minutes=1), payload_json="{}"))
        enqueue(session, "ops.test", {})
        session.commit()
        open_tasks = session.query(HumanTask).filter_by(status="open").count()
        queued = session.query(BackgroundJob).filter_by(status="queued").count()
        db.session.remove()

    scraped = demo_app.test_client().get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["Content-Type"].startswith("text/plain")
    text = scraped.text
    assert sample(text, healthz) == earlier + 1
    documents = [line for line in text.splitlines()
                 if line.startswith("dosar_http_requests_total") and "987654" in line]
    assert documents == []                         # labelled by endpoint, not by path
    assert 'dosar_http_request_duration_seconds_bucket{endpoint="ops.healthz"' in text
    assert sample(text, "dosar_tasks_open") == open_tasks >= 1
    assert sample(text, "dosar_tasks_overdue") == 1
    assert sample(text, "dosar_timers_due") == 1
    assert sample(text, "dosar_jobs", '{status="queued"}') == queued >= 1
    assert sample(text, "dosar_jobs", '{status="dead"}') == 0
    assert sample(text, "dosar_scheduler_leader") == 0
    assert sample(text, "dosar_tasks_completed_total") >= 0
    assert "Ionescu" not in text and "iluminat" not in text.lower()   # counts only


def test_metrics_are_for_this_machine_or_a_token_bearer(app):
    client = app.test_client()
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=far).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics", environ_base=far).status_code == 403
    assert client.get("/metrics").status_code == 403          # the token, even locally
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", headers=wrong, environ_base=far).status_code == 403
    good = {"Authorization": "Bearer s3cret-token"}
    scraped = client.get("/metrics", headers=good, environ_base=far)
    assert scraped.status_code == 200 and "dosar_tasks_open" in scraped.text


def test_json_logs_carry_the_request(app, capsys):
    from webapp.ops import logs
    logs.configure("json")
    try:
        response = app.test_client().get("/healthz?q=private", headers={"X-Request-ID": "abc-1"})
        assert response.headers["X-Request-ID"] == "abc-1"
        logging.getLogger("webapp.scheduler").warning("scheduler: %s", "lost the lease")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        logs.configure("text", logging.WARNING)
    request = next(line for line in lines if line.get("path") == "/healthz")
    assert request["request_id"] == "abc-1" and request["method"] == "GET"
    assert request["status"] == 200 and request["duration_ms"] >= 0
    assert request["logger"] == "dosar.request" and request["level"] == "info"
    assert "private" not in json.dumps(lines)             # no query strings in the logs
    other = next(line for line in lines if line["logger"] == "webapp.scheduler")
    assert other["message"] == "scheduler: lost the lease" and other["time"].endswith("+00:00")
