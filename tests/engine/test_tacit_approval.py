"""Tacit approval (OUG 27/2003): when the legal term passes unanswered, the
request is approved. The timer delivers the `aprobare_tacita` message; the
diagram decides what approval means by catching it."""
import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

from connectors.registry.models import Register
from engine import runtime
from engine.deployment import deploy_folder
from engine.models import HumanTask
from engine.models_sla import Timer
from engine.wakeup import fire_due_timers

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:message id="tacit_message" name="aprobare_tacita" />
  <bpmn:process id="permit" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="register" name="Înregistrare">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="registry.register_document" resultVariable="registration"><spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:serviceTask id="clock" name="Termen">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="sla.start" resultVariable="term"><spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="analyse" name="Analiză">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="candidateGroups" value="dept-comert" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="silence" name="Termen depășit" attachedToRef="analyse">
      <bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="tacit_message" />
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="approve_tacitly" name="Aprobare tacită">
      <bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
      <bpmn:script>outcome = 'aprobat tacit'</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="answered"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="approved"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="register" />
    <bpmn:sequenceFlow id="f2" sourceRef="register" targetRef="clock" />
    <bpmn:sequenceFlow id="f3" sourceRef="clock" targetRef="analyse" />
    <bpmn:sequenceFlow id="f4" sourceRef="analyse" targetRef="answered" />
    <bpmn:sequenceFlow id="f5" sourceRef="silence" targetRef="approve_tacitly" />
    <bpmn:sequenceFlow id="f6" sourceRef="approve_tacitly" targetRef="approved" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def permit_folder(tmp_path):
    folder = tmp_path / "permit"
    folder.mkdir()
    (folder / "permit.bpmn").write_text(DIAGRAM, encoding="utf-8")
    (folder / "procedure.json").write_text(json.dumps({
        "name": "permit", "title": "Acord de funcționare", "process_id": "permit",
        "department": "comert", "register": "general"}), encoding="utf-8")
    (folder / "sla.json").write_text(json.dumps({
        "term": 30, "unit": "calendar_days", "tacit_approval": True,
        "reminders_days_before": []}), encoding="utf-8")
    return folder


def test_silence_past_the_term_approves_tacitly_once(session, permit_folder):
    session.add(Register(code="general", name="Registrul general", prefix=""))
    deploy_folder(session, permit_folder)
    session.commit()
    instance = runtime.start_instance(session, "permit", {"sender_name": "SC Exemplu SRL"},
                                      runtime.Actor("registratura", frozenset({"registratura"})),
                                      today=date(2026, 3, 2))
    session.commit()
    assert instance.due_on == date(2026, 4, 1)
    kinds = session.execute(select(Timer.kind).order_by(Timer.due_at)).scalars().all()
    assert kinds == ["tacit_approval", "escalation"]

    fired = fire_due_timers(session, datetime(2026, 4, 2, 12, 0))
    assert [(f.kind, f.outcome) for f in fired] == [
        ("tacit_approval", "aprobare tacită")]   # the closed case cancelled its escalation
    session.refresh(instance)
    assert instance.status == "completed"
    assert runtime.instance_data(session, instance)["outcome"] == "aprobat tacit"
    # The clerk's task went away with the approval.
    assert session.execute(select(HumanTask.status)).scalars().all() == ["cancelled"]
    assert fire_due_timers(session, datetime(2026, 5, 1)) == []
