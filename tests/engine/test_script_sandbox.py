"""Analysts' scripts cannot harm the server: every file of `hostile_scripts/` is either
refused when its diagram is deployed (naming the element) or stopped while it runs with
a Romanian message naming the step; right after each, the web app answers and a normal
instance still runs in the same thread."""
import re
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from demo_town import demo_town

from engine import runtime, sandbox
from engine.deployment import deploy_folder
from engine.errors import EngineError, ProcedureError
from engine.script_engine import UnsafeScript, check_source

HOSTILE = Path(__file__).parent / "hostile_scripts"
PROCEDURES = Path(__file__).parent / "procedures"
CASES = sorted(HOSTILE.glob("*.py"))
REVIEWER = runtime.Actor("ana", frozenset({"reviewers"}))
TEST_LIMITS = sandbox.ScriptLimits(seconds=0.5)

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="{name}_definitions" targetNamespace="http://dosar.example/bpmn">
  <bpmn:process id="{name}" name="Ostil" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="hostile" name="Pas ostil">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="final" name="Verificare">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="candidateGroups" value="reviewers" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="hostile" />
    <bpmn:sequenceFlow id="f2" sourceRef="hostile" targetRef="final" />
    <bpmn:sequenceFlow id="f3" sourceRef="final" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def procedure_with_script(root: Path, name: str, script: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "procedure.json").write_text(
        f'{{"name": "{name}", "title": "Ostil", "process_id": "{name}"}}', encoding="utf-8")
    escaped = script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    (folder / f"{name}.bpmn").write_text(DIAGRAM.format(name=name, script=escaped),
                                         encoding="utf-8")
    return folder


def read_case(path: Path) -> tuple[str, str]:
    first, _, body = path.read_text(encoding="utf-8").partition("\n")
    expect = re.match(r"# expect: (.*)", first).group(1).strip()
    return body, expect


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """One demo town hall (SQLite) for the whole corpus; scripts get 0.5 s here."""
    from webapp.database import db
    app = demo_town(tmp_path_factory.mktemp("sandbox"))
    with app.app_context():
        deploy_folder(db.session, PROCEDURES / "script_loop")
        db.session.commit()
        db.session.remove()
    before = sandbox.current_limits()
    sandbox.configure(TEST_LIMITS)
    yield app
    sandbox.configure(before)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def still_serving(app) -> None:
    """A page answers and a normal instance (scripts and a gateway, 5 passes) runs."""
    from webapp.database import db
    assert app.test_client().get("/autentificare").status_code == 200
    with app.app_context():
        instance = runtime.start_instance(db.session, "script_loop", {"i": 0, "n": 5}, REVIEWER)
        db.session.commit()
        assert runtime.instance_data(db.session, instance)["i"] == 5
        db.session.remove()
    assert not tracemalloc.is_tracing()


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_hostile_script_is_refused_or_stopped(web, tmp_path, case):
    from webapp.database import db
    source, expect = read_case(case)
    name = "h_" + case.stem
    folder = procedure_with_script(tmp_path, name, source)
    with web.app_context():
        if expect == "static":
            with pytest.raises(UnsafeScript):
                check_source(source)
            with pytest.raises(ProcedureError, match=r"refuzat.*elementul Pas ostil \(hostile\)"):
                deploy_folder(db.session, folder)
            db.session.rollback()
        else:
            reason = expect.removeprefix("runtime:").strip()
            deploy_folder(db.session, folder)
            db.session.commit()
            started = time.monotonic()
            with pytest.raises(EngineError) as error:
                runtime.start_instance(db.session, name, {}, REVIEWER)
            db.session.rollback()
            assert time.monotonic() - started < 5
            assert re.search(r"Scriptul pasului «Pas ostil» a fost oprit", str(error.value))
            assert re.search(reason, str(error.value)), str(error.value)
        db.session.remove()
    still_serving(web)


def test_the_corpus_covers_every_kind_of_attack():
    names = {c.stem for c in CASES}
    assert len(names) >= 40
    kinds = {read_case(c)[1].split(":")[0] for c in CASES}
    assert kinds == {"static", "runtime"}


def test_ordinary_scripts_keep_their_meaning(web):
    """Task data in and out as SpiffWorkflow does it: lists grown in place, f-strings,
    % formatting, comprehensions, lambdas, ranges and integer powers all still work."""
    from engine.script_engine import DosarScriptEngine

    class Task:
        data = {"items": [3, 1, 2], "amount": 1500}
        task_spec = type("Spec", (), {"bpmn_name": "Calcul", "bpmn_id": "c", "name": "c"})()

    engine = DosarScriptEngine({})
    task = Task()
    alias = task.data["items"]
    engine.execute(task, "items += [4]\n"
                         "total = sum(i * 2 for i in items)\n"
                         "label = f'{amount:>8} lei' + ' / ' + '%s-%d' % ('nr', 7)\n"
                         "big = 2 ** 64\n"
                         "squares = [n ** 2 for n in range(5)]\n"
                         "order = sorted(items, key=lambda v: -v)\n"
                         "text = ', '.join(str(i) for i in items).upper().ljust(12, '.')\n")
    assert alias == [3, 1, 2, 4]
    assert task.data["total"] == 20 and task.data["label"] == "    1500 lei / nr-7"
    assert task.data["big"] == 18446744073709551616
    assert task.data["squares"] == [0, 1, 4, 9, 16] and task.data["order"] == [4, 3, 2, 1]
    assert task.data["text"] == "3, 1, 2, 4.."
    assert not any(k.startswith("__") for k in task.data)
    assert engine.evaluate(task, "amount > 1000 and len(items) == 4") is True
    assert engine.evaluate(task, "isinstance(label, (str, int)) and str.upper('a') == 'A' "
                                 "and str(items) == '[3, 1, 2, 4]' and round(2.567, 2) == 2.57 "
                                 "and sum([[1], [2]], []) == [1, 2]") is True
    task.data.update(type="cerere", id=7)        # form fields may be named like builtins
    assert engine.evaluate(task, "type == 'cerere' and id == 7") is True


def test_limits_come_from_the_deployment(monkeypatch):
    assert sandbox.limits_from_environment({}) == sandbox.ScriptLimits(
        seconds=2.0, memory_bytes=64 * 1024 * 1024, max_depth=100)
    limits = sandbox.limits_from_environment({"DOSAR_SCRIPT_SECONDS": "0.2",
                                              "DOSAR_SCRIPT_MEMORY_MB": "8",
                                              "DOSAR_SCRIPT_MAX_DEPTH": "10"})
    assert (limits.seconds, limits.memory_bytes, limits.max_depth) == (0.2, 8 * 1024 * 1024, 10)
    from engine.script_engine import DosarScriptEngine, ScriptLimitExceeded

    class Task:
        data = {}
        task_spec = type("Spec", (), {"bpmn_name": "Buclă", "bpmn_id": "b", "name": "b"})()

    engine = DosarScriptEngine({})
    engine.limits = limits
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="«Buclă».*0.2 s"):
        engine.execute(Task(), "while True:\n    pass")
    assert time.monotonic() - started < 1
    with pytest.raises(ScriptLimitExceeded, match="8 MB"):
        engine.execute(Task(), "x = 'a' * (9 * 1024 * 1024)")
    engine.execute(Task(), "x = 'a' * (7 * 1024 * 1024)")          # under the budget


def test_the_default_budget_is_two_seconds_and_a_worker_thread_goes_on():
    from engine.script_engine import DosarScriptEngine, ScriptLimitExceeded

    class Task:
        data = {}
        task_spec = type("Spec", (), {"bpmn_name": "Buclă", "bpmn_id": "b", "name": "b"})()

    outcome = {}

    def worker():
        engine = DosarScriptEngine({})
        engine.limits = sandbox.limits_from_environment({})
        started = time.monotonic()
        try:
            engine.execute(Task(), "while True:\n    pass")
        except ScriptLimitExceeded as err:
            outcome["error"], outcome["seconds"] = str(err), time.monotonic() - started
        task = Task()
        task.data = {"n": 2}
        engine.execute(task, "n = n * 21")
        outcome["after"] = task.data["n"]

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert "2 s" in outcome["error"] and 1.9 < outcome["seconds"] < 4
    assert outcome["after"] == 42


def test_a_gateway_condition_is_checked_at_deploy_time(tmp_path):
    from engine.procedure import load_package
    folder = tmp_path / "script_loop"
    folder.mkdir()
    for f in (PROCEDURES / "script_loop").iterdir():
        (folder / f.name).write_text(f.read_text())
    bpmn = folder / "script_loop.bpmn"
    bpmn.write_text(bpmn.read_text().replace("i &lt; n", "i.__class__ is int"))
    with pytest.raises(ProcedureError, match="__class__"):
        load_package(folder)
