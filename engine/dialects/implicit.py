"""What BPMN allows without drawing it, and SpiffWorkflow needs drawn.

- An activity with several outgoing flows splits implicitly: all of them when none
  has a condition (a parallel gateway), those whose condition holds otherwise (an
  inclusive gateway, keeping the activity's default flow). The library refuses such
  an activity, so the gateway is inserted after it.
- A sub-process (or process) without a start or an end event starts at the elements
  nothing leads to, and ends when those that lead nowhere are done: the events are
  added.
"""
from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ACTIVITIES = {"task", "userTask", "manualTask", "serviceTask", "sendTask", "receiveTask",
              "scriptTask", "businessRuleTask", "callActivity", "subProcess", "transaction"}
FLOW_NODES = ACTIVITIES | {"startEvent", "endEvent", "intermediateCatchEvent",
                           "intermediateThrowEvent", "exclusiveGateway", "parallelGateway",
                           "inclusiveGateway", "complexGateway", "eventBasedGateway"}


def q(name: str) -> str:
    return f"{{{BPMN}}}{name}"


def local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def apply(root) -> None:
    for container in [*root.iter(q("process")), *root.iter(q("subProcess"))]:
        if container.get("triggeredByEvent") != "true":
            _start_and_end(container)
        _splits(container)


def _flows(container):
    return [c for c in container if local(c) == "sequenceFlow"]


AFTER_FLOW_ELEMENTS = {"textAnnotation", "association", "group", "resourceRole", "performer",
                       "humanPerformer", "potentialOwner", "correlationSubscription",
                       "supports"}


def _add(container, tag, **attributes):
    """A new flow element, placed before the artifacts (the schema's order)."""
    element = etree.Element(q(tag), **attributes)
    later = next((i for i, c in enumerate(container) if local(c) in AFTER_FLOW_ELEMENTS), None)
    if later is None:
        container.append(element)
    else:
        container.insert(later, element)
    return element


def _new_flow(container, flow_id, source, target):
    return _add(container, "sequenceFlow", id=flow_id, sourceRef=source, targetRef=target)


def _splits(container) -> None:
    flows = _flows(container)
    for node in [c for c in container if local(c) in ACTIVITIES]:
        node_id = node.get("id")
        outgoing = [f for f in flows if f.get("sourceRef") == node_id]
        if len(outgoing) < 2:
            continue
        conditional = any(f.find(q("conditionExpression")) is not None for f in outgoing)
        gateway_id = f"{node_id}__implicit_split"
        gateway = _add(container, "inclusiveGateway" if conditional else "parallelGateway",
                       id=gateway_id)
        if node.get("default"):
            gateway.set("default", node.attrib.pop("default"))
        for child in [c for c in node if local(c) == "outgoing"]:
            node.remove(child)
        for flow in outgoing:
            flow.set("sourceRef", gateway_id)
        _new_flow(container, f"{node_id}__to_split", node_id, gateway_id)


def _start_and_end(container) -> None:
    children = [c for c in container if local(c) in FLOW_NODES]
    if not children:
        return
    flows = _flows(container)
    targets = {f.get("targetRef") for f in flows}
    sources = {f.get("sourceRef") for f in flows}
    cid = container.get("id")
    if not any(local(c) == "startEvent" for c in children):
        _add(container, "startEvent", id=f"{cid}__implicit_start")
        for node in children:
            if node.get("id") not in targets:
                _new_flow(container, f"{cid}__start_{node.get('id')}",
                          f"{cid}__implicit_start", node.get("id"))
    if not any(local(c) == "endEvent" for c in children):
        _add(container, "endEvent", id=f"{cid}__implicit_end")
        for node in children:
            if node.get("id") not in sources:
                _new_flow(container, f"{cid}__end_{node.get('id')}", node.get("id"),
                          f"{cid}__implicit_end")
