"""Files on register entries: the «Documente» section of an entry's page (documents,
their versions, text status, thumbnail), adding a document or a new version, the
audited downloads; and `dosar archive verify`.

Every handler first finds the entry and checks that the user may read it
(`webapp.registry.access`), so a file is never reachable by a guessed number.
"""
import json
import sys

import click
from flask import (abort, current_app, flash, g, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _
from sqlalchemy import select

from archive.documents import ArchiveError, add_document, add_version
from archive.models import ArchiveDocument, DestructionRecord
from archive.storage import StorageError
from archive.verify import verify_archive
from connectors.audit import record_event
from connectors.registry.models import RegisterEntry
from forms.files import (EXTENSIONS, SUPPORTED_TYPES, TYPE_NAMES, UploadRejected,
                         check_upload, is_empty_upload)
from forms.messages import format_size, quote, text
from webapp.auth.models import User
from webapp.auth.session import login_required
from webapp.database import db, write_transaction
from webapp.registry.access import may_read_entry, own_departments, readable_entry
from webapp.registry.views import _entry_page as entry_page

from . import archive_storage, bp
from .cli import archive_cli

UPLOADERS = frozenset({"registratura", "arhiva"})   # besides the entry's own department
ACCEPT = ",".join(SUPPORTED_TYPES + tuple(e for t in SUPPORTED_TYPES for e in EXTENSIONS[t]))


def may_add(entry: RegisterEntry) -> bool:
    """Who may put files on an entry: whoever reads it and is the Registratura, the
    archive, or works in (or heads) the entry's department."""
    return may_read_entry(entry) and bool(
        g.user.groups & UPLOADERS or entry.department in own_departments())


def _max_bytes() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"]


@bp.app_template_global("entry_archive")
def entry_archive(entry: RegisterEntry) -> dict:
    """What the entry page's «Documente» section shows (template global, so the
    register's page only includes the section)."""
    documents = db.session.execute(select(ArchiveDocument).where(
        ArchiveDocument.entry_id == entry.id).order_by(ArchiveDocument.id)).scalars().all()
    destruction = None
    if entry.folder_id and any(d.destroyed_at for d in documents):
        destruction = db.session.execute(select(DestructionRecord).where(
            DestructionRecord.folder_id == entry.folder_id)
            .order_by(DestructionRecord.id.desc())).scalars().first()
    people = {v.created_by for d in documents for v in d.versions if v.created_by}
    names = dict(db.session.execute(select(User.username, User.full_name).where(
        User.username.in_(sorted(people)))).all()) if people else {}
    return {"documents": documents, "destruction": destruction, "names": names,
            "may_add": may_add(entry) and not entry.cancelled, "accept": ACCEPT,
            "types": ", ".join(TYPE_NAMES[t] for t in SUPPORTED_TYPES),
            "max_size": format_size(_max_bytes(), g.lang)}


# --- adding -----------------------------------------------------------------------------

@bp.route("/inregistrari/<int:entry_id>/documente", methods=["POST"])
@login_required
def document_add(entry_id):
    entry = readable_entry(entry_id)
    if not may_add(entry):
        abort(403)
    title = request.form.get("title", "").strip()[:300]
    upload, content_type, error = _checked_upload("file")
    if error is None:
        try:
            document = add_document(db.session, archive_storage(), entry, upload.stream,
                                    filename=upload.filename, content_type=content_type,
                                    actor=g.user.username, title=title,
                                    max_bytes=_max_bytes())
        except (ArchiveError, StorageError) as err:
            db.session.rollback()
            error = str(err)
    if error is not None:
        return _entry_page(entry, {"doc-file": error}, {"doc-title": title})
    db.session.commit()
    flash(_("Documentul «%(title)s» a fost adăugat; textul lui se extrage în câteva minute.",
            title=document.title), "success")
    return redirect(url_for("registry.show", entry_id=entry.id) + "#documente")


@bp.route("/documente/<int:document_id>/versiuni", methods=["POST"])
@login_required
def document_new_version(document_id):
    document = db.get_or_404(ArchiveDocument, document_id)
    entry = readable_entry(document.entry_id)
    if not may_add(entry):
        abort(403)
    note = request.form.get("note", "").strip()[:300]
    field = f"version-file-{document.id}"
    upload, content_type, error = _checked_upload(field)
    if error is None:
        try:
            version = add_version(db.session, archive_storage(), document, upload.stream,
                                  filename=upload.filename, content_type=content_type,
                                  actor=g.user.username, note=note, max_bytes=_max_bytes())
        except (ArchiveError, StorageError) as err:
            db.session.rollback()
            error = str(err)
    if error is not None:
        return _entry_page(entry, {field: error}, {f"version-note-{document.id}": note})
    db.session.commit()
    flash(_("Versiunea %(number)d a documentului «%(title)s» a fost păstrată; versiunile "
            "anterioare rămân în istoric.", number=version.number, title=document.title),
          "success")
    return redirect(url_for("registry.show", entry_id=entry.id) + f"#document-{document.id}")


def _checked_upload(name: str):
    """(the upload, its sniffed type, None) or (None, None, a message naming the field)."""
    label = quote(_("Fișier"), g.lang)
    uploads = [u for u in request.files.getlist(name) if not is_empty_upload(u)]
    if not uploads:
        return None, None, _("%(field)s: alegeți fișierul de încărcat.", field=label)
    if len(uploads) > 1:
        return None, None, text(g.lang, "file_multiple", field=label)
    try:
        content_type = check_upload(uploads[0], SUPPORTED_TYPES, _max_bytes())
    except UploadRejected as err:
        return None, None, text(g.lang, err.reason, field=label,
                          size=format_size(_max_bytes(), g.lang),
                          types=", ".join(TYPE_NAMES[t] for t in SUPPORTED_TYPES))
    return uploads[0], content_type, None


def _entry_page(entry, errors: dict, typed: dict):
    # The entry's page again, with the message by the field and what was typed.
    return entry_page(entry, errors=errors, typed=typed, status=422)


# --- reading ----------------------------------------------------------------------------

ROLES = {"original": "original", "pdf-cautabil": "searchable"}


@bp.route("/documente/<int:document_id>/versiuni/<int:number>/<any(original, 'pdf-cautabil'):kind>")
@login_required
def document_file(document_id, number, kind):
    """Download a version's original or its searchable PDF: identified and audited."""
    document, version = _readable_version(document_id, number)
    role = ROLES[kind]
    sha256 = version.sha256 if role == "original" else version.searchable_sha256
    if sha256 is None:
        abort(404)
    try:
        stream = archive_storage().open(sha256)
    except StorageError:
        return render_template("error.html", title=_("Fișier indisponibil"), message=_(
            "Fișierul lipsește din depozitul arhivei. Anunțați arhivarul; comanda «dosar "
            "archive verify» arată ce fișiere lipsesc.")), 404
    read = {"document": document.uid, "version": version.number, "role": role,
            "sha256": sha256}
    if db.session.get(RegisterEntry, document.entry_id).confidential:
        read["confidential"] = True
    try:
        with write_transaction():      # no copy leaves without its record
            record_event(db.session, g.user.username, "archive.document_read",
                         object_ref=f"entry:{document.entry_id}",
                         summary=f"{document.title}, versiunea {version.number}"
                                 + (" (PDF căutabil)" if role == "searchable" else ""),
                         after=read)
    except Exception:
        stream.close()
        raise
    if role == "original":
        return send_file(stream, mimetype=version.content_type, as_attachment=True,
                         download_name=version.filename or f"document-{document.id}")
    stem = (version.filename or f"document-{document.id}").rsplit(".", 1)[0]
    return send_file(stream, mimetype="application/pdf", as_attachment=True,
                     download_name=f"{stem}-cautabil.pdf")


@bp.route("/documente/<int:document_id>/versiuni/<int:number>/miniatura.png")
@login_required
def document_thumbnail(document_id, number):
    """The first page, small, for the entry's page (a preview, not a copy: not audited)."""
    _document, version = _readable_version(document_id, number)
    if not version.thumbnail_sha256:
        abort(404)
    try:
        stream = archive_storage().open(version.thumbnail_sha256)
    except StorageError:
        abort(404)
    return send_file(stream, mimetype="image/png", max_age=3600)


def _readable_version(document_id: int, number: int):
    document = db.get_or_404(ArchiveDocument, document_id)
    readable_entry(document.entry_id)            # 404/403 before anything else
    if document.destroyed_at is not None:
        abort(404)
    version = next((v for v in document.versions if v.number == number), None)
    if version is None:
        abort(404)
    return document, version




# --- dosar archive verify ---------------------------------------------------------------

@archive_cli.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Raportul în format JSON.")
def verify_command(as_json):
    """Recitește și verifică amprenta SHA-256 a fiecărui fișier din arhivă; iese cu
    codul 1 dacă lipsește sau s-a modificat vreunul."""
    report = verify_archive(db.session, archive_storage())
    db.session.commit()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        sys.exit(1)
