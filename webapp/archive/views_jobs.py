"""`dosar archive jobs` and `dosar archive retry JOB_ID`: what the background queue
holds (OCR, indexing, scan batches) and putting a dead job back after fixing its
cause. The jobs themselves run in `dosar serve` or in `dosar worker` processes."""
import json

import click
from sqlalchemy import func, select

from connectors.audit import record_event
from connectors.jobs.models import BackgroundJob
from connectors.jobs.queue import retry_dead
from webapp.database import db

from .cli import archive_cli

STATUSES = ("queued", "running", "dead")


@archive_cli.command("jobs")
@click.option("--limit", default=50, show_default=True, help="Câte lucrări eșuate se arată.")
def jobs_command(limit):
    """Lucrările în fundal: câte așteaptă, câte rulează, care au eșuat definitiv."""
    counts = dict(db.session.execute(
        select(BackgroundJob.status, func.count()).where(BackgroundJob.status.in_(STATUSES))
        .group_by(BackgroundJob.status)).all())
    by_kind = db.session.execute(
        select(BackgroundJob.kind, BackgroundJob.status, func.count())
        .where(BackgroundJob.status.in_(STATUSES))
        .group_by(BackgroundJob.kind, BackgroundJob.status)
        .order_by(BackgroundJob.kind)).all()
    click.echo(f"În așteptare: {counts.get('queued', 0)}   în lucru: {counts.get('running', 0)}"
               f"   eșuate definitiv: {counts.get('dead', 0)}")
    for kind, status, count in by_kind:
        click.echo(f"  {kind:<28} {status:<8} {count}")
    running = db.session.execute(
        select(BackgroundJob).where(BackgroundJob.status == "running")
        .order_by(BackgroundJob.locked_at)).scalars().all()
    if running:
        click.echo("\nÎn lucru:")
    for job in running:
        since = job.locked_at.strftime("%Y-%m-%d %H:%M") if job.locked_at else "-"
        click.echo(f"  #{job.id} {job.kind} {_payload(job.payload_json)} — {job.locked_by}, "
                   f"din {since} (încercarea {job.attempts})")
    dead = db.session.execute(
        select(BackgroundJob).where(BackgroundJob.status == "dead")
        .order_by(BackgroundJob.finished_at.desc(), BackgroundJob.id.desc())
        .limit(limit)).scalars().all()
    if dead:
        click.echo("\nEșuate definitiv (după remediere: dosar archive retry ID):")
    for job in dead:
        when = job.finished_at.strftime("%Y-%m-%d %H:%M") if job.finished_at else "-"
        error = (job.last_error or "").strip().splitlines()
        click.echo(f"  #{job.id} {job.kind} {_payload(job.payload_json)} — {job.attempts} "
                   f"încercări, ultima la {when}")
        click.echo(f"      {error[-1] if error else '(fără mesaj)'}")
    db.session.rollback()


@archive_cli.command("retry")
@click.argument("job_id", type=int)
def retry_command(job_id):
    """Repune în coadă o lucrare eșuată definitiv (de exemplu după instalarea Tesseract)."""
    job = db.session.get(BackgroundJob, job_id)
    if job is None:
        raise click.ClickException(f"Lucrarea #{job_id} nu există.")
    if not retry_dead(db.session, job_id):
        raise click.ClickException(f"Lucrarea #{job_id} nu a eșuat definitiv (starea ei: "
                                   f"{job.status}); doar acestea se repun în coadă.")
    record_event(db.session, "cli", "job.retried", object_ref=f"job:{job_id}",
                 summary=f"{job.kind} repusă în coadă", before={"status": "dead"},
                 after={"status": "queued", "kind": job.kind})
    db.session.commit()
    click.echo(f"Lucrarea #{job_id} ({job.kind}) a fost repusă în coadă.")


def _payload(payload_json: str) -> str:
    try:
        payload = json.loads(payload_json or "{}")
    except ValueError:
        return payload_json[:80]
    return " ".join(f"{k}={v}" for k, v in sorted(payload.items()))[:80]
