"""The archival nomenclator (/arhiva/nomenclator): every file per department with its
code, title and retention term; the archivist adds, changes and imports files (CSV).
And a document's metadata sheet (/arhiva/documente/<uid>, Legea 135/2007), for
whoever may read its register entry. `dosar archive import-nomenclator FILE.csv`.
"""
from datetime import datetime
from pathlib import Path

import click
from flask import (Response, abort, current_app, flash, g, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _, lazy_gettext, ngettext
from sqlalchemy import select

from archive.documents import ArchiveError
from archive.metadata import LABELS, metadata_sheet, to_json, to_xml
from archive.models import ArchiveDocument
from archive.nomenclator import (NomenclatorImportError, check_fields, decode_csv,
                                 import_nomenclator, save_file)
from connectors.registry.models import NomenclatorFile
from webapp.registry.views import document_type_titles
from webapp.auth.models import Department
from webapp.auth.session import group_required, login_required
from webapp.database import db
from webapp.registry.access import readable_entry

from . import ARCHIVISTS, bp
from .cli import archive_cli

MAX_CSV_BYTES = 2 * 1024 * 1024
FIELDS = {"cod": "code", "compartiment": "department", "titlu": "title", "termen": "term"}


def _departments() -> dict[str, str]:
    return dict(db.session.execute(select(Department.code, Department.name)
                                   .order_by(Department.name)).all())


def _may_edit() -> bool:
    return bool(g.user.groups & ARCHIVISTS)


@bp.app_template_filter("retention")
def retention_filter(years):
    if years is None:
        return _("permanent (P)")
    return ngettext("%(num)d an", "%(num)d ani", years)


@bp.app_template_filter("isoday")
def isoday_filter(text):
    """An ISO date or moment of a metadata sheet, as people read it (dd.mm.yyyy)."""
    if not text:
        return "—"
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return text
    return moment.strftime("%d.%m.%Y" if len(str(text)) == 10 else "%d.%m.%Y %H:%M")



def _page(form=None, errors=None, import_errors=None, editing=None, status=200):
    departments = _departments()
    files = db.session.execute(select(NomenclatorFile).order_by(
        NomenclatorFile.department, NomenclatorFile.code)).scalars().all()
    by_department: dict[str, list] = {}
    for f in files:
        by_department.setdefault(f.department, []).append(f)
    return render_template("archive/nomenclator.html", by_department=by_department,
                           departments=departments, may_edit=_may_edit(), form=form or {},
                           errors=errors or {}, import_errors=import_errors or [],
                           editing=editing), status


@bp.route("/nomenclator")
@login_required
def nomenclator():
    editing = None
    if request.args.get("editeaza") and _may_edit():
        editing = db.get_or_404(NomenclatorFile, request.args.get("editeaza", type=int) or 0)
        return _page(form={"cod": editing.code, "compartiment": editing.department,
                           "titlu": editing.title, "termen": editing.retention_label,
                           "activ": "1" if editing.active else ""}, editing=editing)
    return _page(editing=editing)


@bp.route("/nomenclator", methods=["POST"])
@group_required(*ARCHIVISTS)
def nomenclator_save():
    """Add a file, or change one (`id`): code, department, title, retention, active."""
    form = {k: request.form.get(k, "").strip() for k in (*FIELDS, "activ", "id")}
    editing = db.get_or_404(NomenclatorFile, int(form["id"])) if form["id"].isdigit() else None
    values, problems = check_fields(form["cod"], form["compartiment"], form["titlu"],
                                    form["termen"], departments=set(_departments()) or None)
    errors = {name: f"«{_label(name)}»: {message}" for name, message in problems.items()}
    if not errors:
        try:
            saved = save_file(db.session, g.user.username, values, editing,
                              active=(form["activ"] == "1") if editing else True)
        except ArchiveError as err:
            errors["termen" if "termen" in str(err) else "cod"] = str(err)
    if errors:
        db.session.rollback()
        return _page(form=form, errors=errors, editing=editing, status=422)
    db.session.commit()
    flash(_("Dosarul %(code)s a fost salvat în nomenclator.", code=saved.code), "success")
    return redirect(url_for("archive.nomenclator") + f"#dosar-{saved.code}")


def _label(name: str) -> str:
    return {"cod": _("Indicativ"), "compartiment": _("Compartiment"), "titlu": _("Titlu"),
            "termen": _("Termen de păstrare")}[name]


@bp.route("/nomenclator/import", methods=["POST"])
@group_required(*ARCHIVISTS)
def nomenclator_import():
    upload = request.files.get("fisier")
    if upload is None or not upload.filename:
        return _page(import_errors=[_("Alegeți fișierul CSV (cod;compartiment;titlu;termen).")],
                     status=422)
    data = upload.stream.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return _page(import_errors=[_("Fișierul are mai mult de 2 MB; un nomenclator are "
                                      "de obicei câteva sute de rânduri.")], status=422)
    try:
        result = import_nomenclator(db.session, decode_csv(data), g.user.username,
                                    departments=set(_departments()) or None)
    except NomenclatorImportError as err:
        db.session.rollback()
        return _page(import_errors=err.errors, status=422)
    db.session.commit()
    flash(_("Nomenclator importat. Dosare noi: %(created)d; modificate: %(updated)d; "
            "neschimbate: %(unchanged)d.", created=len(result.created),
            updated=len(result.updated), unchanged=len(result.unchanged)), "success")
    return redirect(url_for("archive.nomenclator"))


# ---- the metadata sheet --------------------------------------------------------------

def _readable_document(uid: str) -> ArchiveDocument:
    if len(uid) > 36:
        abort(404)
    document = db.session.execute(select(ArchiveDocument).where(
        ArchiveDocument.uid == uid)).scalar_one_or_none()
    if document is None:
        abort(404)
    readable_entry(document.entry_id)            # 404/403 before anything is shown
    return document


def _sheet(document: ArchiveDocument) -> dict:
    return metadata_sheet(db.session, document, current_app.config["TOWN_HALL"])


@bp.route("/documente/<uid>")
@login_required
def metadata_page(uid):
    document = _readable_document(uid)
    return render_template("archive/metadata.html", document=document, sheet=_sheet(document),
                           labels=LABELS, departments=_departments(),
                           document_types=document_type_titles())


@bp.route("/documente/<uid>.json")
@login_required
def metadata_json(uid):
    document = _readable_document(uid)
    return Response(to_json(_sheet(document)), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=metadate-{uid}.json"})


@bp.route("/documente/<uid>.xml")
@login_required
def metadata_xml(uid):
    document = _readable_document(uid)
    return Response(to_xml(_sheet(document)), mimetype="application/xml",
                    headers={"Content-Disposition": f"attachment; filename=metadate-{uid}.xml"})


# ---- dosar archive import-nomenclator -----------------------------------------------------

@archive_cli.command("import-nomenclator")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "actor", default="cli", help="Cine importă (pentru jurnalul de audit).")
def import_nomenclator_command(path, actor):
    """Importă nomenclatorul arhivistic dintr-un CSV cod;compartiment;titlu;termen
    (termen: P sau numărul de ani). Nu importă nimic dacă vreun rând e greșit."""
    try:
        result = import_nomenclator(db.session, decode_csv(path.read_bytes()), actor,
                                    departments=set(_departments()) or None)
    except NomenclatorImportError as err:
        db.session.rollback()
        for line in err.errors:
            click.echo(line, err=True)
        raise click.ClickException("Importul nu a fost făcut; nu s-a schimbat nimic.")
    db.session.commit()
    click.echo(f"Nomenclator importat. Dosare noi: {len(result.created)}; "
               f"modificate: {len(result.updated)}; neschimbate: {len(result.unchanged)}.")
