"""What the crash benchmark checks once everything has stopped: read from the database
only, so that what the processes believed does not matter, only what they committed."""
import json
from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import func, select

WAITING_PROCEDURE = "crash_waiting"


def verify(session, confirmed_entries: set[int], completed_tasks: set[int],
           settle_end: datetime) -> dict:
    from archive.documents import INDEX_ENTRY
    from connectors.audit import AuditEvent
    from connectors.jobs.models import BackgroundJob
    from connectors.registry.models import RegisterEntry
    from engine import projection, store
    from engine.deployment import definition_specs
    from engine.models import HumanTask, ProcessDefinition, ProcessInstance
    from engine.models_sla import Timer
    from engine.script_engine import DosarScriptEngine
    from SpiffWorkflow.util.task import TaskState

    problems: dict[str, list] = defaultdict(list)

    # Registrations: every number the desk was given exists; numbers run 1..max.
    entries = session.execute(select(RegisterEntry.id, RegisterEntry.register_id,
                                     RegisterEntry.year, RegisterEntry.number)).all()
    known = {e.id for e in entries}
    missing = sorted(confirmed_entries - known)
    problems["registrations_missing"] = missing
    per_series = defaultdict(list)
    for e in entries:
        per_series[(e.register_id, e.year)].append(e.number)
    gaps = duplicates = 0
    for series, numbers in per_series.items():
        counted = Counter(numbers)
        duplicates += sum(n - 1 for n in counted.values() if n > 1)
        holes = set(range(1, max(numbers) + 1)) - set(counted)
        gaps += len(holes)
        if holes:
            problems["gaps"].append({"series": list(series), "holes": sorted(holes)[:20]})

    # Tasks the driver saw completed must be recorded as completed.
    statuses = dict(session.execute(select(HumanTask.id, HumanTask.status).where(
        HumanTask.id.in_(completed_tasks or {0}))).all())
    unrecorded = sorted(t for t in completed_tasks if statuses.get(t) != "completed")
    problems["completed_but_not_recorded"] = unrecorded

    # Every running instance loads, its stored tasks agree with the engine's, and it
    # waits for something (a person, a timer or an event); otherwise it is stuck.
    stuck, inconsistent = [], []
    pending_timers = Counter(session.execute(select(Timer.instance_id).where(
        Timer.fired_at.is_(None), Timer.cancelled.is_(False))).scalars())
    running = session.execute(select(ProcessInstance).where(
        ProcessInstance.status == "running")).scalars().all()
    for instance in running:
        tasks = session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance.id)).scalars().all()
        try:
            spec, subprocess_specs = definition_specs(instance.definition)
            loaded = store.load(session, instance, spec, subprocess_specs,
                                DosarScriptEngine({}))
            live = {str(t.id): t for t in projection.all_tasks(loaded.workflow)}
            waiting_events = loaded.workflow.waiting_events()
        except Exception as err:     # a case that cannot be loaded is half-written
            inconsistent.append({"instance": instance.id, "error": f"{type(err).__name__}: {err}"})
            continue
        for task in tasks:
            engine_task = live.get(task.engine_task_id)
            ready = engine_task is not None and engine_task.state == TaskState.READY
            if task.status == "open" and not ready:
                inconsistent.append({"instance": instance.id, "human_task": task.id,
                                     "why": "open task, engine task not ready"})
            if task.status == "completed" and ready:
                inconsistent.append({"instance": instance.id, "human_task": task.id,
                                     "why": "completed task, engine task still ready"})
        has_open = any(t.status == "open" for t in tasks)
        if not has_open and not pending_timers[instance.id] and not waiting_events:
            stuck.append(instance.id)
    problems["stuck_instances"] = stuck
    problems["half_completed_instances"] = inconsistent

    # Timers: each fired once; each due one fired. A diagram timer leaves one
    # `timer.fired` audit line per firing on its instance.
    waiting_ids = set(session.execute(
        select(ProcessInstance.id).join(ProcessDefinition,
                                        ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.name == WAITING_PROCEDURE)).scalars())
    firings = Counter(session.execute(select(AuditEvent.instance_id).where(
        AuditEvent.action == "timer.fired")).scalars())
    fired_rows = Counter(session.execute(select(Timer.instance_id).where(
        Timer.kind == "bpmn_timer", Timer.fired_at.is_not(None))).scalars())
    twice = sorted(i for i, n in firings.items() if n > max(fired_rows[i], 1)
                   or (i in waiting_ids and n > 1))
    problems["timers_fired_twice"] = twice
    missed = session.execute(select(Timer.id).where(
        Timer.fired_at.is_(None), Timer.cancelled.is_(False),
        Timer.due_at <= settle_end)).scalars().all()
    problems["timers_missed"] = sorted(missed)
    waiting_fired = sum(1 for i in waiting_ids if firings[i])

    # Jobs: all done, and every registered entry had its index job done.
    not_done = session.execute(select(BackgroundJob.id, BackgroundJob.kind,
                                      BackgroundJob.status, BackgroundJob.last_error)
                               .where(BackgroundJob.status != "done")).all()
    problems["jobs_not_done"] = [list(j) for j in not_done]
    indexed = set()
    for payload in session.execute(select(BackgroundJob.payload_json).where(
            BackgroundJob.kind == INDEX_ENTRY, BackgroundJob.status == "done")).scalars():
        indexed.add(json.loads(payload).get("entry_id"))
    never_indexed = sorted(known - indexed)
    problems["entries_never_indexed"] = never_indexed
    jobs_done = session.execute(select(func.count()).select_from(BackgroundJob).where(
        BackgroundJob.status == "done")).scalar()

    figures = {
        "registrations": len(confirmed_entries),
        "registrations_in_database": len(known),
        "gaps": gaps,
        "duplicates": duplicates,
        "lost_tasks": len(stuck) + len(unrecorded) + len(missing),
        "half_completed_instances": len({p["instance"] for p in inconsistent}),
        "timers_fired_twice": len(twice),
        "timers_missed": len(missed),
        "jobs_lost": len(not_done) + len(never_indexed),
        "tasks_completed": len(completed_tasks),
        "timers_fired": waiting_fired,
        "jobs_done": jobs_done,
    }
    return figures, {k: v for k, v in problems.items() if v}
