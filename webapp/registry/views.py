import json
from datetime import date

from flask import (Blueprint, abort, flash, g, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from sqlalchemy import select

from connectors.registry import RegistryError, cancel_entry, link_entries, linked_entries
from connectors.registry.models import RegisterEntry
from connectors.registry.references import entry_conditions, parse_reference
from engine import audit, runtime
from engine.deployment import latest_definition
from engine.errors import EngineError
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance
from engine.models_sla import SlaClock
from webapp.archive.form_uploads import keep_form_uploads
from webapp.auth.models import Department, User
from webapp.auth.session import current_actor, group_required, login_required
from webapp.database import db
from webapp.forms_support import (forget_files, load_form, pending_files, remember_files,
                                   store_upload)
from webapp.instances.views import can_view

from . import queries
from .access import (may_read_entry, readable_condition, readable_entry, sees_whole_register,
                     shown, visible_entries)

bp = Blueprint("registry", __name__, template_folder="templates", url_prefix="/registratura")

CANCELLERS = {"registratura", "admin"}


def _startable() -> list[ProcessDefinition]:
    """Current version of every procedure that has a registration form."""
    names = db.session.execute(select(ProcessDefinition.name).distinct()).scalars().all()
    current = [latest_definition(db.session, name) for name in names]
    return sorted((d for d in current if json.loads(d.metadata_json).get("start_form")),
                  key=lambda d: d.title)


def _default_procedure(procedures) -> str | None:
    """What the desk offers first: the clerk's last choice, else the petition (the
    most common document), else the first by title."""
    names = [d.name for d in procedures]
    for name in (session.get("desk_procedure"), "petition"):
        if name in names:
            return name
    return names[0] if names else None


@bp.route("/nou", methods=["GET", "POST"])
@group_required("registratura")
def new():
    procedures = _startable()
    name = request.values.get("procedura") or _default_procedure(procedures)
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
        if request.form.get("confidential") == "1":
            # Ticked at the desk: the register keeps it for the department (access.py).
            data["confidential"] = True
        try:
            instance = runtime.start_instance(db.session, definition.name, data, current_actor(),
                                              title=data.get("summary", "")[:200])
            keep_form_uploads(instance.id, form, data)   # the scan joins the entry's archive
            db.session.commit()
        except EngineError as err:
            db.session.rollback()
            errors = {}
            flash(str(err), "error")
        else:
            forget_files(pending_key)
            session["desk_procedure"] = definition.name     # the next one is often alike
            entry = db.session.get(RegisterEntry, instance.document_id) if instance.document_id else None
            if entry is None:
                flash(_("Procedura a pornit."), "success")
                return redirect(url_for("instances.show", instance_id=instance.id))
            flash(_("Document înregistrat cu nr. %(label)s.", label=entry.label), "success")
            return redirect(url_for("registry.registered", entry_id=entry.id))
    else:
        remember_files(pending_key, form, data)
        flash(_("Formularul are erori; corectați câmpurile marcate."), "error")
    return render_template("registry/new.html", procedures=procedures, definition=definition,
                           form=form, data={**request.form.to_dict(), **data},
                           errors=errors), 422


@bp.route("/<int:entry_id>/inregistrat")
@group_required("registratura")
def registered(entry_id):
    """After registering: the number, big, with the next things a desk clerk does,
    above the case as it now stands (where it went, its term, its history)."""
    entry = db.get_or_404(RegisterEntry, entry_id)
    instance = _instance_of(entry)
    if instance is None or not may_read_entry(entry):
        # A confidential document: its number for the paper, nothing of its case.
        return render_template("registry/registered.html", entry=shown(entry), instance=None)
    tasks = db.session.execute(select(HumanTask).where(HumanTask.instance_id == instance.id)
                               .order_by(HumanTask.id)).scalars().all()
    current = runtime.current_elements(db.session, instance) if instance.status == "running" else []
    return render_template("registry/registered.html", entry=entry, instance=instance,
                           tasks=tasks, history=audit.history(db.session, instance.id),
                           current=current,
                           completed=runtime.completed_elements(db.session, instance))


@bp.route("/expeditori")
@group_required("registratura")
def senders():
    """Earlier senders for the desk form's autocomplete (JSON)."""
    text = request.args.get("q", "").strip()[:100]
    if len(text) < 2:
        return jsonify([])
    return jsonify(queries.earlier_senders(db.session, text))


@bp.route("/")
@login_required
def index():
    filters = queries.RegisterFilters.from_args(request.args)
    stmt = _visible_entries()
    if filters.sender and (hidden := readable_condition()) is not None:
        stmt = stmt.where(hidden)       # a sender's name must not find a confidential line
    entries, total = queries.register_page(db.session, stmt, filters, date.today())
    entries = [shown(e) for e in entries]
    pages = max((total + queries.PAGE_SIZE - 1) // queries.PAGE_SIZE, 1)
    return render_template("registry/index.html", entries=entries, total=total, pages=pages,
                           filters=filters, departments=_department_names(),
                           document_types=document_type_titles(), statuses=queries.STATUSES,
                           whole_register=sees_whole_register())


@bp.route("/<int:entry_id>")
@login_required
def show(entry_id):
    return _entry_page(readable_entry(entry_id))


@bp.route("/<int:entry_id>/anuleaza", methods=["POST"])
@group_required(*CANCELLERS)
def cancel(entry_id):
    entry = readable_entry(entry_id)     # a confidential entry: its department's, admin
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _entry_page(entry, errors={"reason": _("«Motivul anulării» este obligatoriu.")},
                           status=422)
    before = {"cancelled": entry.cancelled}
    try:
        cancel_entry(db.session, entry, g.user.username, reason)
    except RegistryError as err:
        return _entry_page(entry, errors={"reason": str(err)}, status=422)
    audit.record(db.session, g.user.username, "entry.cancelled", object_ref=f"entry:{entry.id}",
                 summary=reason, before=before,
                 after={"cancelled": True, "cancel_reason": entry.cancel_reason})
    # The procedure started for the document stops with it: nobody works on a
    # cancelled registration.
    for instance_id in db.session.execute(select(ProcessInstance.id).where(
            ProcessInstance.document_id == entry.id)).scalars().all():
        runtime.cancel_instance(db.session, instance_id, current_actor(), reason)
    db.session.commit()
    flash(_("Înregistrarea %(label)s a fost anulată; numărul rămâne în registru, marcat anulat.",
            label=entry.label), "success")
    return redirect(url_for("registry.show", entry_id=entry.id))


@bp.route("/<int:entry_id>/conexeaza", methods=["POST"])
@login_required
def link(entry_id):
    entry = readable_entry(entry_id)
    if not (g.user.groups & CANCELLERS or f"sef-{entry.department}" in g.user.groups):
        abort(403)
    text = request.form.get("to", "").strip()
    target, error = _link_target(entry, text, request.form.get("to_id", ""))
    if target is not None and (entry.cancelled or target.cancelled):
        error = _("Înregistrarea %(label)s este anulată și nu se poate conexa.",
                  label=(entry if entry.cancelled else target).label)
    before = {"linked_entry_id": entry.linked_entry_id}
    if error is None:
        try:
            link_entries(db.session, entry, target)
        except RegistryError as err:
            error = str(err)
    if error is not None:
        return _entry_page(entry, errors={"to": error}, typed={"to": text}, status=422)
    head = entry.linked_entry
    audit.record(db.session, g.user.username, "entry.linked", object_ref=f"entry:{entry.id}",
                 summary=f"la nr. {head.label}", before=before,
                 after={"linked_entry_id": head.id, "linked_label": head.label})
    db.session.commit()
    flash(_("Înregistrarea %(label)s a fost conexată la %(head)s.", label=entry.label,
            head=head.label), "success")
    return redirect(url_for("registry.show", entry_id=entry.id))


def _link_target(entry: RegisterEntry, text: str, raw_id: str):
    """The entry a clerk named by its number (or, from a link, its id), among those
    they may see; (entry, None) or (None, message)."""
    visible = _visible_entries()
    if raw_id.strip().isdigit():
        found = db.session.execute(visible.where(RegisterEntry.id == int(raw_id))).scalars().all()
    elif not text:
        return None, _("«Conexat la» este obligatoriu: scrieți numărul documentului.")
    else:
        wanted = parse_reference(text)
        if wanted is None:
            return None, _("«Conexat la» nu este un număr de înregistrare (exemple: 12/2026, "
                           "12/05.03.2026, URB-12/2026).")
        # A bare number is one of the same year as this entry.
        found = db.session.execute(visible.where(
            *entry_conditions(db.session, wanted, default_year=entry.year)).limit(2)
        ).scalars().all()
    if not found:
        return None, _("Nu există în registru înregistrarea «%(text)s».", text=text or raw_id)
    if len(found) > 1:
        return None, _("Numărul «%(text)s» se potrivește cu mai multe înregistrări; scrieți-l "
                       "cu data, de exemplu %(example)s.", text=text, example=found[0].label)
    return found[0], None


def _entry_page(entry: RegisterEntry, errors=None, typed=None, status=200):
    instance = _instance_of(entry)
    readable = instance is not None and can_view(instance)
    open_tasks = db.session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")
        .order_by(HumanTask.id)).scalars().all() if instance else []
    clock = db.session.execute(select(SlaClock).where(
        SlaClock.instance_id == instance.id)).scalar_one_or_none() if instance else None
    matter = linked_entries(db.session, entry)
    groups = g.user.groups
    return render_template(
        "registry/show.html", entry=entry, instance=instance, readable_instance=readable,
        history=_history(entry, instance), open_tasks=open_tasks,
        holders=_full_names({t.assignee for t in open_tasks if t.assignee}), clock=clock,
        due_on=clock.due_on if clock else (entry.due_on or (instance.due_on if instance else None)),
        matter=matter if len(matter) > 1 else [], visible_ids=_visible_ids(matter),
        departments=_department_names(), document_types=document_type_titles(),
        may_cancel=bool(groups & CANCELLERS) and not entry.cancelled,
        may_link=bool(groups & CANCELLERS or f"sef-{entry.department}" in groups),
        errors=errors or {}, typed=typed or {}), status


def _history(entry: RegisterEntry, instance: ProcessInstance | None) -> list[AuditEvent]:
    """The procedure's events and those about the entry itself, oldest first."""
    events = {e.id: e for e in db.session.execute(select(AuditEvent).where(
        AuditEvent.object_ref == f"entry:{entry.id}")).scalars()}
    if instance is not None:
        events.update((e.id, e) for e in audit.history(db.session, instance.id))
    return sorted(events.values(), key=lambda e: (e.at, e.id))


def _instance_of(entry: RegisterEntry) -> ProcessInstance | None:
    return db.session.execute(select(ProcessInstance).where(
        ProcessInstance.document_id == entry.id).order_by(ProcessInstance.id)).scalars().first()


def _full_names(usernames) -> dict:
    if not usernames:
        return {}
    return dict(db.session.execute(select(User.username, User.full_name).where(
        User.username.in_(sorted(usernames)))).all())


def _department_names() -> dict:
    return dict(db.session.execute(select(Department.code, Department.name)).all())


def document_type_titles() -> dict:
    """Document types the published procedures register, with the procedure's title.
    Only the small columns: the register's pages need no diagrams or specs."""
    rows = db.session.execute(select(
        ProcessDefinition.name, ProcessDefinition.title, ProcessDefinition.metadata_json)
        .order_by(ProcessDefinition.name, ProcessDefinition.activation.desc(),
                  ProcessDefinition.id.desc())).all()
    current, types = {}, {}
    for name, title, metadata in rows:
        current.setdefault(name, (title, metadata))      # the first row is the current one
    for title, metadata in sorted(current.values()):
        code = json.loads(metadata).get("document_type")
        if code:
            types.setdefault(code, title)
    return types


def _visible_entries():
    return visible_entries(select(RegisterEntry))


def _visible_ids(entries) -> set[int]:
    return {e.id for e in entries if may_read_entry(e)}


from . import printing  # noqa: E402,F401  (routes of the printed papers)
