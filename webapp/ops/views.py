"""Health, readiness and metrics for the machines that watch Dosar (load balancer,
Prometheus), and request logging. No login, and nothing here says anything about a
case, a person or a document: only counts, and which check failed."""
import functools
import hmac
import ipaddress
import logging
import re
import tempfile
import time
import uuid
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import false, func, select, text

from webapp.database import db

from . import logs

bp = Blueprint("ops", __name__)
log = logging.getLogger("dosar.request")
ops_log = logging.getLogger(__name__)

# Process-wide request metrics (each process is scraped on its own).
HTTP = CollectorRegistry()
REQUESTS = Counter("dosar_http_requests", "HTTP requests answered.",
                   ["method", "endpoint", "status"], registry=HTTP)
DURATION = Histogram("dosar_http_request_duration_seconds", "Time to answer a request.",
                     ["method", "endpoint"], registry=HTTP,
                     buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@bp.record_once
def _configure_logging(state):
    if state.app.config.get("LOG_FORMAT") == "json":
        logs.configure("json")


@bp.before_app_request
def _start_request():
    g.started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex


@bp.after_app_request
def _finish_request(response):
    started = g.pop("started", None)
    if started is None:
        return response
    took = time.perf_counter() - started
    # The endpoint's name, not the path: /arhiva/document/17 and /18 are one series.
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    DURATION.labels(request.method, endpoint).observe(took)
    response.headers.setdefault("X-Request-ID", g.request_id)
    log.info("%s %s %s %.1fms", request.method, request.path, response.status_code,
             took * 1000, extra={"request_id": g.request_id, "method": request.method,
                                 "path": request.path, "status": response.status_code,
                                 "duration_ms": round(took * 1000, 1)})
    return response


@bp.get("/healthz")
def healthz():
    """The process is up and answering (no database access: a slow database must not
    get healthy processes restarted)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers, its schema is at the latest migration,
    and the file storage is writable. 503 names the failed check, not its error."""
    checks = {"database": _check(_database), "migrations": "skipped",
              "storage": _check(_storage)}
    if checks["database"] == "ok":
        checks["migrations"] = _check(_migrations)
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), \
        200 if ready else 503


def _check(probe) -> str:
    try:
        return probe() or "ok"
    except Exception:
        ops_log.exception("readiness check %s failed", probe.__name__.strip("_"))
        return "failed"
    finally:
        if probe is not _storage:
            db.session.rollback()


def _database():
    db.session.execute(text("SELECT 1"))


def _migrations():
    from alembic.runtime.migration import MigrationContext
    current = MigrationContext.configure(db.session.connection()).get_current_heads()
    return None if set(current) == _code_heads() else "behind"


@functools.cache
def _code_heads() -> frozenset:
    """The newest migrations this code ships (read once: they do not change while it runs)."""
    from alembic.script import ScriptDirectory

    from webapp.migrations import alembic_config
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def _storage():
    folder = Path(current_app.config["STORAGE_DIR"])
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-"):
        pass


@bp.get("/metrics")
def metrics():
    if not _may_scrape():
        return jsonify(error="forbidden"), 403
    scrape = CollectorRegistry()
    scrape.register(_DatabaseGauges())
    body = generate_latest(HTTP) + generate_latest(scrape)
    return body, 200, {"Content-Type": CONTENT_TYPE_LATEST}


def _may_scrape() -> bool:
    """With DOSAR_METRICS_TOKEN set, only a bearer of it; without, only this machine.
    (Behind a reverse proxy on the same machine, every request comes from loopback:
    set a token, or do not forward /metrics.)"""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


class _DatabaseGauges:
    """Counted at scrape time, each with an index behind it."""

    def describe(self):
        return []      # so that registering it does not count everything once more

    def collect(self):
        from connectors.db import utcnow
        from connectors.jobs.models import BackgroundJob
        from engine.models import HumanTask
        from engine.models_sla import Timer
        from engine.timers import local_today
        from webapp import scheduler

        def count(model, *where):
            return db.session.execute(select(func.count()).select_from(model)
                                      .where(*where)).scalar_one()
        try:
            completed = count(HumanTask, HumanTask.status == "completed")
            open_tasks = count(HumanTask, HumanTask.status == "open")
            overdue = count(HumanTask, HumanTask.status == "open", HumanTask.due_on < local_today())
            jobs = dict(db.session.execute(select(BackgroundJob.status, func.count())
                                           .group_by(BackgroundJob.status)).all())
            due = count(Timer, Timer.fired_at.is_(None), Timer.cancelled == false(),
                        Timer.due_at <= utcnow())
        finally:
            db.session.rollback()
        # Exposed as dosar_tasks_completed_total: a counter that never goes down.
        yield CounterMetricFamily("dosar_tasks_completed", "Human tasks completed.",
                                  value=completed)
        yield GaugeMetricFamily("dosar_tasks_open", "Human tasks open.", value=open_tasks)
        yield GaugeMetricFamily("dosar_tasks_overdue", "Open tasks past their due date.",
                                value=overdue)
        queue = GaugeMetricFamily("dosar_jobs", "Background jobs by status.",
                                  labels=["status"])
        for status in sorted({"queued", "running", "done", "dead", *jobs}):
            queue.add_metric([status], jobs.get(status, 0))
        yield queue
        yield GaugeMetricFamily("dosar_timers_due", "Timers due and not fired yet.",
                                value=due)
        leads = scheduler.current is not None and scheduler.current.election.held()
        yield GaugeMetricFamily("dosar_scheduler_leader",
                                "1 if this process holds the scheduler lease.",
                                value=1 if leads else 0)

