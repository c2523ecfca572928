"""Loading and saving running instances, row by row.

Only the *live* part of an instance's task tree is loaded: the unfinished tasks and
the branch they hang from. Completed ancestors above it are pruned (kept as history
rows, never read again to run the instance). That keeps both the cost of a request
and the depth of the tree constant however long the instance has run — a loop drawn
back through a gateway otherwise deepens the tree by two levels per pass, and past
SpiffWorkflow's iterator depth limit ready tasks become invisible.

Saving writes only rows whose content changed since the load.
"""
import json
from dataclasses import dataclass, field

from sqlalchemy import insert, select, true, update
from sqlalchemy.orm import Session
from SpiffWorkflow.util.task import TaskState

from .models import EngineTask, ProcessInstance, TaskData
from .serializer import (TOP, content_hash, dumps, workflow_from_parts,
                         workflow_to_parts)

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR


@dataclass
class LoadedInstance:
    """What was read for one instance, to diff against when saving."""
    instance: ProcessInstance
    workflow: object
    rows: dict[str, tuple] = field(default_factory=dict)   # task id -> row values


def _row_values(key: str, dct: dict, data_hash: str) -> tuple:
    return (key, dct["parent"], dumps(dct["children"]), dct["task_spec"], dct["state"],
            dct["last_state_change"], bool(dct["triggered"]), dumps(dct["internal_data"]),
            data_hash)


ROW_COLUMNS = ("workflow_key", "parent_id", "children_json", "spec_name", "state",
               "last_state_change", "triggered", "internal_json", "data_hash")


def prune(meta: dict, tasks: dict[str, dict[str, dict]]) -> tuple[dict, dict]:
    """Re-root every (sub)workflow just above the lowest common ancestor of its
    unfinished tasks. Returns (meta, live tasks); the caller keeps the rest as history."""
    live = {}
    for key, task_dicts in tasks.items():
        wf_meta = meta if key == TOP else meta["subprocesses"].get(key)
        if wf_meta is None:
            continue
        root = _new_root(wf_meta, task_dicts)
        keep = _subtree(root, task_dicts)
        wf_meta["root"] = root
        if wf_meta.get("last_task") not in keep:
            wf_meta["last_task"] = None
        live[key] = {tid: task_dicts[tid] for tid in keep}
        live[key][root] = dict(task_dicts[root], parent=None)
    # A subprocess whose calling task was pruned is finished history.
    all_live = {tid for ts in live.values() for tid in ts}
    meta["subprocesses"] = {k: v for k, v in meta["subprocesses"].items() if k in all_live}
    live = {k: v for k, v in live.items() if k == TOP or k in meta["subprocesses"]}
    return meta, live


def _path(task_id: str, task_dicts: dict) -> list[str]:
    path = []
    while task_id is not None and task_id in task_dicts:
        path.append(task_id)
        task_id = task_dicts[task_id]["parent"]
    return path[::-1]


def _new_root(wf_meta: dict, task_dicts: dict) -> str:
    unfinished = [tid for tid, d in task_dicts.items() if not d["state"] & FINISHED]
    anchors = unfinished or [wf_meta.get("last_task") or wf_meta["root"]]
    paths = [_path(tid, task_dicts) for tid in anchors]
    common = 0
    shortest = min(len(p) for p in paths)
    while common < shortest and len({p[common] for p in paths}) == 1:
        common += 1
    # Keep one level above the common ancestor: joins and event splits look at
    # their task's parent.
    return paths[0][max(common - 2, 0)]


def _subtree(root: str, task_dicts: dict) -> set[str]:
    keep, stack = set(), [root]
    while stack:
        tid = stack.pop()
        if tid in keep or tid not in task_dicts:
            continue
        keep.add(tid)
        stack.extend(task_dicts[tid]["children"])
    return keep


def reroot(workflow, script_engine):
    """Prune a workflow in memory (used when one run executes many loop passes)."""
    meta, tasks = workflow_to_parts(workflow)
    meta, live = prune(meta, tasks)
    return workflow_from_parts(workflow.spec, workflow.subprocess_specs, meta, live,
                               script_engine)


def load(session: Session, instance: ProcessInstance, spec, subprocess_specs,
         script_engine) -> LoadedInstance:
    rows = session.execute(
        select(EngineTask).where(EngineTask.instance_id == instance.id,
                                 EngineTask.live == true())).scalars().all()
    hashes = {r.data_hash for r in rows}
    bodies = dict(session.execute(
        select(TaskData.hash, TaskData.body).where(TaskData.hash.in_(hashes))).all())
    tasks: dict[str, dict] = {}
    snapshot = {}
    meta = json.loads(instance.workflow_json)
    roots = {TOP: meta["root"], **{k: v["root"] for k, v in meta["subprocesses"].items()}}
    for r in _parents_first(rows, roots):
        tasks.setdefault(r.workflow_key, {})[r.id] = {
            "id": r.id, "parent": r.parent_id, "children": json.loads(r.children_json),
            "last_state_change": r.last_state_change, "state": r.state,
            "task_spec": r.spec_name, "triggered": r.triggered,
            "internal_data": json.loads(r.internal_json), "data": json.loads(bodies[r.data_hash]),
        }
        snapshot[r.id] = tuple(getattr(r, c) for c in ROW_COLUMNS)
    workflow = workflow_from_parts(spec, subprocess_specs, meta, tasks, script_engine)
    return LoadedInstance(instance=instance, workflow=workflow, rows=snapshot)


def _parents_first(rows, roots: dict[str, str]):
    by_id = {r.id: r for r in rows}
    ordered, stack = [], [by_id[rid] for rid in roots.values() if rid in by_id]
    while stack:
        row = stack.pop()
        ordered.append(row)
        stack.extend(by_id[c] for c in reversed(json.loads(row.children_json)) if c in by_id)
    return ordered


def save(session: Session, loaded: LoadedInstance) -> None:
    """Write what changed: new and changed task rows, pruned rows as history."""
    meta, tasks = workflow_to_parts(loaded.workflow)
    all_rows = {}
    for key, task_dicts in tasks.items():
        for tid, dct in task_dicts.items():
            all_rows[tid] = (key, dct)
    meta, live = prune(meta, tasks)
    live_ids = {tid for ts in live.values() for tid in ts}

    new_data, inserts, updates = {}, [], []
    for tid, (key, dct) in all_rows.items():
        if tid in live_ids:
            dct = live[key][tid]
        body = dumps(dct["data"])
        digest = content_hash(body)
        new_data[digest] = body
        values = _row_values(key, dct, digest)
        old = loaded.rows.get(tid)
        row = dict(zip(ROW_COLUMNS, values), id=tid, live=tid in live_ids)
        if old is None:
            inserts.append(dict(row, instance_id=loaded.instance.id))
        elif old != values or tid not in live_ids:
            updates.append(row)
    # One executemany each, whatever the number of rows.
    if inserts:
        session.execute(insert(EngineTask), inserts)
    if updates:
        session.execute(update(EngineTask), updates)
    # Tasks SpiffWorkflow dropped (predicted branches not taken) were never real.
    gone = set(loaded.rows) - set(all_rows)
    if gone:
        session.execute(update(EngineTask).where(EngineTask.id.in_(gone))
                        .values(live=False, state=TaskState.CANCELLED))
    store_task_data(session, new_data)
    loaded.instance.workflow_json = dumps(meta)
    loaded.rows = {tid: _row_values(k, live[k][tid], content_hash(dumps(live[k][tid]["data"])))
                   for k in live for tid in live[k]}
    session.flush()


def store_task_data(session: Session, data: dict[str, str]) -> None:
    """Add content-addressed task data not stored yet. Two instances may reach the
    same data at the same moment: the insert tolerates the other one's row (on
    MariaDB it waits for that transaction, then does nothing), in hash order so two
    such writers never wait for each other crosswise."""
    if not data:
        return
    known = set(session.execute(select(TaskData.hash).where(
        TaskData.hash.in_(data))).scalars())
    rows = [{"hash": h, "body": data[h]} for h in sorted(data) if h not in known]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert
        stmt = mysql_insert(TaskData)
        stmt = stmt.on_duplicate_key_update(hash=stmt.inserted.hash)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        stmt = sqlite_insert(TaskData).on_conflict_do_nothing()
    session.execute(stmt, rows)
