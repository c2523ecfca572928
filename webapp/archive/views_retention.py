"""Yearly folders and disposal.

/arhiva/dosare?an=2026: the folders of a year (status, documents, hold) and the
year-end closing; /arhiva/dosare/<id>: one folder's entries, its legal hold, its ZIP
export. /arhiva/eliminare: folders past their term → a proposed list (archivist) →
the commission's decision (not by the proposer) → execution (archivist) → the
destruction records. `dosar archive close-year YEAR`.
"""
import json
import tempfile

import click
from flask import abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from archive.documents import ArchiveError
from archive.export import export_folder, export_name
from archive.models import (ArchiveDocument, ArchiveFolder, DestructionRecord, DisposalList)
from archive.nomenclator import close_year, unarchived_count
from archive.retention import (DisposalRefused, decide, disposal_candidates, execute_disposal,
                               lift_hold, place_hold, propose_disposal)
from archive.storage import StorageError
from connectors.audit import AuditEvent, record_event
from connectors.registry.models import NomenclatorFile, RegisterEntry
from engine.timers import local_today
from webapp.auth.models import Department, User
from webapp.auth.session import group_required, login_required
from webapp.database import db, write_transaction
from webapp.registry.access import may_read_entry

from . import ARCHIVISTS, COMMISSION, archive_storage, bp
from .cli import archive_cli

HOLDERS = ARCHIVISTS | {"secretar"}          # place and lift legal holds
DISPOSAL_READERS = ARCHIVISTS | COMMISSION | {"secretar"}


def _groups() -> frozenset:
    return frozenset(g.user.groups)


@bp.app_context_processor
def retention_rights():
    def rights():
        groups = _groups() if g.get("user") else frozenset()
        return {"archivist": bool(groups & ARCHIVISTS), "commission": bool(groups & COMMISSION),
                "holder": bool(groups & HOLDERS), "disposal": bool(groups & DISPOSAL_READERS)}
    return {"retention_rights": rights}


def _year_arg(default: int) -> int:
    text = request.values.get("an", "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1900 <= int(text) <= 2999:
        abort(400)
    return int(text)


def _names(usernames) -> dict[str, str]:
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.username, User.full_name)
                                   .where(User.username.in_(wanted))).all())


def _departments() -> dict[str, str]:
    return dict(db.session.execute(select(Department.code, Department.name)).all())


# ---- folders --------------------------------------------------------------------------

@bp.route("/dosare")
@login_required
def folders():
    today = local_today()
    year = _year_arg(today.year)
    return _folders_page(year, today)


def _folders_page(year: int, today, errors: dict | None = None, status: int = 200):
    rows = db.session.execute(
        select(ArchiveFolder, func.count(RegisterEntry.id))
        .join(NomenclatorFile)
        .outerjoin(RegisterEntry, RegisterEntry.folder_id == ArchiveFolder.id)
        .where(ArchiveFolder.year == year)
        .group_by(ArchiveFolder.id)
        .order_by(NomenclatorFile.department, NomenclatorFile.code)).all()
    years = db.session.execute(select(ArchiveFolder.year).distinct()
                               .order_by(ArchiveFolder.year.desc())).scalars().all()
    open_years = db.session.execute(select(ArchiveFolder.year).where(
        ArchiveFolder.status == "open", ArchiveFolder.year < today.year).distinct()
        .order_by(ArchiveFolder.year)).scalars().all()
    closable = year < today.year
    return render_template(
        "archive/folders.html", year=year, rows=rows, years=sorted(set(years) | {today.year},
                                                                    reverse=True),
        open_years=open_years, closable=closable, today=today, errors=errors or {},
        unarchived=unarchived_count(db.session, year) if closable else 0,
        departments=_departments()), status


@bp.route("/dosare/inchidere-an", methods=["POST"])
@group_required(*ARCHIVISTS)
def close_year_action():
    today = local_today()
    year = _year_arg(today.year - 1)
    if request.form.get("confirm") != "1":
        return _folders_page(year, today, errors={"confirm": _(
            "Bifați confirmarea: dosarele închise nu mai primesc documente.")}, status=422)
    try:
        closing = close_year(db.session, year, g.user.username, today=today)
    except ArchiveError as err:
        db.session.rollback()
        return _folders_page(year, today, errors={"confirm": str(err)}, status=422)
    db.session.commit()
    flash(_("Anul %(year)d a fost închis. Dosare închise: %(count)d.", year=year,
            count=len(closing.closed)), "success")
    if closing.unarchived:
        flash(_("Atenție: documente din %(year)d încă nearhivate: %(count)d. Dosarele lor "
                "fiind închise, vor trebui clasate în alt dosar.", count=closing.unarchived,
                year=year), "error")
    return redirect(url_for("archive.folders", an=year))


@bp.route("/dosare/<int:folder_id>")
@login_required
def folder(folder_id):
    return _folder_page(db.get_or_404(ArchiveFolder, folder_id))


def _folder_page(folder: ArchiveFolder, errors: dict | None = None, form: dict | None = None,
                 status: int = 200):
    entries = db.session.execute(select(RegisterEntry).where(RegisterEntry.folder_id == folder.id)
                                 .order_by(RegisterEntry.registered_on, RegisterEntry.id)
                                 ).scalars().all()
    visible = [e for e in entries if may_read_entry(e)]
    documents: dict[int, list] = {}
    if visible:
        for d in db.session.execute(select(ArchiveDocument).where(
                ArchiveDocument.entry_id.in_([e.id for e in visible]))
                .order_by(ArchiveDocument.id)).scalars():
            documents.setdefault(d.entry_id, []).append(d)
    records = db.session.execute(select(DestructionRecord).where(
        DestructionRecord.folder_id == folder.id)).scalars().all()
    history = db.session.execute(select(AuditEvent).where(
        AuditEvent.object_ref == f"folder:{folder.id}").order_by(AuditEvent.at, AuditEvent.id)
        ).scalars().all()
    return render_template("archive/folder.html", folder=folder, entries=visible,
                           hidden=len(entries) - len(visible), documents=documents,
                           records=records, history=history, errors=errors or {},
                           form=form or {}, names=_names([e.actor for e in history]),
                           departments=_departments()), status


@bp.route("/dosare/<int:folder_id>/pastrare-legala", methods=["POST"])
@group_required(*HOLDERS)
def hold(folder_id):
    folder = db.get_or_404(ArchiveFolder, folder_id)
    action = request.form.get("actiune")
    if action not in ("pune", "ridica"):
        abort(400)
    reason = request.form.get("motiv", "")
    try:
        if action == "pune":
            place_hold(db.session, folder, g.user.username, reason)
        else:
            lift_hold(db.session, folder, g.user.username, reason)
    except ArchiveError as err:
        db.session.rollback()
        return _folder_page(folder, errors={"motiv": str(err)}, form=request.form, status=422)
    db.session.commit()
    flash(_("Dosarul %(label)s este sub păstrare legală.", label=folder.label) if action == "pune"
          else _("Păstrarea legală a dosarului %(label)s a fost ridicată.", label=folder.label),
          "success")
    return redirect(url_for("archive.folder", folder_id=folder.id))


@bp.route("/dosare/<int:folder_id>/export.zip")
@group_required(*ARCHIVISTS)
def folder_export(folder_id):
    folder = db.get_or_404(ArchiveFolder, folder_id)
    out = tempfile.TemporaryFile(prefix="dosar-export-")    # on disk, gone when closed
    try:
        manifest = export_folder(db.session, archive_storage(), folder,
                                 current_app.config["TOWN_HALL"], out)
    except (ArchiveError, StorageError) as err:
        out.close()
        return render_template("error.html", title=_("Export oprit"), message=str(err)), 500
    with write_transaction():
        record_event(db.session, g.user.username, "archive.folder_exported",
                     object_ref=f"folder:{folder.id}",
                     summary=f"Dosarul {folder.label} a fost exportat ({len(manifest)} fișiere).")
    out.seek(0)
    return send_file(out, mimetype="application/zip", as_attachment=True,
                     download_name=export_name(folder))




# ---- disposal ---------------------------------------------------------------------------

@bp.route("/eliminare")
@group_required(*DISPOSAL_READERS)
def disposal():
    return _disposal_page()


def _disposal_page(errors: list | None = None, form: dict | None = None, failed_list: int = 0,
                   status: int = 200):
    today = local_today()
    lists = db.session.execute(select(DisposalList).order_by(DisposalList.id.desc())
                               ).scalars().all()
    records: dict[int, list] = {}
    for r in db.session.execute(select(DestructionRecord).order_by(DestructionRecord.id)).scalars():
        records.setdefault(r.list_id, []).append((r, json.loads(r.metadata_json)))
    labels = {f.id: f.label for d in lists for f in (i.folder for i in d.items)}
    return render_template(
        "archive/disposal.html", candidates=disposal_candidates(db.session, today),
        proposed=[d for d in lists if d.status == "proposed"],
        approved=[d for d in lists if d.status == "approved"],
        done=[d for d in lists if d.status in ("executed", "rejected")],
        records=records, labels=labels, today=today, errors=errors or [],
        form=form or {}, failed_list=failed_list,
        names=_names([d.created_by for d in lists] + [d.decided_by for d in lists]
                     + [d.executed_by for d in lists]
                     + [r.destroyed_by for rs in records.values() for r, _kept in rs])), status


@bp.route("/eliminare/propune", methods=["POST"])
@group_required(*ARCHIVISTS)
def disposal_propose():
    ids = [v for v in request.form.getlist("dosar") if v.isdigit()]
    try:
        proposal = propose_disposal(db.session, ids, g.user.username, today=local_today())
    except DisposalRefused as err:
        db.session.rollback()
        return _disposal_page(errors=err.reasons, status=422)
    except ArchiveError as err:
        db.session.rollback()
        return _disposal_page(errors=[str(err)], status=422)
    db.session.commit()
    flash(_("Lista de eliminare nr. %(id)d a fost propusă comisiei de arhivă.",
            id=proposal.id), "success")
    return redirect(url_for("archive.disposal") + f"#lista-{proposal.id}")


@bp.route("/eliminare/<int:list_id>/decizie", methods=["POST"])
@group_required(*COMMISSION)
def disposal_decide(list_id):
    proposal = db.get_or_404(DisposalList, list_id)
    choice = request.form.get("decizie")
    if choice not in ("aproba", "respinge"):
        return _disposal_page(errors=[_("Alegeți: aprobă sau respinge.")], form=request.form,
                              failed_list=list_id, status=422)
    try:
        decide(db.session, proposal, g.user.username, choice == "aproba",
               request.form.get("act", ""), request.form.get("nota", ""))
    except ArchiveError as err:
        db.session.rollback()
        return _disposal_page(errors=[str(err)], form=request.form, failed_list=list_id,
                              status=422)
    db.session.commit()
    flash(_("Lista nr. %(id)d a fost aprobată.", id=list_id) if choice == "aproba"
          else _("Lista nr. %(id)d a fost respinsă.", id=list_id), "success")
    return redirect(url_for("archive.disposal") + f"#lista-{list_id}")


@bp.route("/eliminare/<int:list_id>/executa", methods=["POST"])
@group_required(*ARCHIVISTS)
def disposal_execute(list_id):
    approved = db.get_or_404(DisposalList, list_id)
    if request.form.get("confirm") != "1":
        return _disposal_page(errors=[_("Bifați confirmarea: fișierele eliminate nu mai pot "
                                        "fi recuperate.")], failed_list=list_id, status=422)
    try:
        result = execute_disposal(db.session, archive_storage(), approved, g.user.username,
                                  today=local_today(), town_hall=current_app.config["TOWN_HALL"])
    except ArchiveError as err:
        db.session.rollback()
        return _disposal_page(errors=[str(err)], failed_list=list_id, status=422)
    db.session.commit()        # the files are deleted once this has committed
    flash(_("Lista nr. %(id)d a fost executată. Dosare eliminate: %(folders)d; documente: "
            "%(docs)d; fișiere șterse: %(files)d.", id=list_id, folders=len(result.destroyed),
            docs=result.documents, files=len(result.files_to_delete)), "success")
    for label, reason in result.skipped:
        flash(_("%(label)s nu a fost eliminat: %(reason)s.", label=label, reason=reason), "error")
    return redirect(url_for("archive.disposal") + f"#lista-{list_id}")


# ---- dosar archive close-year ----------------------------------------------------------

@archive_cli.command("close-year")
@click.argument("year", type=int)
@click.option("--by", "actor", default="cli", help="Cine închide (pentru jurnalul de audit).")
def close_year_command(year, actor):
    """Închide dosarele anului YEAR (și ale anilor dinainte rămase deschise)."""
    try:
        closing = close_year(db.session, year, actor, today=local_today())
    except ArchiveError as err:
        db.session.rollback()
        raise click.ClickException(str(err))
    db.session.commit()
    click.echo(f"Anul {year}: {len(closing.closed)} dosare închise"
               + (f" ({', '.join(f.label for f in closing.closed)})" if closing.closed else "")
               + ".")
    if closing.unarchived:
        click.echo(f"Atenție: {closing.unarchived} documente din {year} nu sunt încă arhivate.")
