"""The engine's promises: long loops stay correct and cheap, a step is all or
nothing, two clerks cannot both complete one task, versions are immutable."""
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import runtime
from engine.deployment import definition_specs, deploy_folder, latest_definition
from engine.errors import TaskNotAvailable
from engine.models import AuditEvent, EngineTask, HumanTask, ProcessInstance

HERE = Path(__file__).parent / "procedures"
REVIEWER = runtime.Actor("ana", frozenset({"reviewers"}))


def open_task(session, instance_id):
    return session.execute(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                   HumanTask.status == "open")).scalar_one()


@pytest.fixture
def loop(session):
    deploy_folder(session, HERE / "loop")
    session.commit()
    instance = runtime.start_instance(session, "loop", {"passes": 0}, REVIEWER)
    session.commit()
    return instance


def test_the_library_alone_loses_a_long_script_loop(session):
    """The trap we guard against: SpiffWorkflow's depth-limited iterators stop
    seeing ready tasks of a long loop-back, so the loop silently stalls."""
    deploy_folder(session, HERE / "script_loop")
    spec, subs = definition_specs(latest_definition(session, "script_loop"))
    workflow = BpmnWorkflow(spec, subs)
    workflow.get_tasks(state=TaskState.READY)[0].data.update({"i": 0, "n": 1000})
    workflow.do_engine_steps()
    ready = [t for t in workflow.tasks.values() if t.state == TaskState.READY]
    assert ready and not ready[0].task_spec.manual      # an engine task left ready...
    assert ready[0].data["i"] < 1000                     # ...halfway through the loop
    assert not any(t.task_spec.name == "final" and t.state == TaskState.READY
                   for t in workflow.tasks.values())


def test_a_script_loop_of_1000_passes_runs_to_the_end(session):
    deploy_folder(session, HERE / "script_loop")
    instance = runtime.start_instance(session, "script_loop", {"i": 0, "n": 1000}, REVIEWER)
    session.commit()
    assert runtime.instance_data(session, instance)["i"] == 1000
    assert open_task(session, instance.id).title == "Verificare finală"
    assert instance.status == "running"


def test_loop_back_through_a_user_task_1000_times(session, loop, database_url):
    passes = 1000 if database_url.startswith("sqlite") else 150
    live_counts = set()
    for i in range(passes):
        task = open_task(session, loop.id)
        assert loop.status == "running"     # never complete while a task is ready
        runtime.complete_task(session, task.id, REVIEWER, {"again": i < passes - 1})
        session.commit()
        live_counts.add(session.execute(select(func.count()).select_from(EngineTask).where(
            EngineTask.instance_id == loop.id, EngineTask.live.is_(True))).scalar_one())
    assert loop.status == "completed"
    assert runtime.instance_data(session, loop)["passes"] == passes
    assert session.execute(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == loop.id, HumanTask.status == "open")).scalar_one() == 0
    # The loaded tree stays small however long the history: that is what keeps
    # the cost of a request flat.
    assert max(live_counts) <= 8
    history = session.execute(select(func.count()).select_from(EngineTask).where(
        EngineTask.instance_id == loop.id)).scalar_one()
    assert history >= 4 * passes


def test_identical_task_data_is_stored_once(session, loop):
    from engine.models import TaskData
    for i in range(5):
        runtime.complete_task(session, open_task(session, loop.id).id, REVIEWER, {"again": True})
        session.commit()
    rows = session.execute(select(func.count()).select_from(EngineTask).where(
        EngineTask.instance_id == loop.id)).scalar_one()
    distinct = session.execute(select(func.count(func.distinct(EngineTask.data_hash))).where(
        EngineTask.instance_id == loop.id)).scalar_one()
    assert session.execute(select(func.count()).select_from(TaskData)).scalar_one() == distinct
    assert distinct < rows / 2


def test_every_step_leaves_an_audit_event(session, loop):
    task = open_task(session, loop.id)
    runtime.claim(session, task.id, REVIEWER)
    runtime.complete_task(session, task.id, REVIEWER, {"again": True})
    session.commit()
    events = session.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.after_json)
                             .where(AuditEvent.instance_id == loop.id)
                             .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["instance.started", "task.claimed", "task.completed"]
    assert events[2].actor == "ana" and '"again":true' in events[2].after_json


def test_two_clerks_completing_the_same_task_exactly_one_wins(app, loop):
    from webapp.database import db
    task_id = open_task(db.session, loop.id).id
    db.session.commit()
    engine = db.engine
    barrier = threading.Barrier(2)
    results = {}

    def clerk(name):
        with Session(engine) as session:
            barrier.wait()
            try:
                runtime.complete_task(session, task_id, runtime.Actor(name, frozenset({"reviewers"})),
                                      {"again": True})
                session.commit()
                results[name] = "ok"
            except TaskNotAvailable as err:
                session.rollback()
                results[name] = str(err)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in ("ana", "ion")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, r in results.items() if r == "ok"]
    assert len(winners) == 1, results
    loser = next(n for n in results if n not in winners)
    assert results[loser].startswith(f"Sarcina a fost deja finalizată de {winners[0]}")
    db.session.expire_all()
    assert runtime.instance_data(db.session, loop)["passes"] == 1   # ran once, not twice
    open_rows = db.session.execute(select(HumanTask).where(
        HumanTask.instance_id == loop.id, HumanTask.status == "open")).scalars().all()
    assert len(open_rows) == 1


CRASHER = """
import os, signal, sys
sys.path.insert(0, {root!r})
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
import webapp, webapp.database
from engine import runtime
engine = create_engine({url!r})
with Session(engine) as session:
    runtime.complete_task(session, {task_id}, runtime.Actor("ana", frozenset({{"reviewers"}})),
                          {{"again": True}})
    session.flush()                       # every write has reached the database...
    os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before COMMIT
"""


def test_a_process_killed_mid_step_leaves_the_instance_as_it_was(session, loop, database_url):
    task = open_task(session, loop.id)
    task_id = task.id
    before_rows = session.execute(select(EngineTask.id, EngineTask.state, EngineTask.live)
                                  .where(EngineTask.instance_id == loop.id)
                                  .order_by(EngineTask.id)).all()
    before_version = loop.lock_version
    session.commit()   # (touch no attribute now: it would reopen a transaction)
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run([sys.executable, "-c", CRASHER.format(root=root, url=database_url,
                                                                task_id=task_id)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    session.expire_all()
    after_rows = session.execute(select(EngineTask.id, EngineTask.state, EngineTask.live)
                                 .where(EngineTask.instance_id == loop.id)
                                 .order_by(EngineTask.id)).all()
    assert after_rows == before_rows
    assert session.get(ProcessInstance, loop.id).lock_version == before_version
    assert open_task(session, loop.id).id == task_id
    # And the step can be done properly afterwards.
    runtime.complete_task(session, task_id, REVIEWER, {"again": False})
    session.commit()
    assert session.get(ProcessInstance, loop.id).status == "completed"


def test_running_instances_keep_their_version(session, loop, tmp_path):
    first = latest_definition(session, "loop")
    again, created = deploy_folder(session, HERE / "loop")
    assert not created and again.id == first.id       # same files, same version
    changed = tmp_path / "loop"
    shutil.copytree(HERE / "loop", changed)
    bpmn = changed / "loop.bpmn"
    bpmn.write_text(bpmn.read_text().replace('name="Revizuire"', 'name="Revizuire (v2)"'))
    second, created = deploy_folder(session, changed)
    session.commit()
    assert created and second.version_hash != first.version_hash
    runtime.complete_task(session, open_task(session, loop.id).id, REVIEWER, {"again": True})
    session.commit()
    assert open_task(session, loop.id).title == "Revizuire"          # old instance, old version
    fresh = runtime.start_instance(session, "loop", {"passes": 0}, REVIEWER)
    session.commit()
    assert fresh.definition_id == second.id
    assert open_task(session, fresh.id).title == "Revizuire (v2)"
    # Deploying the first version's files again rolls back to it.
    back, created = deploy_folder(session, HERE / "loop")
    session.commit()
    assert not created and back.id == first.id
    assert latest_definition(session, "loop").id == first.id


def test_a_clerk_outside_the_groups_cannot_complete(session, loop):
    from engine.errors import NotPermitted
    with pytest.raises(NotPermitted):
        runtime.complete_task(session, open_task(session, loop.id).id,
                              runtime.Actor("mallory", frozenset({"urbanism"})), {"again": True})


def test_candidate_groups_come_from_the_lane_when_the_task_names_none(session, tmp_path):
    folder = tmp_path / "loop"
    shutil.copytree(HERE / "loop", folder)
    bpmn = folder / "loop.bpmn"
    text = bpmn.read_text()
    text = text.replace('<spiffworkflow:property name="candidateGroups" value="reviewers" />', "")
    text = text.replace('<bpmn:startEvent id="start">', (
        '<bpmn:laneSet id="lanes"><bpmn:lane id="lane_reg" name="Registratura">'
        '<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>'
        '<bpmn:flowNodeRef>count</bpmn:flowNodeRef><bpmn:flowNodeRef>again_gw</bpmn:flowNodeRef>'
        '<bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>'
        '<bpmn:startEvent id="start">'))
    bpmn.write_text(text)
    (folder / "procedure.json").write_text(
        '{"name": "loop", "title": "Buclă", "process_id": "loop",'
        ' "lanes": {"Registratura": "registratura"}}')
    deploy_folder(session, folder)
    instance = runtime.start_instance(session, "loop", {"passes": 0}, REVIEWER)
    session.commit()
    task = open_task(session, instance.id)
    assert task.lane == "Registratura"
    assert task.group_codes == ["registratura"]


def test_a_parallel_join_waits_for_both_branches_across_requests(session):
    """Each branch is completed in its own request (load, prune, save between)."""
    deploy_folder(session, HERE / "parallel")
    instance = runtime.start_instance(session, "parallel", {}, REVIEWER)
    session.commit()

    def open_titles():
        return sorted(t.title for t in session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalars())

    def complete(title, **data):
        task = session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open",
            HumanTask.title == title)).scalar_one()
        runtime.complete_task(session, task.id, REVIEWER, data)
        session.commit()

    assert open_titles() == ["Aviz juridic", "Aviz tehnic"]
    for _ in range(3):                       # one branch loops while the other waits
        complete("Aviz juridic", again=True)
        assert open_titles() == ["Aviz juridic", "Aviz tehnic"]
    complete("Aviz juridic", again=False)
    assert open_titles() == ["Aviz tehnic"]  # the join waits for the other branch
    assert instance.status == "running"
    complete("Aviz tehnic")
    assert open_titles() == ["Decizie"]
    complete("Decizie")
    assert instance.status == "completed" and open_titles() == []
