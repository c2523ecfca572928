from flask import (Blueprint, Response, abort, flash, g, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _
from sqlalchemy import select

from connectors.registry.models import RegisterEntry
from engine import audit, deadlines, runtime
from engine.timers import local_today
from engine.deployment import diagram_of
from engine.models import HumanTask, HumanTaskGroup, ProcessInstance
from webapp.auth.session import current_actor, login_required
from webapp.registry.access import may_read_entry, record_confidential_read
from webapp.database import db
from webapp.engine_actions import act_on_instance
from webapp.forms_support import storage

bp = Blueprint("instances", __name__, template_folder="templates", url_prefix="/dosare")

OVERSEERS = {"registratura", "primar", "secretar", "admin"}


def can_view(instance: ProcessInstance) -> bool:
    """Overseers see every file; others only files where a task was theirs or their group's.
    The file of a confidential entry only those who may read the entry (registry/access.py)
    and those who had a task in it."""
    user = g.user
    entry = _confidential_entry(instance)
    if entry is not None and may_read_entry(entry):
        return True
    if user.groups & OVERSEERS and entry is None:
        return True
    mine = select(HumanTask.id).where(
        HumanTask.instance_id == instance.id,
        (HumanTask.assignee == user.username) | (HumanTask.completed_by == user.username)
        | HumanTask.id.in_(select(HumanTaskGroup.human_task_id).where(
            HumanTaskGroup.group_code.in_(sorted(user.groups)))))
    return db.session.execute(mine.limit(1)).first() is not None


def _confidential_entry(instance: ProcessInstance) -> RegisterEntry | None:
    entry = db.session.get(RegisterEntry, instance.document_id) if instance.document_id else None
    return entry if entry is not None and entry.confidential else None


def readable_instance(instance_id: int) -> ProcessInstance:
    instance = db.get_or_404(ProcessInstance, instance_id)
    if not can_view(instance):
        abort(403)
    entry = _confidential_entry(instance)
    if entry is not None and request.method in ("GET", "HEAD"):
        record_confidential_read(entry, request.path)
    return instance


@bp.route("/<int:instance_id>")
@login_required
def show(instance_id):
    instance = readable_instance(instance_id)
    tasks = db.session.execute(select(HumanTask).where(HumanTask.instance_id == instance.id)
                               .order_by(HumanTask.id)).scalars().all()
    entry = db.session.get(RegisterEntry, instance.document_id) if instance.document_id else None
    history = audit.history(db.session, instance.id)
    current = runtime.current_elements(db.session, instance) if instance.status == "running" else []
    completed = runtime.completed_elements(db.session, instance)
    return render_template("instances/show.html", instance=instance, tasks=tasks, entry=entry,
                           history=history, current=current, completed=completed,
                           **_term(instance, entry))


def _term(instance: ProcessInstance, entry) -> dict:
    """The legal clock as the page shows it, and whether this user may extend it."""
    clock = deadlines.clock_of(db.session, instance.id)
    profile = deadlines.profile_in_force(db.session, instance)
    extendable = bool(clock and profile and clock.status == "running"
                      and profile.extension is not None
                      and clock.extensions_used < profile.extension.times
                      and deadlines.may_extend(profile, current_actor().groups,
                                               deadlines.case_department(instance, entry)))
    return {"clock": clock, "profile": profile, "extendable": extendable,
            "term_label": profile.label_for(g.lang) if profile else ""}


@bp.route("/<int:instance_id>/prelungire", methods=["POST"])
@login_required
def extend_term(instance_id):
    """The head (or whoever the SLA profile names) extends the legal term, with a reason."""
    instance = readable_instance(instance_id)
    days = request.form.get("days", type=int)
    reason = request.form.get("reason", "").strip()
    if days is None or days < 1:
        flash(_("Numărul de zile al prelungirii trebuie să fie un întreg pozitiv."), "error")
        return redirect(url_for("instances.show", instance_id=instance.id))
    entry = db.session.get(RegisterEntry, instance.document_id) if instance.document_id else None
    department = deadlines.case_department(instance, entry)
    clock = act_on_instance(instance.id, lambda: deadlines.extend(
        db.session, instance, current_actor(), days, reason, department, local_today()))
    if clock is not None:
        flash(_("Termenul a fost prelungit până la %(day)s.",
                day=clock.due_on.strftime("%d.%m.%Y")), "success")
    return redirect(url_for("instances.show", instance_id=instance.id))


@bp.route("/<int:instance_id>/diagrama.bpmn")
@login_required
def diagram(instance_id):
    instance = readable_instance(instance_id)
    bpmn = diagram_of(instance.definition)
    if bpmn is None:
        abort(404)
    return Response(bpmn, mimetype="application/xml")


def file_link(instance_id: int):
    """For forms' read-only views: a stored file's download link."""
    return lambda ref: url_for("instances.stored_file", instance_id=instance_id,
                               sha256=ref.get("sha256", ""))


def _file_refs(data: dict):
    for value in data.values():
        if isinstance(value, dict) and "sha256" in value:
            yield value


@bp.route("/<int:instance_id>/fisiere/<sha256>")
@login_required
def stored_file(instance_id, sha256):
    instance = readable_instance(instance_id)
    # Only files this instance refers to: a hash from another file is not a key.
    ref = next((r for r in _file_refs(runtime.instance_data(db.session, instance))
                if r["sha256"] == sha256), None)
    if ref is None:
        abort(404)
    return send_file(storage().open(sha256), mimetype=ref.get("content_type"),
                     as_attachment=True, download_name=ref.get("name") or sha256)
