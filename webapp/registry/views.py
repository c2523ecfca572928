import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from connectors.registry.models import RegisterEntry
from engine import runtime
from engine.deployment import latest_definition
from engine.errors import EngineError
from engine.models import ProcessDefinition, ProcessInstance
from webapp.auth.session import current_actor, group_required, login_required
from webapp.database import db
from webapp.forms_support import (forget_files, load_form, pending_files, remember_files,
                                   store_upload)

bp = Blueprint("registry", __name__, template_folder="templates", url_prefix="/registratura")

PAGE = 50


def _startable() -> list[ProcessDefinition]:
    """Current version of every procedure that has a registration form."""
    names = db.session.execute(select(ProcessDefinition.name).distinct()).scalars().all()
    current = [latest_definition(db.session, name) for name in names]
    return sorted((d for d in current if json.loads(d.metadata_json).get("start_form")),
                  key=lambda d: d.title)


@bp.route("/nou", methods=["GET", "POST"])
@group_required("registratura")
def new():
    procedures = _startable()
    name = request.values.get("procedura") or (procedures[0].name if procedures else None)
    definition = latest_definition(db.session, name) if name else None
    if definition is None or definition not in procedures:
        if name:
            abort(404)
        return render_template("registry/new.html", procedures=procedures, definition=None)
    form = load_form(definition, json.loads(definition.metadata_json)["start_form"])
    if request.method == "GET":
        return render_template("registry/new.html", procedures=procedures,
                               definition=definition, form=form, data={}, errors={})
    pending_key = f"register:{definition.name}"
    data, errors = form.parse(request.form, request.files, lang=g.lang, store_file=store_upload,
                              existing=pending_files(pending_key))
    if not errors:
        try:
            instance = runtime.start_instance(db.session, definition.name, data, current_actor(),
                                              title=data.get("summary", "")[:200])
            db.session.commit()
        except EngineError as err:
            db.session.rollback()
            errors = {}
            flash(str(err), "error")
        else:
            forget_files(pending_key)
            entry = db.session.get(RegisterEntry, instance.document_id) if instance.document_id else None
            flash(_("Document înregistrat cu nr. %(label)s.", label=entry.label) if entry else
                  _("Procedura a pornit."), "success")
            return redirect(url_for("instances.show", instance_id=instance.id))
    else:
        remember_files(pending_key, form, data)
        flash(_("Formularul are erori; corectați câmpurile marcate."), "error")
    return render_template("registry/new.html", procedures=procedures, definition=definition,
                           form=form, data={**request.form.to_dict(), **data},
                           errors=errors), 422


@bp.route("/")
@login_required
def index():
    number = max(request.args.get("page", 1, type=int), 1)
    visible = _visible_entries()
    entries = db.session.execute(visible.order_by(RegisterEntry.id.desc())
                                 .offset((number - 1) * PAGE).limit(PAGE)).scalars().all()
    instances = {i.document_id: i for i in db.session.execute(
        select(ProcessInstance).where(ProcessInstance.document_id.in_([e.id for e in entries]))
    ).scalars()}
    return render_template("registry/index.html", entries=entries, instances=instances,
                           page=number)


def _visible_entries():
    """The register as a whole is for the Registratura, the mayor and the secretary;
    a department sees the entries assigned to it."""
    stmt = select(RegisterEntry)
    if g.user.groups & {"registratura", "primar", "secretar", "admin"}:
        return stmt
    departments = {code.split("-", 1)[1] for code in g.user.groups
                   if code.startswith(("dept-", "sef-"))}
    return stmt.where(RegisterEntry.department.in_(sorted(departments)))
