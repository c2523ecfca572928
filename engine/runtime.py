"""Running instances: start, claim, complete — each one transaction.

Every operation that changes an instance first locks its row (`SELECT … FOR UPDATE`
on MariaDB; on SQLite every transaction already holds the write lock, see
webapp/database.py), then re-reads what it is about to change, so two clerks
completing the same task at once cannot both succeed. The caller commits; if the
process dies before that, the database rolls the whole step back.
"""
import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from connectors.catalogue import operations
from connectors.db import utcnow

from . import audit, projection, store
from . import deadlines
from .deployment import definition_specs, latest_definition
from .dialects import RUN_FAILURES, run_message
from .errors import ConcurrentUpdate, EngineError, NotPermitted, TaskNotAvailable
from .models import EngineTask, HumanTask, ProcessInstance
from .operations import ENGINE_OPERATIONS
from . import timers
from .timers import local_today
from .script_engine import DosarScriptEngine, ServiceContext

PENDING = TaskState.READY | TaskState.WAITING | TaskState.STARTED
MAX_REROOTS = 1000  # each re-root allows ~500 more loop passes in one run


@dataclass(frozen=True)
class Actor:
    """Who acts: a user name and the groups it works for today. `own_groups` are the
    person's own memberships when `groups` also holds those lent by an absent
    colleague: capacities that cannot be lent (signing for the mayor) look at these."""
    username: str
    groups: frozenset = frozenset()
    own_groups: frozenset | None = None

    @property
    def personal_groups(self) -> frozenset:
        return self.groups if self.own_groups is None else self.own_groups

    def may_work_on(self, task: HumanTask) -> bool:
        if task.assignee:
            return task.assignee == self.username
        return bool(self.groups & set(task.group_codes))


def _script_engine(session, instance, actor, today) -> DosarScriptEngine:
    engine = DosarScriptEngine({**operations(), **ENGINE_OPERATIONS})

    def on_registered(entry_id: int, registered_on: date) -> None:
        instance.document_id = entry_id

    engine.context = ServiceContext(session=session, instance_id=instance.id,
                                    actor=actor.username if actor else None, today=today,
                                    on_document_registered=on_registered,
                                    procedure=json.loads(instance.definition.metadata_json),
                                    instance=instance, actor_ref=actor)
    return engine


def run_engine(workflow: BpmnWorkflow, script_engine) -> BpmnWorkflow:
    """Run until every branch waits. The library's iterators stop at a fixed tree
    depth, so ready tasks it no longer sees are found here and the tree is re-rooted."""
    for _ in range(MAX_REROOTS):
        try:
            workflow.do_engine_steps()
        except (SpiffWorkflowException, *RUN_FAILURES) as err:   # in Romanian, naming the step
            raise EngineError(f"Procedura s-a oprit: {run_message(err)}") from err
        missed = [t for t in projection.all_tasks(workflow)
                  if t.state == TaskState.READY and not t.task_spec.manual]
        if not missed:
            return workflow
        workflow = store.reroot(workflow, script_engine)
    raise EngineError("Procedura nu ajunge într-o stare de așteptare (buclă infinită?).")


def is_finished(workflow: BpmnWorkflow) -> bool:
    """Never trust is_completed() alone: nothing may be ready or waiting."""
    return workflow.completed and not any(t.state & PENDING
                                          for t in projection.all_tasks(workflow))


def start_instance(session: Session, procedure: str, data: dict, actor: Actor | None,
                   today: date | None = None, title: str = "") -> ProcessInstance:
    definition = latest_definition(session, procedure)
    if definition is None:
        raise EngineError(f"Procedura «{procedure}» nu este publicată.")
    spec, subprocess_specs = definition_specs(definition)
    instance = ProcessInstance(definition=definition, workflow_json="{}", title=title,
                               started_by=actor.username if actor else None)
    session.add(instance)
    session.flush()
    script_engine = _script_engine(session, instance, actor, today or local_today())
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    for start in workflow.get_tasks(state=TaskState.READY):   # the start event
        start.data.update(data)
    workflow = run_engine(workflow, script_engine)
    loaded = store.LoadedInstance(instance=instance, workflow=workflow)
    _finish_step(session, loaded, definition, actor, "instance.started",
                 summary=definition.title, before=None, after=data,
                 today=script_engine.context.today)
    return instance


def lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.execute(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                               .with_for_update().execution_options(populate_existing=True)
                               ).scalar_one_or_none()
    if instance is None:
        raise TaskNotAvailable("Dosarul nu mai există.")
    return instance


def _locked_task(session: Session, human_task_id: int) -> tuple[ProcessInstance, HumanTask]:
    row = session.get(HumanTask, human_task_id)
    if row is None:
        raise TaskNotAvailable("Sarcina nu există.")
    instance = lock_instance(session, row.instance_id)
    session.refresh(row)   # re-read under the lock: another clerk may have been first
    if row.status == "completed":
        raise TaskNotAvailable(f"Sarcina a fost deja finalizată de {row.completed_by} "
                               f"la {row.completed_at:%d.%m.%Y %H:%M}.")
    if row.status != "open":
        raise TaskNotAvailable("Sarcina nu mai este activă.")
    return instance, row


def claim(session: Session, human_task_id: int, actor: Actor) -> HumanTask:
    _, row = _locked_task(session, human_task_id)
    if row.assignee and row.assignee != actor.username:
        raise TaskNotAvailable(f"Sarcina a fost preluată de {row.assignee}.")
    if not actor.may_work_on(row):
        raise NotPermitted("Nu faceți parte din grupurile acestei sarcini.")
    if row.assignee != actor.username:
        row.assignee = actor.username
        row.claimed_at = utcnow()
        audit.record(session, actor.username, "task.claimed", instance_id=row.instance_id,
                     object_ref=f"task:{row.id}", summary=row.title,
                     before={"assignee": None}, after={"assignee": actor.username})
    return row


def unclaim(session: Session, human_task_id: int, actor: Actor) -> HumanTask:
    _, row = _locked_task(session, human_task_id)
    if row.assignee != actor.username:
        raise NotPermitted("Puteți elibera doar sarcinile preluate de dumneavoastră.")
    row.assignee, row.claimed_at = None, None
    audit.record(session, actor.username, "task.unclaimed", instance_id=row.instance_id,
                 object_ref=f"task:{row.id}", summary=row.title,
                 before={"assignee": actor.username}, after={"assignee": None})
    return row


def complete_task(session: Session, human_task_id: int, actor: Actor, data: dict,
                  today: date | None = None) -> ProcessInstance:
    instance, row = _locked_task(session, human_task_id)
    if row.assignee and row.assignee != actor.username:
        raise TaskNotAvailable(f"Sarcina a fost preluată de {row.assignee}.")
    if not actor.may_work_on(row):
        raise NotPermitted("Nu faceți parte din grupurile acestei sarcini.")
    definition = instance.definition
    spec, subprocess_specs = definition_specs(definition)
    script_engine = _script_engine(session, instance, actor, today or local_today())
    loaded = store.load(session, instance, spec, subprocess_specs, script_engine)
    task = next((t for t in projection.all_tasks(loaded.workflow)
                 if str(t.id) == row.engine_task_id), None)
    if task is None or task.state != TaskState.READY:
        raise TaskNotAvailable("Sarcina nu mai este activă în procedură.")
    before = {k: task.data.get(k) for k in data}
    task.data.update(data)
    try:
        task.run()
    except (SpiffWorkflowException, *RUN_FAILURES) as err:
        raise EngineError(
            f"Pasul «{row.title}» nu a putut fi finalizat: {run_message(err)}") from err
    loaded.workflow = run_engine(loaded.workflow, script_engine)
    row.status, row.completed_by, row.completed_at = "completed", actor.username, utcnow()
    row.assignee = actor.username
    _finish_step(session, loaded, definition, actor, "task.completed", summary=row.title,
                 before=before, after=data, object_ref=f"task:{row.id}",
                 completed_task_id=row.engine_task_id, today=script_engine.context.today)
    return instance


def cancel_instance(session: Session, instance_id: int, actor: Actor | None, reason: str,
                    today: date | None = None) -> ProcessInstance:
    """Stop a case whose registration was cancelled: its open tasks leave the inboxes,
    its timers and its legal clock stop. The task history stays as it was."""
    instance = lock_instance(session, instance_id)
    if instance.status != "running":
        return instance
    user = actor.username if actor else None
    instance.status, instance.completed_at = "cancelled", utcnow()
    open_tasks = session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalars().all()
    for task in open_tasks:
        task.status = "cancelled"
    timers.cancel_pending(session, instance.id, (*timers.SLA_KINDS, timers.DIAGRAM_TIMER))
    deadlines.stop(session, instance, today or local_today(), user)
    audit.record(session, user, "instance.cancelled", instance_id=instance.id,
                 summary=reason[:1000], before={"status": "running"},
                 after={"status": "cancelled", "tasks_cancelled": [t.id for t in open_tasks]})
    return instance


def wake(session: Session, instance_id: int, change, action: str, summary: str,
         today: date | None = None, actor: Actor | None = None) -> int:
    """Move an instance on from outside a user task — a timer fell due, a message
    arrived. `change(workflow)` acts on the loaded workflow and returns how many
    events it delivered; the engine then runs and the step is saved like any other."""
    instance = lock_instance(session, instance_id)
    if instance.status != "running":
        return 0
    definition = instance.definition
    spec, subprocess_specs = definition_specs(definition)
    script_engine = _script_engine(session, instance, actor, today or local_today())
    loaded = store.load(session, instance, spec, subprocess_specs, script_engine)
    try:
        delivered = change(loaded.workflow)
    except (SpiffWorkflowException, *RUN_FAILURES) as err:
        raise EngineError(f"Procedura s-a oprit: {run_message(err)}") from err
    loaded.workflow = run_engine(loaded.workflow, script_engine)
    _finish_step(session, loaded, definition, actor, action, summary=summary, before=None,
                 after=None, today=script_engine.context.today)
    return delivered


def _finish_step(session, loaded: store.LoadedInstance, definition, actor, action, *,
                 summary, before, after, object_ref=None, completed_task_id=None,
                 today=None):
    instance = loaded.instance
    was_status = instance.status
    expected = instance.lock_version or 0
    store.save(session, loaded)
    if is_finished(loaded.workflow):
        instance.status, instance.completed_at = "completed", utcnow()
        timers.cancel_pending(session, instance.id, (timers.DIAGRAM_TIMER,))
        deadlines.stop(session, instance, today or local_today(),
                       actor.username if actor else None)   # the case is closed
    else:
        timers.schedule_diagram_timers(session, instance.id, loaded.workflow)
    metadata = json.loads(definition.metadata_json)
    created = projection.sync(session, instance, definition, loaded.workflow, metadata,
                              completed_task_id=completed_task_id, today=today)
    if expected == 0:          # a new instance
        instance.lock_version = 1
    else:
        bumped = session.execute(update(ProcessInstance).where(
            ProcessInstance.id == instance.id, ProcessInstance.lock_version == expected)
            .values(lock_version=expected + 1)).rowcount
        if bumped != 1:
            raise ConcurrentUpdate("Dosarul a fost modificat între timp; reîncercați.")
        session.expire(instance, ["lock_version"])
    user = actor.username if actor else None
    audit.record(session, user, action, instance_id=instance.id, object_ref=object_ref,
                 summary=summary, before=before, after=after)
    for row in created:
        if row.delegated_from:
            audit.record(session, None, "task.delegated", instance_id=instance.id,
                         summary=row.title, before={"assignee": row.delegated_from},
                         after={"assignee": row.assignee, "reason": "absence"})
    if instance.status != was_status and instance.status == "completed":
        audit.record(session, user, "instance.completed", instance_id=instance.id,
                     summary=definition.title)
    session.flush()


def instance_data(session: Session, instance: ProcessInstance) -> dict:
    """The data where the instance stands: its pending tasks' data, or else the
    last completed task's (for display only)."""
    spec, subprocess_specs = definition_specs(instance.definition)
    loaded = store.load(session, instance, spec, subprocess_specs, DosarScriptEngine({}))
    tasks = list(projection.all_tasks(loaded.workflow))
    pending = [t for t in tasks if t.state & PENDING]
    done = sorted((t for t in tasks if t.state == TaskState.COMPLETED),
                  key=lambda t: t.last_state_change)
    chosen = pending[0] if pending else (done[-1] if done else None)
    return dict(chosen.data) if chosen else {}


def current_elements(session: Session, instance: ProcessInstance) -> list[str]:
    """BPMN ids where the instance stands now (for marking the diagram)."""
    spec, subprocess_specs = definition_specs(instance.definition)
    loaded = store.load(session, instance, spec, subprocess_specs, DosarScriptEngine({}))
    return sorted({t.task_spec.bpmn_id for t in projection.all_tasks(loaded.workflow)
                   if t.state & PENDING and getattr(t.task_spec, "bpmn_id", None)})



def completed_elements(session: Session, instance: ProcessInstance) -> list[str]:
    """BPMN ids the instance has passed through (from the task history rows)."""
    return sorted(session.execute(
        select(EngineTask.spec_name).distinct().where(
            EngineTask.instance_id == instance.id,
            EngineTask.state == TaskState.COMPLETED)).scalars())
