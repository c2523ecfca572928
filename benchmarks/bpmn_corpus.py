"""Real-world diagrams on our engine, and on SpiffWorkflow's own parsers alone.

For every `.bpmn` under DIR (default: ../shared/corpora/bpmn, Camunda's examples
and SpiffWorkflow's test diagrams): wrap it in a procedure folder in a temp dir
(the diagrams and DMN files beside it that it calls come along; every Camunda
service implementation it names is mapped to a no-op connector), deploy it on a
fresh SQLite database and, when it deployed, start it and drive it to the end
through the engine's public API: user tasks completed with empty data (no data
is invented for their conditions), timers fired by `wakeup.fire_due_timers` with
the library's clock moved to their due moment, messages the instance waits for
delivered by `wakeup.deliver_message`; bounded steps and seconds per file.

In the same run, on the same files, the baseline: SpiffWorkflow's `BpmnParser`
and `CamundaParser` alone (parse, `BpmnWorkflow`, `do_engine_steps`, ready user
tasks completed with `{}`, nothing fired).

Prints one JSON object: files, deployed, refused_with_message, crashed,
ran_to_completion, stuck, baseline {bpmn_parser, camunda_parser}, per_file.

    dosar bench bpmn-corpus [DIR] [--quick] [--limit N] [--seconds 10] [--steps 200]
"""
import argparse
import json
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager, redirect_stdout
from io import StringIO
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402
from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
import SpiffWorkflow.bpmn.specs.event_definitions.timer as library_timer  # noqa: E402

import connectors.registry.models  # noqa: E402,F401  (tables on the shared metadata)
import engine.models  # noqa: E402,F401
from connectors.db import Base  # noqa: E402
from engine import runtime, store, timers, wakeup  # noqa: E402
from engine.deployment import definition_specs, deploy_folder  # noqa: E402
from engine.errors import EngineError, ProcedureError  # noqa: E402
from engine.models import HumanTask  # noqa: E402
from engine.script_engine import DosarScriptEngine  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "corpora" / "bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NOOP = "bench.noop"
QUICK_FILES = 40       # spread over the corpus, for `dosar bench all --quick`


class OutOfTime(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    def expired(signum, frame):
        raise OutOfTime(f"mai mult de {seconds:.0f} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class MovableClock(datetime):
    """The library's `datetime` with `now()` moved forward by `offset`: timers fall
    due without waiting for them."""
    offset = timedelta(0)

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + cls.offset



def noop_operation(context, data, **params):
    return {}


def chosen_process(root) -> tuple[str | None, bool]:
    """(id, executable) of the process to run: the first executable one that no
    call activity of the file calls (a file's main process), else the first."""
    processes = root.findall(f"{{{BPMN}}}process")
    called = {c.get("calledElement") for c in root.iter(f"{{{BPMN}}}callActivity")}
    executable = [p for p in processes if p.get("isExecutable", "true") != "false"]
    for candidates in ([p for p in executable if p.get("id") not in called], executable,
                       processes):
        if candidates:
            return candidates[0].get("id"), candidates[0] in executable
    return None, False


def service_names(root) -> set[str]:
    """Every Camunda implementation name the diagram uses (mapped to the no-op)."""
    names = set()
    for node in root.iter(etree.Element):
        for attr in ("topic", "class", "delegateExpression", "expression"):
            value = node.get(f"{{{CAMUNDA}}}{attr}")
            if value and etree.QName(node).localname in ("serviceTask", "sendTask",
                                                         "businessRuleTask"):
                names.add(value)
        if etree.QName(node).localname == "connectorId" and node.text:
            names.add(node.text.strip())
    return names


def spiff_operations(root) -> set[str]:
    return {n.get("id") for n in root.iter(f"{{{SPIFF}}}serviceTaskOperator") if n.get("id")}


def decision_files(path: Path, text: str) -> list[Path]:
    """DMN files beside the diagram that define a decision it calls."""
    wanted = set(re.findall(r'decisionRef="([^"]+)"', text)) | set(
        re.findall(r"calledDecisionId>\s*([^<\s]+)\s*<", text))
    found = []
    for dmn in sorted(path.parent.glob("*.dmn")):
        ids = set(re.findall(r"<(?:\w+:)?decision\b[^>]*\bid=\"([^\"]+)\"",
                             dmn.read_text(encoding="utf-8", errors="replace")))
        if ids & wanted:
            found.append(dmn)
    return found


def called_files(path: Path, text: str) -> list[Path]:
    """Diagrams beside this one that define the processes its call activities call
    (a procedure folder holds them all), found transitively."""
    found, wanted, seen = [], set(re.findall(r'calledElement="([^"]+)"', text)), {path}
    defined = set(re.findall(r'<(?:\w+:)?process\b[^>]*\bid="([^"]+)"', text))
    wanted -= defined
    while wanted:
        name = wanted.pop()
        for other in sorted(path.parent.glob("*.bpmn")):
            if other in seen:
                continue
            other_text = other.read_text(encoding="utf-8", errors="replace")
            ids = set(re.findall(r'<(?:\w+:)?process\b[^>]*\bid="([^"]+)"', other_text))
            if name in ids:
                seen.add(other)
                found.append(other)
                defined |= ids
                wanted |= set(re.findall(r'calledElement="([^"]+)"', other_text)) - defined
                break
    return found


def fresh_session(folder: Path) -> Session:
    db = create_engine(f"sqlite:///{folder / 'dosar.db'}")
    Base.metadata.create_all(db)
    return Session(db)


def waiting_events(session, instance) -> tuple[list[str], list[str]]:
    """(names of the messages the instance waits for, every event it waits for)."""
    spec, subprocess_specs = definition_specs(instance.definition)
    loaded = store.load(session, instance, spec, subprocess_specs, DosarScriptEngine({}))
    pending = loaded.workflow.waiting_events()
    messages = sorted({e.name for e in pending
                       if e.event_type == "MessageEventDefinition" and e.name})
    described = sorted({f"{e.event_type.replace('EventDefinition', '')}"
                        f"{'(' + str(e.name) + ')' if e.name else ''}" for e in pending})
    return messages, described


def run_ours(path: Path, steps: int, seconds: float) -> dict:
    """Deploy and run one diagram on our engine; the file's result."""
    text = path.read_text(encoding="utf-8", errors="replace")
    work = Path(tempfile.mkdtemp(prefix="dosar-bpmn-"))
    MovableClock.offset = timedelta(0)
    result = {"status": None, "deployed": False, "message": None, "element": None, "steps": 0}
    session = None
    try:
        with time_limit(seconds):
            try:
                root = etree.fromstring(text.encode("utf-8"),
                                        etree.XMLParser(resolve_entities=False, no_network=True))
                process_id, _executable = chosen_process(root)
                services = service_names(root)
                operations = spiff_operations(root)
            except etree.XMLSyntaxError:
                process_id, services, operations = "?", set(), set()
            folder = work / "procedura"
            folder.mkdir()
            (folder / path.name).write_text(text, encoding="utf-8")
            for other in called_files(path, text):
                shutil.copy(other, folder / other.name)
                try:
                    other_root = etree.parse(str(other), etree.XMLParser(
                        resolve_entities=False, no_network=True)).getroot()
                    services |= service_names(other_root)
                    operations |= spiff_operations(other_root)
                except etree.XMLSyntaxError:
                    pass
            for dmn in decision_files(path, text):
                shutil.copy(dmn, folder / dmn.name)
            (folder / "procedure.json").write_text(json.dumps({
                "name": "corpus", "title": path.stem[:200], "process_id": process_id or "?",
                "department": "bench", "connectors": {name: NOOP for name in services}}),
                encoding="utf-8")
            session = fresh_session(work)
            runtime.operations = lambda: {NOOP: noop_operation,
                                          **{op: noop_operation for op in operations}}
            try:
                deploy_folder(session, folder)
                session.commit()
                result["deployed"] = True
            except ProcedureError as err:
                return {**result, "status": "refused", "message": str(err),
                        "element": err.element}
            try:
                instance = runtime.start_instance(session, "corpus", {}, None)
                session.commit()
                result.update(_drive(session, instance, steps))
            except EngineError as err:
                session.rollback()
                result.update(status="stuck", message=f"oprită: {err}")
            return result
    except OutOfTime as err:
        return {**result, "status": result["status"] or "stuck",
                "message": f"limita de timp: {err}"}
    except Exception as err:      # the point of the benchmark: count these
        return {**result, "status": "crashed", "message": f"{type(err).__name__}: {err}",
                "traceback": traceback.format_exc()[-1500:]}
    finally:
        if session is not None:
            session.close()
            session.get_bind().dispose()
        shutil.rmtree(work, ignore_errors=True)


def _drive(session, instance, steps: int) -> dict:
    """Complete tasks, fire timers, deliver messages until the instance ends."""
    delivered = set()       # messages delivered since the instance last moved otherwise
    for step in range(steps):
        session.refresh(instance)
        if instance.status == "completed":
            return {"status": "ran_to_completion", "steps": step}
        tasks = session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")
            .order_by(HumanTask.id)).scalars().all()
        if tasks:
            task = tasks[0]
            if not task.assignee and not task.group_codes:
                return {"status": "stuck", "steps": step,
                        "message": f"sarcina «{task.title}» nu are grup sau responsabil"}
            actor = runtime.Actor(task.assignee or "bench", frozenset(task.group_codes))
            runtime.complete_task(session, task.id, actor, {})
            session.commit()
            delivered.clear()
            continue
        due = [t for t in timers.pending(session, instance.id) if t.kind == timers.DIAGRAM_TIMER]
        if due:
            moment = min(t.due_at for t in due)
            now = datetime.now(timezone.utc).replace(tzinfo=None) + MovableClock.offset
            if moment > now:
                MovableClock.offset += moment - now + timedelta(seconds=1)
            wakeup.fire_due_timers(session, now=moment + timedelta(seconds=1))
            delivered.clear()
            continue
        messages, pending = waiting_events(session, instance)
        session.rollback()
        fresh = [m for m in messages if m not in delivered]
        if fresh:
            caught = wakeup.deliver_message(session, instance.id, fresh[0], {})
            session.commit()
            delivered.add(fresh[0])
            if caught:
                continue
        if messages:
            return {"status": "stuck", "steps": step,
                    "message": f"mesajele {', '.join(messages)} au fost livrate, dar instanța "
                               f"le așteaptă în continuare (corelare)"}
        if "Multiple" in pending:
            return {"status": "stuck", "steps": step,
                    "message": "așteaptă la o poartă bazată pe evenimente sau un eveniment "
                               "multiplu: motorul nu programează temporizatoarele și nu "
                               "livrează mesajele acestora"}
        return {"status": "stuck", "steps": step,
                "message": "nu mai are nimic de făcut"
                           + (f" (așteaptă: {', '.join(pending)})" if pending else "")}
    return {"status": "stuck", "steps": steps, "message": f"mai mult de {steps} pași"}


def run_library(parser_class, path: Path, steps: int, seconds: float) -> dict:
    """SpiffWorkflow alone: parse, run, complete ready user tasks with {}."""
    try:        # the corpus's scripts print: keep stdout for the report
        with time_limit(seconds), redirect_stdout(StringIO()):
            parser = parser_class()
            try:
                parser.add_bpmn_file(str(path))
                text = path.read_text(encoding="utf-8", errors="replace")
                for other in called_files(path, text):
                    parser.add_bpmn_file(str(other))
                for dmn in decision_files(path, text):
                    parser.add_dmn_file(str(dmn))
                root = etree.parse(str(path)).getroot()
                process_id, _ = chosen_process(root)
                spec = parser.get_spec(process_id)
                subprocess_specs = parser.get_subprocess_specs(process_id)
            except Exception as err:
                name = type(err).__name__
                status = "refused_at_parse" if name == "ValidationException" else "crashed"
                return {"status": status, "message": f"{name}: {err}"[:300]}
            workflow = BpmnWorkflow(spec, subprocess_specs)
            workflow.do_engine_steps()
            for _ in range(steps):
                ready = workflow.get_tasks(state=TaskState.READY, manual=True)
                if not ready:
                    break
                for task in ready:
                    task.run()
                workflow.do_engine_steps()
            if workflow.is_completed():
                return {"status": "ran_to_completion"}
            return {"status": "stuck"}
    except OutOfTime as err:
        return {"status": "stuck", "message": f"limita de timp: {err}"}
    except Exception as err:
        return {"status": "crashed", "message": f"{type(err).__name__}: {err}"[:300]}


def corpus_files(directory: Path, quick: bool, limit: int | None) -> list[Path]:
    files = sorted(directory.rglob("*.bpmn"))
    if quick and len(files) > QUICK_FILES:
        step = len(files) / QUICK_FILES
        files = [files[int(i * step)] for i in range(QUICK_FILES)]
    return files[:limit] if limit else files


def run(directory: Path, quick: bool = False, limit: int | None = None,
        steps: int = 200, seconds: float = 10.0, only: list[str] | None = None) -> dict:
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.camunda.parser import CamundaParser
    files = corpus_files(directory, quick, limit)
    if only:
        files = [f for f in files if f.name in only]
    started = time.perf_counter()
    per_file = []
    saved_operations, saved_clock = runtime.operations, library_timer.datetime
    library_timer.datetime = MovableClock
    try:
        for path in files:
            begun = time.perf_counter()
            ours = run_ours(path, steps, seconds)
            ours["seconds"] = round(time.perf_counter() - begun, 3)
            per_file.append({"file": path.relative_to(directory).as_posix(), **ours,
                             "bpmn_parser": run_library(BpmnParser, path, steps, seconds),
                             "camunda_parser": run_library(CamundaParser, path, steps, seconds)})
    finally:
        runtime.operations, library_timer.datetime = saved_operations, saved_clock
        MovableClock.offset = timedelta(0)
    count = lambda key, status: sum(1 for f in per_file if f[key]["status"] == status) \
        if key != "ours" else sum(1 for f in per_file if f["status"] == status)  # noqa: E731
    baseline = {name: {status: count(name, status) for status in
                       ("ran_to_completion", "crashed", "refused_at_parse", "stuck")}
                for name in ("bpmn_parser", "camunda_parser")}
    refused = count("ours", "refused")
    return {
        "directory": str(directory), "quick": quick, "files": len(per_file),
        "deployed": sum(1 for f in per_file if f["deployed"]),
        "refused_with_message": refused, "crashed": count("ours", "crashed"),
        "ran_to_completion": count("ours", "ran_to_completion"),
        "stuck": count("ours", "stuck"),
        "baseline": baseline, "seconds": round(time.perf_counter() - started, 1),
        "per_file": per_file,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FILES} files spread "
                                                            "over the corpus")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--steps", type=int, default=200, help="steps per instance")
    parser.add_argument("--seconds", type=float, default=10.0, help="wall time per file")
    args = parser.parse_args()
    directory = Path(args.directory)
    if not directory.is_dir():
        print(json.dumps({"skipped": f"no corpus at {directory}", "files": 0}))
        return
    print(json.dumps(run(directory, args.quick, args.limit, args.steps, args.seconds),
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
