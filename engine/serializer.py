"""Turning SpiffWorkflow objects into storable parts and back.

A workflow is split into: the specs (stored once per definition version), a small
dict of workflow attributes, and one dict per task. Task data goes through the
same registry as SpiffWorkflow's own serializer, with dates and decimals added.
"""
import hashlib
import json
from datetime import date
from decimal import Decimal
from functools import lru_cache
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import SimpleTaskConverter
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task

_config = dict(SPIFF_CONFIG)
# Full data per task: identical data is deduplicated by hash, so deltas buy nothing
# and would tie each task to its (possibly pruned) parent.
_config[Task] = SimpleTaskConverter
REGISTRY = BpmnWorkflowSerializer.configure(_config)
REGISTRY.register(date, lambda v: {"value": v.isoformat()},
                  lambda v: date.fromisoformat(v["value"]), typename="date")
REGISTRY.register(Decimal, lambda v: {"value": str(v)},
                  lambda v: Decimal(v["value"]), typename="Decimal")


def dumps(value) -> str:
    """Canonical JSON: equal values give equal text, hence equal hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- specs ---------------------------------------------------------------------------

def specs_to_json(spec, subprocess_specs: dict) -> str:
    return dumps({"spec": REGISTRY.convert(spec),
                  "subprocess_specs": {k: REGISTRY.convert(v) for k, v in subprocess_specs.items()}})


@lru_cache(maxsize=256)
def specs_from_json(version_hash: str, text: str):
    """Restored specs are immutable and shared by every instance of a version."""
    dct = json.loads(text)
    return (REGISTRY.restore(dct["spec"]),
            {k: REGISTRY.restore(v) for k, v in dct["subprocess_specs"].items()})


# --- workflows -----------------------------------------------------------------------

TOP = ""  # workflow key of the top-level process; subprocesses use their task's id


def workflow_to_parts(workflow: BpmnWorkflow) -> tuple[dict, dict[str, dict]]:
    """Return (meta, tasks): meta holds the workflow attributes and each subprocess's
    attributes; tasks maps workflow key -> {task id -> task dict}."""
    meta = _attributes(workflow)
    meta["bpmn_events"] = REGISTRY.convert(workflow.bpmn_events)
    meta["subprocesses"] = {}
    tasks = {TOP: _tasks(workflow)}
    for task_id, sub in workflow.subprocesses.items():
        key = str(task_id)
        sub_meta = _attributes(sub)
        sub_meta["parent_task_id"] = key
        sub_meta["spec"] = sub.spec.name
        meta["subprocesses"][key] = sub_meta
        tasks[key] = _tasks(sub)
    return meta, tasks


def _attributes(workflow) -> dict:
    return {
        "data": REGISTRY.convert(REGISTRY.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "root": str(workflow.task_tree.id),
    }


def _tasks(workflow) -> dict[str, dict]:
    out = {}
    for task_id, task in workflow.tasks.items():
        dct = REGISTRY.convert(task)
        dct.pop("typename", None)
        out[str(task_id)] = dct
    return out


def workflow_from_parts(spec, subprocess_specs, meta: dict, tasks: dict[str, dict],
                        script_engine) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine,
                            deserializing=True)
    _restore_tasks(workflow, meta, tasks[TOP])
    workflow.bpmn_events = REGISTRY.restore(meta.get("bpmn_events", []))
    pending = dict(meta.get("subprocesses", {}))

    def restore_children(parent_workflow):
        for task in list(parent_workflow.tasks.values()):
            key = str(task.id)
            if isinstance(task.task_spec, SubWorkflowTask) and key in pending:
                sub_meta = pending.pop(key)
                sub = BpmnSubWorkflow(workflow.subprocess_specs[sub_meta["spec"]], task.id,
                                      workflow, deserializing=True)
                workflow.subprocesses[task.id] = sub
                _restore_tasks(sub, sub_meta, tasks.get(key, {}))
                sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
                restore_children(sub)

    restore_children(workflow)
    return workflow


def _restore_tasks(workflow, meta: dict, task_dicts: dict[str, dict]) -> None:
    workflow.tasks = {}
    # Parents first, so each restored task finds its parent in workflow.tasks.
    for task_id, dct in task_dicts.items():
        workflow.tasks[UUID(task_id)] = REGISTRY.restore(dict(dct, typename="Task"),
                                                         workflow=workflow)
    workflow.task_tree = workflow.tasks[UUID(meta["root"])]
    workflow.success = meta["success"]
    workflow.completed = meta.get("completed", False)
    workflow.correlations = meta.get("correlations", {})
    last = meta.get("last_task")
    workflow.last_task = workflow.tasks.get(UUID(last)) if last else None
    workflow.data = REGISTRY.restore(meta.get("data", {}))
