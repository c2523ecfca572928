"""Diagrams drawn in Camunda Modeler run on our engine, or are refused at deploy time
with a Romanian message naming the element: each feature of the dialect, translated
and run to the end on a real SQLite database, and each refusal."""
import json
import time

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import connectors.registry.models  # noqa: F401  (tables on the shared metadata)
import engine.models  # noqa: F401
from connectors.db import Base, utcnow
from engine import runtime
from engine.deployment import deploy_folder
from engine.errors import EngineError, ProcedureError
from engine.models import HumanTask
from engine.models_sla import Timer
from engine.wakeup import fire_due_timers

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
"""
TAIL = "  </bpmn:process>\n</bpmn:definitions>\n"


def chain(*elements: str) -> str:
    """start → each element (given as its opening tag's inside and body) → end."""
    ids = ["start", *[f"e{i}" for i in range(len(elements))], "end"]
    parts = ['<bpmn:startEvent id="start" />']
    for i, element in enumerate(elements):
        tag, _, rest = element.partition(" ")
        parts.append(f'<bpmn:{tag} id="e{i}" {rest}')
    parts.append('<bpmn:endEvent id="end" />')
    flows = [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />'
             for i, (a, b) in enumerate(zip(ids, ids[1:]))]
    return HEAD + "\n".join(parts + flows) + TAIL


@pytest.fixture
def session(tmp_path):
    db = create_engine(f"sqlite:///{tmp_path / 'dosar.db'}")
    Base.metadata.create_all(db)
    with Session(db) as session:
        yield session
    db.dispose()


def procedure(tmp_path, diagram: str, files: dict | None = None, **metadata):
    folder = tmp_path / "camunda"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "camunda.bpmn").write_text(diagram, encoding="utf-8")
    for rel, text in (files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    (folder / "procedure.json").write_text(json.dumps(
        {"name": "camunda", "title": "Din Camunda", "process_id": "p", **metadata}),
        encoding="utf-8")
    return folder


def deploy_and_start(session, tmp_path, diagram, data=None, files=None, **metadata):
    deploy_folder(session, procedure(tmp_path, diagram, files, **metadata))
    session.commit()
    instance = runtime.start_instance(session, "camunda", data or {}, None)
    session.commit()
    return instance


def open_tasks(session, instance):
    return session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")
        .order_by(HumanTask.id)).scalars().all()


def complete(session, task, data=None):
    actor = runtime.Actor(task.assignee or "functionar", frozenset(task.group_codes))
    runtime.complete_task(session, task.id, actor, data or {})
    session.commit()


def refusal(session, tmp_path, diagram, files=None, **metadata) -> ProcedureError:
    with pytest.raises(ProcedureError) as caught:
        deploy_folder(session, procedure(tmp_path, diagram, files, **metadata))
    return caught.value


FORM = json.dumps({"schema": {"type": "object", "properties": {
    "observatii": {"type": "string", "title": "Observații"}}}})


def test_candidate_groups_assignee_form_and_due_date_reach_the_inbox(session, tmp_path):
    diagram = chain(
        'userTask name="Analiză" camunda:candidateGroups="dept-${department}, registratura" '
        'camunda:formKey="embedded:app:forms/analiza.html" camunda:dueDate="${termen}" />',
        'userTask name="Semnare" camunda:assignee="${sef}" />',
        'userTask name="Verificare" camunda:candidateUsers="ana" />')
    instance = deploy_and_start(session, tmp_path, diagram,
                                {"department": "urbanism", "sef": "ion", "termen": "2026-12-01"},
                                files={"forms/analiza.json": FORM})
    (task,) = open_tasks(session, instance)
    assert (task.title, task.group_codes, task.form_name) == (
        "Analiză", ["dept-urbanism", "registratura"], "analiza")
    complete(session, task)
    (task,) = open_tasks(session, instance)
    assert (task.title, task.assignee, task.group_codes) == ("Semnare", "ion", [])
    complete(session, task)
    (task,) = open_tasks(session, instance)
    assert (task.title, task.assignee) == ("Verificare", "ana")
    complete(session, task)
    session.refresh(instance)
    assert instance.status == "completed"


def test_a_form_key_without_its_form_leaves_the_task_without_fields(session, tmp_path):
    instance = deploy_and_start(session, tmp_path, chain(
        'userTask name="Aprobare" camunda:formKey="camunda-forms:deployment:lipsa.form" '
        'camunda:candidateGroups="primar" />'))
    (task,) = open_tasks(session, instance)
    assert task.form_name is None
    complete(session, task)
    session.refresh(instance)
    assert instance.status == "completed"


def test_a_task_nobody_is_named_for_goes_to_the_departments_clerks(session, tmp_path):
    instance = deploy_and_start(session, tmp_path, chain('userTask name="Oricine" />'),
                                department="taxe")
    (task,) = open_tasks(session, instance)
    assert task.group_codes == ["dept-taxe"]


def test_simple_expressions_choose_the_gateway_branch(session, tmp_path):
    diagram = HEAD + """
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="gw" name="Suma?" />
    <bpmn:userTask id="mare" name="Sumă mare" camunda:candidateGroups="primar" />
    <bpmn:userTask id="mica" name="Sumă mică" camunda:candidateGroups="primar" />
    <bpmn:userTask id="goala" name="Fără nume" camunda:candidateGroups="primar" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw" />
    <bpmn:sequenceFlow id="f1" sourceRef="gw" targetRef="mare">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${suma &gt; 100 &amp;&amp; !urgent}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="goala">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">#{empty nume || urgent == true}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="mica">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${not empty nume &amp;&amp; suma le 100 &amp;&amp; tip ne "x"}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="mare" targetRef="end" />
    <bpmn:sequenceFlow id="f5" sourceRef="mica" targetRef="end" />
    <bpmn:sequenceFlow id="f6" sourceRef="goala" targetRef="end" />
""" + TAIL
    cases = [({"suma": 500, "urgent": False, "nume": "a", "tip": "x"}, "Sumă mare"),
             ({"suma": 50, "urgent": False, "nume": "", "tip": "x"}, "Fără nume"),
             ({"suma": 50, "urgent": False, "nume": "Ana", "tip": "y"}, "Sumă mică")]
    for data, expected in cases:
        instance = deploy_and_start(session, tmp_path, diagram, data)
        (task,) = open_tasks(session, instance)
        assert task.title == expected, data
        complete(session, task)
        session.refresh(instance)
        assert instance.status == "completed"


def test_unquoted_iso_timers_fire_from_their_rows(session, tmp_path):
    diagram = chain(
        'intermediateCatchEvent name="O secundă"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1S</bpmn:timeDuration>'
        '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        'intermediateCatchEvent name="Dată trecută"><bpmn:timerEventDefinition>'
        '<bpmn:timeDate>2020-01-01T08:00:00Z</bpmn:timeDate>'
        '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    instance = deploy_and_start(session, tmp_path, diagram)
    (timer,) = session.execute(select(Timer)).scalars().all()
    while utcnow() < timer.due_at:
        time.sleep(0.2)
    fire_due_timers(session)
    session.refresh(instance)
    assert instance.status == "completed"


def test_generic_service_tasks_call_the_mapped_connector_operation(session, tmp_path):
    diagram = chain(
        'serviceTask name="Extern" camunda:type="external" camunda:topic="inchide-termen" '
        'camunda:resultVariable="rezultat" />',
        'serviceTask name="Clasă" camunda:class="ro.primarie.InchideTermen" />',
        'sendTask name="Delegat" camunda:delegateExpression="${inchidere}" />',
        'serviceTask name="Expresie" camunda:expression="${termene.inchide(execution)}" />')
    mapping = {"inchide-termen": "sla.stop", "ro.primarie.InchideTermen": "sla.stop",
               "${inchidere}": "sla.stop", "${termene.inchide(execution)}": "sla.stop"}
    instance = deploy_and_start(session, tmp_path, diagram, connectors=mapping)
    session.refresh(instance)
    assert instance.status == "completed"
    assert runtime.instance_data(session, instance)["rezultat"] == {}


def test_an_unmapped_service_task_is_refused_naming_it(session, tmp_path):
    err = refusal(session, tmp_path, chain(
        'serviceTask name="Plată" camunda:type="external" camunda:topic="plata" />'))
    assert err.element == "Plată (e0)" and "plata" in str(err) and "connectors" in str(err)
    err = refusal(session, tmp_path, chain(
        'serviceTask name="Java" camunda:class="ro.X" />'), connectors={"ro.Y": "sla.stop"})
    assert err.element == "Java (e0)" and "ro.X" in str(err)


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn" name="d" namespace="t">
  <decision id="nivel" name="Nivel">
    <decisionTable id="tabel">
      <input id="in1" label="Suma"><inputExpression id="ie1" typeRef="integer"><text>suma</text></inputExpression></input>
      <output id="out1" name="nivel" typeRef="string" />
      <rule id="r1"><inputEntry id="c1"><text>&gt; 100</text></inputEntry><outputEntry id="o1"><text>"mare"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="c2"><text>&lt;= 100</text></inputEntry><outputEntry id="o2"><text>"mic"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_a_decision_ref_runs_the_dmn_of_the_folder_or_is_refused(session, tmp_path):
    diagram = chain('businessRuleTask name="Decizie" camunda:decisionRef="nivel" />')
    instance = deploy_and_start(session, tmp_path, diagram, {"suma": 150},
                                files={"nivel.dmn": DMN})
    session.refresh(instance)
    assert instance.status == "completed"
    assert runtime.instance_data(session, instance)["nivel"] == "mare"
    err = refusal(session, tmp_path / "fara", chain(
        'businessRuleTask name="Decizie" camunda:decisionRef="altul" />'))
    assert err.element == "Decizie (e0)" and "altul" in str(err)


def test_plain_input_output_parameters_become_task_data(session, tmp_path):
    diagram = chain(
        'userTask name="Cu parametri" camunda:candidateGroups="primar">'
        '<bpmn:extensionElements><camunda:inputOutput>'
        '<camunda:inputParameter name="canal">posta</camunda:inputParameter>'
        '<camunda:inputParameter name="copie">${suma}</camunda:inputParameter>'
        '</camunda:inputOutput></bpmn:extensionElements></bpmn:userTask>')
    instance = deploy_and_start(session, tmp_path, diagram, {"suma": 7})
    (task,) = open_tasks(session, instance)
    data = runtime.instance_data(session, instance)
    assert (data["canal"], data["copie"]) == ("posta", 7)
    complete(session, task)


@pytest.mark.parametrize("element, words", [
    ('scriptTask name="Calcul" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script>'
     '</bpmn:scriptTask>', "groovy"),
    ('userTask name="Cu ascultător" camunda:candidateGroups="primar"><bpmn:extensionElements>'
     '<camunda:executionListener class="ro.Ascultator" event="start" />'
     '</bpmn:extensionElements></bpmn:userTask>', "ascultătorii"),
    ('userTask name="Bean" camunda:assignee="${servicii.cine(execution)}" />', "responsabilul"),
    ('userTask name="Doi" camunda:candidateUsers="ana, ion" />', "candidateUsers"),
    ('userTask name="Nimeni" />', "cine o face"),
    ('intermediateCatchEvent name="Cron"><bpmn:timerEventDefinition><bpmn:timeCycle>'
     '0 0/5 * * * ?</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
     "cron"),
    ('userTask name="Necunoscut" camunda:candidateGroups="primar" camunda:ceva="da" />',
     "camunda:ceva"),
    ('serviceTask name="Fără implementare" />', "conector"),
    ('callActivity name="Apel" calledElement="lipsa" />', "«lipsa» nu există"),
])
def test_what_cannot_run_is_refused_naming_the_element(session, tmp_path, element, words):
    err = refusal(session, tmp_path, chain(element))
    assert err.element is not None and "(e0)" in err.element, str(err)
    assert words in str(err)
    assert "Traceback" not in str(err)


def test_a_gateway_expression_beyond_the_simple_subset_is_refused(session, tmp_path):
    diagram = chain('userTask name="A" camunda:candidateGroups="primar" />').replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="e0" targetRef="end" />',
        '<bpmn:sequenceFlow id="f1" sourceRef="e0" targetRef="end"><bpmn:conditionExpression '
        'xsi:type="bpmn:tFormalExpression">${client.prop("varsta").numberValue() &gt;= 18}'
        '</bpmn:conditionExpression></bpmn:sequenceFlow>')
    err = refusal(session, tmp_path, diagram)
    assert err.element == "(f1)" and "client.prop" in str(err)


def test_a_run_time_failure_of_the_library_is_told_in_romanian(session, tmp_path):
    diagram = HEAD + """
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="gw" name="Aprobat?" />
    <bpmn:endEvent id="da" /><bpmn:endEvent id="nu" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw" />
    <bpmn:sequenceFlow id="f1" sourceRef="gw" targetRef="da">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${aprobat}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="nu">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${!aprobat}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
""" + TAIL
    deploy_folder(session, procedure(tmp_path, diagram))
    with pytest.raises(EngineError) as caught:
        runtime.start_instance(session, "camunda", {}, None)
    assert "condiția «aprobat» nu a putut fi evaluată" in str(caught.value)
    assert "«Aprobat?» (gw)" in str(caught.value)


def test_an_event_based_gateway_is_refused_naming_it(session, tmp_path):
    diagram = HEAD + """
    <bpmn:startEvent id="start" />
    <bpmn:eventBasedGateway id="gw" name="Ce vine întâi?" />
    <bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw" />
    <bpmn:sequenceFlow id="f1" sourceRef="gw" targetRef="t" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end" />
""" + TAIL
    err = refusal(session, tmp_path, diagram)
    assert err.element == "Ce vine întâi? (gw)" and "poarta bazată pe evenimente" in str(err)


def test_implicit_splits_and_joins_run_as_bpmn_says(session, tmp_path):
    """Two plain flows out of a task: both branches (D, joined without a gateway, runs
    once per branch); conditional flows out of a task: those whose condition holds."""
    diagram = HEAD + """
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="a" name="A" camunda:candidateGroups="g" />
    <bpmn:userTask id="b" name="B" camunda:candidateGroups="g" />
    <bpmn:userTask id="c" name="C" camunda:candidateGroups="g" />
    <bpmn:userTask id="x" name="X" camunda:candidateGroups="g" />
    <bpmn:userTask id="y" name="Y" camunda:candidateGroups="g" />
    <bpmn:userTask id="join" name="D" camunda:candidateGroups="g" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="a" />
    <bpmn:sequenceFlow id="f1" sourceRef="a" targetRef="b" />
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="c" />
    <bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="join" />
    <bpmn:sequenceFlow id="f4" sourceRef="c" targetRef="x">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${suma &gt; 10}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="c" targetRef="y">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${suma &lt;= 10}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f6" sourceRef="x" targetRef="join" />
    <bpmn:sequenceFlow id="f7" sourceRef="y" targetRef="join" />
    <bpmn:sequenceFlow id="f8" sourceRef="join" targetRef="end" />
""" + TAIL
    instance = deploy_and_start(session, tmp_path, diagram, {"suma": 50})
    seen = []
    while tasks := open_tasks(session, instance):
        seen.append(tasks[0].title)
        complete(session, tasks[0])
    assert sorted(seen) == ["A", "B", "C", "D", "D", "X"]
    session.refresh(instance)
    assert instance.status == "completed"


def test_a_sub_process_without_start_and_end_events_runs(session, tmp_path):
    diagram = chain('subProcess name="Verificări">'
                    '<bpmn:userTask id="inner" name="Verificare" camunda:candidateGroups="g" />'
                    '</bpmn:subProcess>')
    instance = deploy_and_start(session, tmp_path, diagram)
    (task,) = open_tasks(session, instance)
    assert task.title == "Verificare"
    complete(session, task)
    session.refresh(instance)
    assert instance.status == "completed"
