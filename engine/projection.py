"""Projecting ready user tasks into `human_task` rows.

Inboxes read these rows with plain indexed queries; they never load an instance.
Candidate groups come from the task's `candidateGroups` property, else from its lane
(mapped to a group code by the procedure's `lanes` table). `{name}` placeholders are
filled from the task's data, so a diagram can say `sef-{department}`.
"""
import re

from sqlalchemy import event, select
from sqlalchemy.orm import Session
from SpiffWorkflow.util.task import TaskState

from . import substitution
from .models import HumanTask, HumanTaskGroup, ProcessDefinition, ProcessInstance

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, data: dict) -> str:
    """Only plain `{name}` placeholders: str.format would allow attribute access."""
    return PLACEHOLDER.sub(lambda m: str(data.get(m.group(1), "")), template)


def task_properties(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}


def all_tasks(workflow):
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def ready_user_tasks(workflow) -> list:
    return [t for t in all_tasks(workflow)
            if t.state == TaskState.READY and t.task_spec.manual]


def candidate_groups(task, lanes: dict) -> list[str]:
    props = task_properties(task.task_spec)
    raw = props.get("candidateGroups")
    if raw is None and task.task_spec.lane:
        raw = lanes.get(task.task_spec.lane, task.task_spec.lane)
    return sorted({fill(g.strip(), task.data) for g in (raw or "").split(",") if g.strip()})


def sync(session: Session, instance: ProcessInstance, definition: ProcessDefinition,
         workflow, metadata: dict, completed_task_id: str | None = None,
         today=None) -> list[HumanTask]:
    """Make the open human_task rows match the workflow's ready user tasks. A task
    meant for someone absent that day goes to their substitute."""
    ready = {str(t.id): t for t in ready_user_tasks(workflow)}
    open_rows = session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalars().all()
    created = []
    for row in open_rows:
        if row.engine_task_id not in ready and row.engine_task_id != completed_task_id:
            row.status = "cancelled"
    known = {r.engine_task_id for r in open_rows}
    lanes = metadata.get("lanes", {})
    for task_id, task in ready.items():
        if task_id in known:
            continue
        props = task_properties(task.task_spec)
        assignee = fill(props["assignee"], task.data) if props.get("assignee") else None
        delegated_from = None
        if assignee and today is not None:
            substitute = substitution.substitute_for(session, assignee, today)
            if substitute != assignee:
                assignee, delegated_from = substitute, assignee
        row = HumanTask(
            instance_id=instance.id, engine_task_id=task_id, procedure=definition.name,
            spec_name=task.task_spec.name,
            title=task.task_spec.bpmn_name or task.task_spec.name,
            form_name=props.get("form"), lane=task.task_spec.lane,
            assignee=assignee or None, due_on=instance.due_on,
            document_id=instance.document_id, delegated_from=delegated_from,
            department=str(task.data.get("department") or definition.department or "")[:100],
            groups=[HumanTaskGroup(group_code=g) for g in candidate_groups(task, lanes)])
        session.add(row)
        created.append(row)
    return created


@event.listens_for(Session, "before_flush")
def _keep_waiting_in_step(session, flush_context, instances) -> None:
    """Whatever changed a task (claimed, released, completed, cancelled, reassigned,
    handed to a substitute), its group rows say whether it still waits for someone."""
    changed = [obj for obj in (*session.new, *session.dirty) if isinstance(obj, HumanTask)]
    if not changed:
        return
    with session.no_autoflush:
        for task in changed:
            # A new row's status is still None here: the column default ("open") comes
            # with the INSERT.
            waiting = (task.status or "open") == "open" and task.assignee is None
            for group in task.groups:
                if group.waiting != waiting:
                    group.waiting = waiting
