import json

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from connectors.registry.models import RegisterEntry
from engine import audit, notifications, runtime, substitution
from engine.errors import EngineError, NotPermitted, TaskNotAvailable
from engine.models import HumanTask
from webapp.archive.form_uploads import keep_form_uploads
from webapp.auth.models import User, UserGroup
from webapp.auth.session import current_actor, login_required
from webapp.database import db
from webapp.engine_actions import act_on_instance
from webapp.forms_support import (forget_files, load_form, pending_files, remember_files,
                                   store_upload)
from webapp.instances.views import file_link
from webapp.registry.access import record_confidential_read

from . import queries

bp = Blueprint("inbox", __name__, template_folder="templates")


def can_view(task: HumanTask) -> bool:
    actor = current_actor()     # includes the groups of colleagues one stands in for
    return (actor.username in (task.assignee, task.completed_by)
            or bool(actor.groups & set(task.group_codes))
            or _heads(task))    # a head oversees the department's tasks


@bp.route("/")
@login_required
def index():
    view = request.args.get("view", "mine")
    sort = request.args.get("sort", "due")
    number = max(request.args.get("page", 1, type=int), 1)
    if view not in ("mine", "group") or sort not in ("due", "-due"):
        abort(400)
    groups = current_actor().groups
    stmt = queries.my_tasks(g.user.username) if view == "mine" else queries.group_tasks(groups)
    size, limit = current_app.config["INBOX_PAGE_SIZE"], current_app.config["INBOX_COUNT_LIMIT"]
    counts = {"mine": queries.count(db.session, queries.my_tasks(g.user.username), limit),
              "group": queries.waiting_count(db.session, groups, limit)}
    tasks = queries.page(db.session, stmt, sort, number, size)
    total = counts[view]
    if total <= limit:
        pages = max((total + size - 1) // size, 1)
        more = number < pages
    else:           # "over `limit`": the page count is not known, only that more follow
        pages = None
        more = number * size <= limit or len(tasks) == size
    entries = _entries({t.document_id for t in tasks})
    news = notifications.unread(db.session, g.user.username, groups)
    return render_template("inbox/index.html", tasks=tasks, total=total, view=view, sort=sort,
                           page=number, pages=pages, more=more, limit=limit,
                           counts=counts, entries=entries, news=news)


@bp.route("/notificari/citite", methods=["POST"])
@login_required
def mark_read():
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
    actor = current_actor()
    if ids:
        notifications.mark_read(db.session, actor.username, actor.groups, ids)
        db.session.commit()
    return redirect(url_for("inbox.index"))


def _entries(ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = db.session.execute(select(RegisterEntry).where(RegisterEntry.id.in_(ids))).scalars()
    return {r.id: r for r in rows}


@bp.route("/sarcini/<int:task_id>")
@login_required
def show(task_id):
    task = db.get_or_404(HumanTask, task_id)
    if not can_view(task):
        abort(403)
    entry = db.session.get(RegisterEntry, task.document_id) if task.document_id else None
    if entry is not None and entry.confidential:
        # Whoever works on a confidential case (the signer, say) reads it here.
        record_confidential_read(entry, request.path)
    return _render_task(task)


def _render_task(task, form_data=None, errors=None, status=200):
    instance = task.instance
    data = runtime.instance_data(db.session, instance) if task.status == "open" else {}
    form = load_form(instance.definition, task.form_name, data) if task.form_name else None
    entry = db.session.get(RegisterEntry, task.document_id) if task.document_id else None
    history = audit.history(db.session, instance.id)
    done = db.session.execute(
        select(HumanTask).where(HumanTask.instance_id == instance.id,
                                HumanTask.status == "completed")
        .order_by(HumanTask.completed_at)).scalars().all()
    earlier = []
    for step in done:
        step_form = load_form(instance.definition, step.form_name, data) if step.form_name else None
        earlier.append((step, step_form))
    start_form_name = json.loads(instance.definition.metadata_json).get("start_form")
    start_form = load_form(instance.definition, start_form_name, data) if start_form_name else None
    html = render_template(
        "inbox/task.html", task=task, instance=instance, entry=entry, history=history,
        form=form, data=form_data if form_data is not None else data, errors=errors or {},
        earlier=earlier, instance_data=data, start_form=start_form,
        file_url=file_link(instance.id),
        mine=task.assignee == g.user.username,
        colleagues=_colleagues(task) if task.status == "open" and _heads(task) else [])
    return html, status


def _heads(task: HumanTask) -> bool:
    """Whether the user is head of the department the task belongs to (or admin)."""
    groups = current_actor().groups
    return "admin" in groups or bool(task.department and f"sef-{task.department}" in groups)


def _colleagues(task: HumanTask) -> list[User]:
    return db.session.execute(select(User).join(UserGroup).where(
        UserGroup.group_code.in_([f"dept-{task.department}", f"sef-{task.department}"]),
        User.active.is_(True)).order_by(User.full_name).distinct()).scalars().all()


@bp.route("/sarcini/<int:task_id>/redistribuie", methods=["POST"])
@login_required
def reassign(task_id):
    """The head of department gives a task to another person, with a reason."""
    task = db.get_or_404(HumanTask, task_id)
    if not _heads(task):
        abort(403)
    to_user = request.form.get("to_user", "")
    if to_user not in {u.username for u in _colleagues(task)}:
        flash(_("Alegeți o persoană din compartiment."), "error")
        return redirect(url_for("inbox.show", task_id=task_id))
    moved = act_on_instance(task.instance_id, lambda: substitution.reassign(
        db.session, task, current_actor(), to_user, request.form.get("reason", "")))
    if moved is not None:
        flash(_("Sarcina a fost redistribuită lui %(user)s.", user=to_user), "success")
    return redirect(url_for("inbox.show", task_id=task_id))


def _change_assignment(task_id: int, change, done_message: str, then: str):
    """Claim or unclaim: both check the same things and answer the same way."""
    task = db.get_or_404(HumanTask, task_id)
    if not can_view(task):
        abort(403)
    try:
        change(db.session, task.id, current_actor())
        db.session.commit()
        flash(done_message, "success")
    except (TaskNotAvailable, NotPermitted) as err:
        db.session.rollback()
        flash(str(err), "error")
    return redirect(then)


@bp.route("/sarcini/<int:task_id>/preia", methods=["POST"])
@login_required
def claim(task_id):
    return _change_assignment(task_id, runtime.claim, _("Ați preluat sarcina."),
                              url_for("inbox.show", task_id=task_id))


@bp.route("/sarcini/<int:task_id>/elibereaza", methods=["POST"])
@login_required
def unclaim(task_id):
    return _change_assignment(task_id, runtime.unclaim,
                              _("Sarcina a revenit în lista grupului."),
                              url_for("inbox.index"))


@bp.route("/sarcini/<int:task_id>/finalizeaza", methods=["POST"])
@login_required
def complete(task_id):
    task = db.get_or_404(HumanTask, task_id)
    if not can_view(task):
        abort(403)
    data, errors = {}, {}
    if task.form_name:
        instance = task.instance
        form = load_form(instance.definition, task.form_name,
                         lambda: runtime.instance_data(db.session, instance))
        data, errors = form.parse(request.form, request.files, lang=g.lang,
                                  store_file=store_upload,
                                  existing=pending_files(f"task:{task_id}"))
    if errors:
        remember_files(f"task:{task_id}", form, data)
        db.session.rollback()
        flash(_("Formularul are erori; corectați câmpurile marcate."), "error")
        return _render_task(task, form_data={**request.form.to_dict(), **data},
                            errors=errors, status=422)
    title = task.title
    try:
        runtime.complete_task(db.session, task.id, current_actor(), data)
        if task.form_name:      # the form's files join the entry's archive, same transaction
            keep_form_uploads(task.instance_id, form, data)
        db.session.commit()
    except TaskNotAvailable as err:
        db.session.rollback()
        flash(str(err), "error")
        return _render_task(db.get_or_404(HumanTask, task_id), status=409)
    except NotPermitted as err:
        db.session.rollback()
        flash(str(err), "error")
        return redirect(url_for("inbox.show", task_id=task_id))
    except EngineError as err:
        db.session.rollback()
        flash(str(err), "error")
        return _render_task(task, form_data=request.form.to_dict(), status=422)
    forget_files(f"task:{task_id}")
    flash(_("Sarcina «%(title)s» a fost finalizată.", title=title), "success")
    return redirect(url_for("inbox.index"))
