"""Scans (/arhiva/scanari): upload a batch from the scan station, the recent batches
with the documents cut out of them, the manual-matching queue (a document whose
barcode could not be read or matched gets its register number typed in), the
separator sheet to print; `dosar archive watch` for the watched scan folder.

The rules live in `archive.scanning` and `archive.scan_folder`; here only parameters,
permissions (the Registratura and the archive: SCANNERS) and one action each.
"""
import io
import logging
import time
from pathlib import Path

import click
from flask import (abort, current_app, flash, g, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _, ngettext
from sqlalchemy import func, select

from archive import barcodes, scan_folder
from archive.documents import ArchiveError
from archive.models import ScanBatch, ScanSegment
from archive.pages import PDF, UnreadableFile, iter_pages
from archive.scanning import SPLIT_BATCH, entry_by_number, match_segment, receive_batch
from archive.storage import StorageError
from connectors.jobs.queue import run_pending
from connectors.registry.models import RegisterEntry
from forms.files import EXTENSIONS, TYPE_NAMES, UploadRejected, check_upload, is_empty_upload
from forms.messages import format_size, quote, text
from webapp.auth.session import group_required
from webapp.database import db
from webapp.registry.access import may_read_entry
from webapp.scheduler import worker_name

from . import SCANNERS, archive_storage, bp
from .cli import archive_cli

log = logging.getLogger(__name__)

BATCH_TYPES = ("application/pdf", "image/tiff")
ACCEPT = ",".join(BATCH_TYPES + tuple(e for t in BATCH_TYPES for e in EXTENSIONS[t]))
RECENT_BATCHES = 20
QUEUE_PAGE = 30
THUMBNAIL_WIDTH = 160
SCAN_POLL_SECONDS = 30      # how often `dosar serve` and `dosar archive watch` look


def _max_bytes() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"]


# --- batches ---------------------------------------------------------------------------------

@bp.route("/scanari")
@group_required(*SCANNERS)
def scans():
    return _scans_page()


@bp.route("/scanari", methods=["POST"])
@group_required(*SCANNERS)
def scan_upload():
    label = quote(_("Lot scanat"), g.lang)
    uploads = [u for u in request.files.getlist("batch") if not is_empty_upload(u)]
    error = None
    if not uploads:
        error = _("%(field)s: alegeți fișierul PDF sau TIFF primit de la scaner.", field=label)
    elif len(uploads) > 1:
        error = text(g.lang, "file_multiple", field=label)
    else:
        try:
            check_upload(uploads[0], BATCH_TYPES, _max_bytes())
        except UploadRejected as err:
            error = text(g.lang, err.reason, field=label, size=format_size(_max_bytes(), g.lang),
                         types=", ".join(TYPE_NAMES[t] for t in BATCH_TYPES))
    if error is None:
        try:
            batch = receive_batch(db.session, archive_storage(), uploads[0].stream.read(),
                                  uploads[0].filename or "", g.user.username, source="upload")
        except (ArchiveError, StorageError) as err:
            db.session.rollback()
            error = f"{label}: {err}"
    if error is not None:
        return _scans_page(error), 422
    db.session.commit()
    flash(ngettext("Lotul «%(name)s» (%(num)d pagină) a fost primit; se împarte în documente "
                   "în câteva momente.", "Lotul «%(name)s» (%(num)d pagini) a fost primit; se "
                   "împarte în documente în câteva momente.", batch.pages, name=batch.filename),
          "success")
    return redirect(url_for("archive.scans"))


def _scans_page(error: str | None = None):
    batches = db.session.execute(select(ScanBatch).order_by(ScanBatch.id.desc())
                                 .limit(RECENT_BATCHES)).scalars().all()
    waiting = db.session.scalar(select(func.count()).select_from(ScanSegment)
                                .where(ScanSegment.status == "unmatched"))
    return render_template("archive/scans.html", batches=batches, waiting=waiting,
                           entries=_entries_of(s for b in batches for s in b.segments),
                           error=error, accept=ACCEPT, max_size=format_size(_max_bytes(), g.lang),
                           types=", ".join(TYPE_NAMES[t] for t in BATCH_TYPES))


@bp.route("/scanari/loturi/<int:batch_id>/original")
@group_required(*SCANNERS)
def scan_batch_file(batch_id):
    """The batch as it was received (separator sheets and all)."""
    batch = db.get_or_404(ScanBatch, batch_id)
    return _stored(batch.sha256, batch.filename or f"lot-{batch.id}", as_attachment=True)


# --- the manual-matching queue ---------------------------------------------------------------

@bp.route("/scanari/de-potrivit")
@group_required(*SCANNERS)
def scan_queue():
    return _queue_page()


@bp.route("/scanari/segmente/<int:segment_id>/potrivire", methods=["POST"])
@group_required(*SCANNERS)
def scan_match(segment_id):
    segment = db.get_or_404(ScanSegment, segment_id)
    typed = request.form.get("number", "").strip()[:100]
    label = quote(_("Număr de înregistrare"), g.lang)
    if not typed:
        return _queue_page({segment.id: _("%(field)s: scrieți numărul documentului, de exemplu "
                                          "1234/22.11.2026 sau 1234/2026.", field=label)},
                           {segment.id: typed}), 422
    try:
        entry = entry_by_number(db.session, typed)
        match_segment(db.session, archive_storage(), segment, entry, g.user.username)
    except (ArchiveError, StorageError) as err:
        db.session.rollback()
        return _queue_page({segment.id: f"{label}: {err}"}, {segment.id: typed}), 422
    db.session.commit()
    flash(_("Documentul scanat (lotul %(batch)d, paginile %(first)d–%(last)d) a fost atașat la "
            "înregistrarea %(label)s.", batch=segment.batch_id, first=segment.first_page,
            last=segment.last_page, label=entry.label), "success")
    return redirect(url_for("archive.scan_queue"))


def _queue_page(errors: dict | None = None, typed: dict | None = None):
    page = request.args.get("pagina", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    waiting = select(ScanSegment).where(ScanSegment.status == "unmatched")
    total = db.session.scalar(select(func.count()).select_from(waiting.subquery()))
    segments = db.session.execute(waiting.order_by(ScanSegment.id)
                                  .offset((page - 1) * QUEUE_PAGE).limit(QUEUE_PAGE)
                                  ).scalars().all()
    # A segment sent back with an error stays on the page even if it is not on this one.
    for segment_id in (errors or {}):
        if all(s.id != segment_id for s in segments):
            extra = db.session.get(ScanSegment, segment_id)
            if extra is not None:
                segments.insert(0, extra)
    return render_template("archive/scans_queue.html", segments=segments, total=total,
                           page=page, pages=max(1, -(-total // QUEUE_PAGE)),
                           errors=errors or {}, typed=typed or {})


@bp.route("/scanari/segmente/<int:segment_id>.pdf")
@group_required(*SCANNERS)
def scan_segment_file(segment_id):
    segment = _readable_segment(segment_id)
    return _stored(segment.sha256, f"scanare-lot{segment.batch_id}-{segment.position}.pdf",
                   mimetype="application/pdf")


@bp.route("/scanari/segmente/<int:segment_id>/miniatura.png")
@group_required(*SCANNERS)
def scan_segment_thumbnail(segment_id):
    """The first page, small, drawn when asked (the queue is short-lived: not stored)."""
    segment = _readable_segment(segment_id)
    try:
        with archive_storage().open(segment.sha256) as stream:
            data = stream.read()
        first = next(iter_pages(data, PDF, dpi=36, with_text=False, only={1}))
    except (StorageError, UnreadableFile, StopIteration):
        abort(404)
    image = first.image.convert("L")
    image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 2))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    out.seek(0)
    return send_file(out, mimetype="image/png", max_age=3600)


def _readable_segment(segment_id: int) -> ScanSegment:
    """A segment matched to a confidential entry is that entry's document: only its
    readers open it (webapp/registry/access.py), whoever scanned it."""
    segment = db.get_or_404(ScanSegment, segment_id)
    entry = db.session.get(RegisterEntry, segment.entry_id) if segment.entry_id else None
    if entry is not None and entry.confidential and not may_read_entry(entry):
        abort(403)
    return segment


# --- the separator sheet ----------------------------------------------------------------------

@bp.route("/scanari/separator.pdf")
@group_required(*SCANNERS)
def scan_separator():
    pdf = barcodes.separator_sheet_pdf(current_app.config["TOWN_HALL"])
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                     download_name="foaie-separator.pdf")


# --- helpers ------------------------------------------------------------------------------------

def _stored(sha256: str, name: str, mimetype: str | None = None, as_attachment=False):
    try:
        stream = archive_storage().open(sha256)
    except StorageError:
        return render_template("error.html", title=_("Fișier indisponibil"), message=_(
            "Fișierul lipsește din depozitul arhivei. Anunțați arhivarul; comanda «dosar "
            "archive verify» arată ce fișiere lipsesc.")), 404
    return send_file(stream, mimetype=mimetype or _sniffed(name), as_attachment=as_attachment,
                     download_name=name)


def _sniffed(name: str) -> str:
    return "image/tiff" if name.lower().endswith((".tif", ".tiff")) else "application/pdf"


def _entries_of(segments) -> dict[int, RegisterEntry]:
    ids = {s.entry_id for s in segments if s.entry_id}
    if not ids:
        return {}
    return {e.id: e for e in db.session.execute(
        select(RegisterEntry).where(RegisterEntry.id.in_(ids))).scalars()}


@bp.app_template_filter("scan_pages")
def scan_pages(segment: ScanSegment) -> str:
    if segment.first_page == segment.last_page:
        return _("pagina %(n)d", n=segment.first_page)
    return _("paginile %(first)d–%(last)d", first=segment.first_page, last=segment.last_page)


# --- the watched scan folder ---------------------------------------------------------------------

def poll_scan_folder(app) -> scan_folder.PollResult | None:
    """One look at the scan folder (DOSAR_SCAN_INBOX_DIR), for the scheduler of
    `dosar serve`; the batches taken in are split by the background jobs."""
    with app.app_context():
        inbox = app.config.get("SCAN_INBOX_DIR")
        if not inbox:
            return None
        try:
            result = scan_folder.poll_once(db.session, archive_storage(), inbox)
            for name, batch_id in result.received:
                log.info("scan folder: %s → batch %s", name, batch_id)
            return result
        finally:
            db.session.remove()


@archive_cli.command("watch")
@click.option("--once", is_flag=True, help="O singură trecere prin dosar, apoi ieșire.")
@click.option("--interval", default=SCAN_POLL_SECONDS, type=float, show_default=True,
              help="Secunde între două treceri.")
def watch_command(once, interval):
    """Preia loturile scanate din dosarul de scanare (DOSAR_SCAN_INBOX_DIR) și le împarte
    în documente. Fișierele preluate trec în preluate/, cele care nu se pot citi în
    respinse/ (cu motivul într-un .txt alăturat); nimic nu se șterge."""
    inbox = current_app.config.get("SCAN_INBOX_DIR")
    if not inbox:
        raise click.ClickException("DOSAR_SCAN_INBOX_DIR nu este setat.")
    Path(inbox).mkdir(parents=True, exist_ok=True)
    if not once:
        click.echo(f"Se urmărește {inbox} la fiecare {interval:g} s (Ctrl+C pentru oprire).")
    try:
        while True:
            result = scan_folder.poll_once(db.session, archive_storage(), inbox)
            for name, batch_id in result.received:
                click.echo(f"preluat: {name} → lotul nr. {batch_id}")
            for name, reason in result.rejected:
                click.echo(f"respins: {name} — {reason}")
            for outcome in run_pending(db.session, worker=worker_name("watch"),
                                       kinds=(SPLIT_BATCH,)):
                batch_line = f"{outcome.kind} #{outcome.job_id}: {outcome.status}"
                click.echo(batch_line + (f" — {outcome.error}" if outcome.error else ""))
            db.session.remove()
            if once:
                break
            time.sleep(max(1.0, interval))
    except KeyboardInterrupt:
        click.echo("Urmărirea dosarului de scanare s-a oprit.")
