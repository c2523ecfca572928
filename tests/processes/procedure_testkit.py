"""Walking a shipped procedure on the real engine, and checking its drawing and forms.

Shared by the tests of the procedures in `processes/`: an in-memory database with the
demo's registers and nomenclator files, the people of the circuit, and helpers that
complete a step as one of them on a fixed day.
"""
import json
from datetime import date
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import connectors.registry.models  # noqa: F401  (tables on the shared metadata)
import engine.models  # noqa: F401
from connectors.db import Base
from connectors.registry.models import NomenclatorFile, Register, RegisterEntry
from engine import runtime
from engine.errors import NotPermitted, TaskNotAvailable
from engine.models import HumanTask
from engine.models_sla import SlaClock
from engine.runtime import Actor

PROCESSES = Path(__file__).resolve().parents[2] / "processes"

REGISTRAR = Actor("registratura", frozenset({"registratura"}))
MAYOR = Actor("primar", frozenset({"primar"}))


def new_session():
    """An empty database with the demo town hall's registers and nomenclator files."""
    db = create_engine("sqlite://")
    Base.metadata.create_all(db)
    session = Session(db)
    session.add_all([
        Register(code="general", name="Registrul general", prefix="", kind="in_out"),
        Register(code="urbanism", name="Registrul Urbanism", prefix="URB-", kind="department",
                 department="urbanism"),
        NomenclatorFile(code="RP-1", department="relatii-publice", title="Petiții",
                        retention_years=5),
        NomenclatorFile(code="RP-2", department="relatii-publice",
                        title="Solicitări de informații de interes public", retention_years=3),
        NomenclatorFile(code="URB-1", department="urbanism", title="Certificate de urbanism",
                        retention_years=30),
    ])
    session.commit()
    return db, session


def entry_of(session, instance) -> RegisterEntry:
    return session.get(RegisterEntry, instance.document_id)


def clock_of(session, instance) -> SlaClock:
    return session.execute(select(SlaClock).where(SlaClock.instance_id == instance.id)
                           ).scalar_one()


def assert_due(session, instance, due: date) -> None:
    """The term as everyone sees it: the case, the register line, the clock, each open task."""
    session.refresh(instance)
    assert instance.due_on == due
    assert entry_of(session, instance).due_on == due
    assert clock_of(session, instance).due_on == due
    assert {t.due_on for t in open_tasks(session, instance)} == {due}


def open_tasks(session, instance) -> list[HumanTask]:
    return session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")
        .order_by(HumanTask.id)).scalars().all()


def the_open_task(session, instance, title: str) -> HumanTask:
    tasks = open_tasks(session, instance)
    assert [t.title for t in tasks] == [title]
    return tasks[0]


def complete(session, task: HumanTask, actor: Actor, data: dict, on: date) -> None:
    runtime.complete_task(session, task.id, actor, dict(data), today=on)
    session.commit()


def refused(session, task: HumanTask, actor: Actor, data: dict, on: date) -> None:
    with pytest.raises((NotPermitted, TaskNotAvailable)):
        runtime.complete_task(session, task.id, actor, dict(data), today=on)
    session.rollback()


# --- the diagram the web app shows ------------------------------------------------

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC",
      "di": "http://www.omg.org/spec/DD/20100524/DI"}


def _bounds(shape):
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _on_border(point, box) -> bool:
    x, y = point
    bx, by, w, h = box
    inside = bx - 1 <= x <= bx + w + 1 and by - 1 <= y <= by + h + 1
    touching = min(abs(x - bx), abs(x - bx - w), abs(y - by), abs(y - by - h)) <= 1
    return inside and touching


def check_diagram(path: Path) -> None:
    """Every node is named and drawn, every flow joins the borders of its two shapes,
    and every flow leaving a gateway says which way it goes."""
    tree = etree.parse(str(path))
    process = tree.find("bpmn:process", NS)
    shapes = {s.get("bpmnElement"): _bounds(s) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): [(float(w.get("x")), float(w.get("y")))
                                    for w in e.iterfind("di:waypoint", NS)]
             for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    flows = process.findall("bpmn:sequenceFlow", NS)
    nodes = [el for el in process if el.get("id") and el not in flows
             and etree.QName(el).localname not in ("laneSet", "documentation")]
    for node in nodes:
        assert node.get("name"), f"{node.get('id')} has no name"
        assert node.get("id") in shapes, f"{node.get('id')} has no shape"
    for flow in flows:
        points = edges[flow.get("id")]
        assert len(points) >= 2
        assert _on_border(points[0], shapes[flow.get("sourceRef")]), flow.get("id")
        assert _on_border(points[-1], shapes[flow.get("targetRef")]), flow.get("id")
    for gateway in process.findall("bpmn:exclusiveGateway", NS):
        for flow in flows:
            if flow.get("sourceRef") == gateway.get("id"):
                assert flow.get("name"), f"{flow.get('id')} leaves a gateway without a name"


def load_form(path: Path, choices: dict | None = None):
    """A form as the web app shows it: lists filled at run time get `choices`."""
    from forms.definition import FormDefinition
    definition = json.loads(path.read_text("utf-8"))
    for field, hints in definition["ui"].items():
        if isinstance(hints, dict) and hints.pop("options_from", None):
            definition["schema"]["properties"][field]["enum"] = list((choices or {})[field])
    return FormDefinition.from_dict(definition, name=path.stem)
