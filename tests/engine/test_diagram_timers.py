"""A timer event drawn in a diagram waits in the database, not in memory: the
scheduler fires it when it is due, and the case moves on."""
import json
import time
from datetime import timedelta

from sqlalchemy import select

from connectors.db import utcnow
from engine import runtime
from engine.deployment import deploy_folder
from engine.models import HumanTask
from engine.models_sla import Timer
from engine.wakeup import fire_due_timers

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="waiting" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Două secunde">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT2S"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="after" name="După așteptare"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_diagram_timer_fires_from_its_row_and_the_case_moves_on(session, tmp_path):
    folder = tmp_path / "waiting"
    folder.mkdir()
    (folder / "waiting.bpmn").write_text(DIAGRAM, encoding="utf-8")
    (folder / "procedure.json").write_text(json.dumps(
        {"name": "waiting", "title": "Așteptare", "process_id": "waiting"}), encoding="utf-8")
    deploy_folder(session, folder)
    session.commit()
    started = utcnow()
    instance = runtime.start_instance(session, "waiting", {}, None)
    session.commit()
    (timer,) = session.execute(select(Timer)).scalars().all()
    assert timer.kind == "bpmn_timer"
    assert started + timedelta(seconds=2) <= timer.due_at <= utcnow() + timedelta(seconds=4)
    assert session.execute(select(HumanTask)).scalars().all() == []

    assert fire_due_timers(session) == []          # not due yet: nothing happens
    while utcnow() < timer.due_at:
        time.sleep(0.2)
    fired = fire_due_timers(session)
    assert [f.kind for f in fired] == ["bpmn_timer"]
    task = session.execute(select(HumanTask)).scalar_one()
    assert (task.title, task.status) == ("După așteptare", "open")
    assert runtime.current_elements(session, instance) == ["after"]
    assert fire_due_timers(session) == []          # once
