"""Running background jobs: `dosar worker`, the scheduler inside `dosar serve`, and
`dosar archive jobs` / `retry` for the operator, on a fresh data folder (SQLite)."""
import io
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive import settings
from archive.documents import EXTRACT_TEXT, add_document
from archive.models import ArchiveVersion
from connectors.audit import AuditEvent
from connectors.db import utcnow
from connectors.jobs.models import BackgroundJob
from connectors.jobs.queue import enqueue
from ocr_testkit import BORN_DIGITAL, new_entry, text_pdf
from webapp.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSAR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DOSAR_DATABASE_URL", raising=False)
    runner = CliRunner()
    run = lambda *args: runner.invoke(main, list(args), catch_exceptions=False)  # noqa: E731
    assert run("init").exit_code == 0
    return run


@pytest.fixture
def data_app(cli):
    """The app of the same data folder, for putting things in and reading them back."""
    from webapp import create_app
    from webapp.database import db
    app = create_app()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def in_app(app, work):
    from webapp.database import db
    with app.app_context():
        try:
            return work(db.session)
        finally:
            db.session.remove()


def keep_born_digital(session):
    entry = new_entry(session)
    document = add_document(session, settings.current().storage(), entry,
                            io.BytesIO(text_pdf([BORN_DIGITAL])), filename="dispozitie.pdf",
                            content_type="application/pdf", actor="registratura")
    session.commit()
    return document.current.id


def test_worker_once_drains_the_queue_and_says_what_it_did(cli, data_app):
    version_id = in_app(data_app, keep_born_digital)

    result = cli("worker", "--once", "--kinds", EXTRACT_TEXT)
    assert result.exit_code == 0, result.output
    assert f"{EXTRACT_TEXT} #1: done" in result.output

    def check(session):
        version = session.get(ArchiveVersion, version_id)
        assert (version.text_status, version.text_source) == ("done", "pdf")
        due = session.execute(select(BackgroundJob).where(
            BackgroundJob.kind == EXTRACT_TEXT, BackgroundJob.status != "done")).all()
        assert due == []
    in_app(data_app, check)
    assert cli("worker", "--once").exit_code == 0       # nothing left: returns at once


def test_dead_jobs_are_listed_with_their_error_and_can_be_retried(cli, data_app):
    def dead_job(session):
        job = enqueue(session, "archive.index_entry", {"entry_id": 3})
        job.status, job.attempts, job.finished_at = "dead", 5, utcnow()
        job.last_error = "ConnectionError: Elasticsearch nu răspunde la 127.0.0.1:9200"
        enqueue(session, EXTRACT_TEXT, {"version_id": 1},
                run_after=utcnow() + timedelta(hours=1))
        busy = enqueue(session, EXTRACT_TEXT, {"version_id": 2})
        busy.status, busy.locked_by, busy.locked_at = "running", "worker@arhiva:812", utcnow()
        session.commit()
        return job.id
    job_id = in_app(data_app, dead_job)

    listing = cli("archive", "jobs")
    assert listing.exit_code == 0, listing.output
    assert "În așteptare: 1" in listing.output and "eșuate definitiv: 1" in listing.output
    assert "archive.extract_text version_id=2 — worker@arhiva:812" in listing.output
    assert f"#{job_id} archive.index_entry entry_id=3" in listing.output
    assert "Elasticsearch nu răspunde" in listing.output

    again = cli("archive", "retry", str(job_id))
    assert again.exit_code == 0 and "repusă în coadă" in again.output
    refused = cli("archive", "retry", str(job_id))
    assert refused.exit_code != 0 and "nu a eșuat definitiv" in refused.output
    assert cli("archive", "retry", "999").exit_code != 0

    def check(session):
        assert session.get(BackgroundJob, job_id).status == "queued"
        assert session.execute(select(AuditEvent).where(
            AuditEvent.action == "job.retried")).scalar_one().object_ref == f"job:{job_id}"
    in_app(data_app, check)


def test_the_served_app_runs_background_jobs_itself(data_app):
    from webapp import scheduler
    version_id = in_app(data_app, keep_born_digital)
    outcomes = scheduler.run_jobs(data_app)
    assert [o.kind for o in outcomes if o.status == "done"][:1] == [EXTRACT_TEXT]
    status = in_app(data_app, lambda s: s.get(ArchiveVersion, version_id).text_status)
    assert status == "done"

    data_app.config.update(TIMER_INTERVAL_SECONDS=3600, JOB_INTERVAL_SECONDS=3600)
    running = scheduler.start(data_app)
    try:
        job = running.get_job("jobs")
        assert job is not None and job.max_instances == 1
        assert running.get_job("scan-folder") is not None     # the scan station's folder
    finally:
        running.shutdown(wait=True)
    data_app.config.update(TIMER_INTERVAL_SECONDS=0, JOB_INTERVAL_SECONDS=0)
    assert scheduler.start(data_app) is None              # 0: left to dedicated workers
