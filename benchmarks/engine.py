"""Engine benchmark: raw SpiffWorkflow vs. the served web app, and history growth.

Prints one JSON object:
- raw_engine_tasks_per_s: user tasks completed per second by SpiffWorkflow alone, in
  memory (no database, no HTTP), on the same diagram, same machine, same run;
- http_complete_task_per_s: claim + complete through the web app over real HTTP on
  a served app (waitress, SQLite);
- ratio_http_to_raw;
- history_growth_ratio: median cost of one complete-task request when the instance
  has 1,000 completed loop passes ÷ the same at 10 passes;
- spiff_full_save_growth_ratio: for contrast, SpiffWorkflow's own full JSON save of
  the same instance at 1,000 passes ÷ at 10, measured in this run;
- loop_back_1000_ok: the 1,000-pass instance ended complete, with passes == 1000
  and no open task.

    dosar bench engine [--quick]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from benchmarks._support import login, served_app, temp_data_dir  # noqa: E402
from engine.procedure import load_package  # noqa: E402

LOOP = Path(__file__).resolve().parent / "procedures" / "loop"
USER, PASSWORD = "bench", "bench-password-1"


def ready_user_task(workflow):
    # Look in the task dict: the library's iterators lose deep tasks (see store.py).
    return next(t for t in workflow.tasks.values()
                if t.state == TaskState.READY and t.task_spec.manual)


def run_engine_tasks(workflow) -> None:
    """Like do_engine_steps, but finds ready tasks in the task dict, which the
    library's depth-limited iterators stop seeing in long loops."""
    while ready := [t for t in workflow.tasks.values()
                    if t.state == TaskState.READY and not t.task_spec.manual]:
        for task in ready:
            task.run()


def raw_engine(instances: int, passes: int) -> float:
    package = load_package(LOOP)
    start = time.perf_counter()
    done = 0
    for _ in range(instances):
        workflow = BpmnWorkflow(package.spec, package.subprocess_specs)
        workflow.get_tasks(state=TaskState.READY)[0].data["passes"] = 0
        workflow.do_engine_steps()
        for i in range(passes):
            task = ready_user_task(workflow)
            task.data["again"] = i < passes - 1
            task.run()
            workflow.do_engine_steps()
            done += 1
    return done / (time.perf_counter() - start)


def spiff_full_save_growth() -> float:
    """Time of SpiffWorkflow's serialize_json at 1,000 passes ÷ at 10 passes."""
    package = load_package(LOOP)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    workflow = BpmnWorkflow(package.spec, package.subprocess_specs)
    workflow.get_tasks(state=TaskState.READY)[0].data["passes"] = 0
    workflow.do_engine_steps()
    costs = {}
    for i in range(1, 1001):
        task = ready_user_task(workflow)
        task.data["again"] = True
        task.run()
        run_engine_tasks(workflow)
        if i in (10, 1000):
            samples = []
            for _ in range(5):
                t = time.perf_counter()
                serializer.serialize_json(workflow)
                samples.append(time.perf_counter() - t)
            costs[i] = statistics.median(samples)
    return costs[1000] / costs[10]


def prepare(data_dir: str, instances: int) -> None:
    os.environ["DOSAR_DATA_DIR"] = data_dir
    from webapp import create_app
    from webapp.auth.models import User, UserGroup
    from webapp.auth.passwords import hash_password
    from webapp.database import db
    from webapp.migrations import upgrade
    from engine import runtime
    from engine.deployment import deploy_folder
    app = create_app()
    with app.app_context():
        upgrade()
        db.session.add(User(username=USER, full_name="Benchmark", password_hash=hash_password(PASSWORD),
                            memberships=[UserGroup(group_code="reviewers")]))
        deploy_folder(db.session, LOOP)
        db.session.commit()
        actor = runtime.Actor(USER, frozenset({"reviewers"}))
        for _ in range(instances):
            runtime.start_instance(db.session, "bench_loop", {"passes": 0}, actor)
        db.session.commit()
    return app


def open_tasks(app, instance_id=None):
    from sqlalchemy import select
    from engine.models import HumanTask
    from webapp.database import db
    with app.app_context():
        stmt = select(HumanTask.id, HumanTask.instance_id).where(HumanTask.status == "open")
        if instance_id is not None:
            stmt = stmt.where(HumanTask.instance_id == instance_id)
        rows = db.session.execute(stmt.order_by(HumanTask.id)).all()
        db.session.remove()
    return rows


def http_step(client, base, token, task_id, again: bool) -> float:
    t = time.perf_counter()
    r1 = client.post(f"{base}/sarcini/{task_id}/preia", data={"csrf_token": token},
                     allow_redirects=False)
    data = {"csrf_token": token}
    if again:
        data["again"] = "on"
    r2 = client.post(f"{base}/sarcini/{task_id}/finalizeaza", data=data, allow_redirects=False)
    elapsed = time.perf_counter() - t
    if r1.status_code != 302 or r2.status_code != 302:
        raise RuntimeError(f"task {task_id}: claim {r1.status_code}, complete {r2.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer samples (CI smoke run)")
    args = parser.parse_args()
    instances, samples = (20, 20) if args.quick else (100, 50)

    raw = raw_engine(instances=instances, passes=10)
    spiff_growth = spiff_full_save_growth()

    data_dir = temp_data_dir()
    app = prepare(data_dir, instances + 2)
    with served_app({"DOSAR_DATA_DIR": data_dir}) as base:
        client, token = login(base, USER, PASSWORD)
        # Throughput: one claim+complete per instance, over many instances.
        rows = open_tasks(app)
        short_instance, long_instance = rows[-2].instance_id, rows[-1].instance_id
        throughput_rows = rows[:-2]
        start = time.perf_counter()
        for task_id, _ in throughput_rows:
            http_step(client, base, token, task_id, again=True)
        http_rate = len(throughput_rows) / (time.perf_counter() - start)

        # History growth: a request on an instance at ~10 passes vs one at ~1,000,
        # alternated so that machine noise hits both sides alike.
        def step(instance_id, again=True):
            (task_id, _), = open_tasks(app, instance_id)
            return http_step(client, base, token, task_id, again=again)

        for _ in range(10):
            step(short_instance)
        for _ in range(1000 - samples - 1):
            step(long_instance)
        at_10, at_1000 = [], []
        for _ in range(samples):
            at_10.append(step(short_instance))
            at_1000.append(step(long_instance))
        step(long_instance, again=False)              # the 1,000th pass ends the loop
        at_10, at_1000 = statistics.median(at_10), statistics.median(at_1000)

    from engine import runtime
    from engine.models import ProcessInstance
    from webapp.database import db
    with app.app_context():
        instance = db.session.get(ProcessInstance, long_instance)
        passes = runtime.instance_data(db.session, instance).get("passes")
        status = instance.status
        db.session.remove()
    ok = status == "completed" and passes == 1000 and not open_tasks(app, long_instance)
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps({
        "raw_engine_tasks_per_s": round(raw, 1),
        "http_complete_task_per_s": round(http_rate, 1),
        "ratio_http_to_raw": round(http_rate / raw, 4),
        "history_growth_ratio": round(at_1000 / at_10, 3),
        "request_ms_at_10_passes": round(at_10 * 1000, 2),
        "request_ms_at_1000_passes": round(at_1000 * 1000, 2),
        "spiff_full_save_growth_ratio": round(spiff_growth, 1),
        "loop_back_1000_ok": ok,
        "passes": passes,
        "database": "sqlite",
        "quick": args.quick,
    }))


if __name__ == "__main__":
    main()
