"""Diagrams drawn in Camunda Modeler (Camunda 7) or bpmn.io, translated into the
SpiffWorkflow dialect our engine runs, before the library parses them.

What is translated, on the lxml tree of each `.bpmn` file:
- user tasks: `camunda:candidateGroups`, `camunda:assignee`, one
  `camunda:candidateUsers` → the `candidateGroups` / `assignee` properties the
  inbox reads (`${var}` → `{var}`); `camunda:formKey` → the `form` property when
  `forms/<name>.json` exists (else no form: the task is completed without fields);
  `camunda:dueDate` → a `dueDate` property; a task nobody is named for, outside
  any lane, goes to `dept-<department>` of procedure.json (in any dialect; a
  Camunda diagram without a department is refused);
- service, send and business rule tasks implemented by `camunda:type="external"`
  (topic), `camunda:class`, `camunda:delegateExpression`, `camunda:expression`
  or a `camunda:connector` → the connector operation procedure.json's
  `connectors` maps that name to; unmapped names are refused;
- `camunda:decisionRef` → the DMN decision, when a `.dmn` of the folder has it;
- `camunda:inputOutput` with plain values → scripts before/after the task;
- unquoted ISO-8601 timers and simple `${…}` expressions (see `timers`,
  `expressions`).
What cannot run here (Java listeners, scripts in other languages, multi-instance
over `camunda:collection`, complex expressions) is refused with a message naming
the element. Attributes that only tune Camunda's own engine (history, async, job
priority…) are ignored.
"""
import re

from lxml import etree

from ..errors import ProcedureError
from . import timers
from .expressions import NotTranslatable, is_wrapped, to_python

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_DECISION = re.compile(r"<(?:\w+:)?decision\b[^>]*\bid=\"([^\"]+)\"")

# Settings of Camunda's own engine with no meaning here.
IGNORED = {"historyTimeToLive", "versionTag", "asyncBefore", "asyncAfter", "async",
           "exclusive", "jobPriority", "taskPriority", "priority", "isStartableInTasklist",
           "candidateStarterGroups", "candidateStarterUsers", "initiator", "errorMessage",
           "calledElementBinding", "calledElementVersion", "calledElementVersionTag",
           "calledElementTenantId", "caseRef", "decisionRefBinding", "decisionRefVersion",
           "decisionRefTenantId", "mapDecisionResult", "resultVariable", "topic",
           "followUpDate", "formRef", "formRefBinding", "formRefVersion",
           "modelerTemplate", "modelerTemplateVersion", "variableMappingClass",
           "variableMappingDelegateExpression", "errorCodeVariable", "errorMessageVariable"}
# Extension elements ignored: forms drawn in the modeler, properties, variable copies
# (our call activities pass all data in and out), retry cycles.
IGNORED_ELEMENTS = {"formData", "formField", "properties", "property", "in", "out",
                    "failedJobRetryTimeCycle", "validation", "constraint", "value"}
IMPLEMENTATIONS = ("class", "delegateExpression", "expression")
SERVICE_LIKE = {"serviceTask", "sendTask", "businessRuleTask"}
HUMAN_TASKS = {"userTask", "manualTask", "task"}
EVENTS = {"startEvent", "intermediateCatchEvent", "boundaryEvent", "intermediateThrowEvent",
          "endEvent"}


def q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def element_label(node) -> str:
    return f"{node.get('name') or ''} ({node.get('id') or etree.QName(node).localname})".strip()


def uses_camunda(root) -> bool:
    return CAMUNDA in root.nsmap.values() or any(
        CAMUNDA in (el.nsmap or {}).values() for el in root.iter(etree.Element))


def translate(root, filename: str, metadata: dict, files: dict[str, str]):
    """Rewrite `root` in place into the dialect our engine parses; returns it."""
    connectors = metadata.get("connectors") or {}
    # A task nobody is named for goes to the department's clerks when procedure.json
    # has one; without one, Camunda's diagrams are refused (others keep the old rule).
    flavoured = True if uses_camunda(root) else None
    decisions = {d for rel, text in files.items() if rel.endswith(".dmn")
                 for d in DMN_DECISION.findall(text)}
    for node in list(root.iter(etree.Element)):
        local = etree.QName(node).localname
        try:
            if etree.QName(node).namespace == BPMN:
                _translate_bpmn(node, local, connectors, decisions, metadata, flavoured,
                                filename, files)
            elif etree.QName(node).namespace == CAMUNDA:
                _check_extension(node, local, filename)
        except NotTranslatable as err:
            raise ProcedureError(f"{err}; scrieți o expresie simplă (variabile, comparații, "
                                 f"&&, ||, !)", file=filename,
                                 element=element_label(_owner(node))) from None
        except timers.NotATimer as err:
            raise ProcedureError(str(err), file=filename,
                                 element=element_label(_owner(node))) from None
    return root


def _owner(node):
    """The BPMN element (with an id) a nested node belongs to, for messages."""
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node if node is not None else etree.Element("?")


def _refuse(node, message: str, filename: str):
    raise ProcedureError(message, file=filename, element=element_label(_owner(node)))


def _translate_bpmn(node, local, connectors, decisions, metadata, flavoured, filename, files):
    attributes = {etree.QName(k).localname: v for k, v in node.attrib.items()
                  if etree.QName(k).namespace == CAMUNDA}
    for name in attributes:
        if name not in IGNORED and name not in _HANDLED.get(local, ()):
            _refuse(node, f"atributul camunda:{name} nu este acceptat aici", filename)
    if local in HUMAN_TASKS:        # the library makes manual and plain tasks human too
        _user_task(node, attributes, metadata, flavoured, filename, files)
    elif local in SERVICE_LIKE and (attributes.keys() & {*IMPLEMENTATIONS, "type", "decisionRef"}
                                    or _connector_id(node) is not None):
        _service_task(node, local, attributes, connectors, decisions, filename)
    elif local == "scriptTask":
        language = (node.get("scriptFormat") or "python").lower()
        if language != "python":
            _refuse(node, f"scripturile în «{node.get('scriptFormat')}» nu pot rula aici; "
                          f"doar Python", filename)
        if "resource" in attributes:
            _refuse(node, "scriptul dintr-o resursă externă (camunda:resource) nu poate fi "
                          "citit; scrieți-l în diagramă", filename)
    elif local in ("timeDuration", "timeDate", "timeCycle"):
        text = timers.quoted(node.text)
        if text is not None:
            node.text = text
    elif local == "conditionExpression":
        if node.get("language") and node.get("language").lower() != "python":
            _refuse(node, f"condițiile în «{node.get('language')}» nu pot rula aici", filename)
        if is_wrapped(node.text):
            node.text = to_python(node.text)
    elif local == "messageEventDefinition" and attributes.keys() & {"expression",
                                                                    "resultVariable"}:
        _message_payload(node, attributes)
    elif local == "multiInstanceLoopCharacteristics" and "collection" in attributes:
        _refuse(node, "instanțele multiple peste camunda:collection nu sunt acceptate; "
                      "folosiți loopCardinality", filename)
    elif local == "eventBasedGateway":
        _refuse(node, "poarta bazată pe evenimente nu este acceptată încă: motorul nu îi "
                      "programează temporizatoarele și nu îi livrează mesajele; folosiți "
                      "evenimente atașate (boundary) unei sarcini", filename)
    elif local in EVENTS and sum(1 for c in node if isinstance(c.tag, str)
                                 and c.tag.endswith("EventDefinition")) > 1:
        _refuse(node, "un eveniment cu mai multe definiții (multiplu) nu este acceptat încă; "
                      "desenați câte un eveniment pentru fiecare", filename)
    elif local == "callActivity" and node.get("calledElement") == _process_of(node):
        _refuse(node, "activitatea de apel își apelează propriul proces (recursie fără sfârșit)",
                filename)
    elif local == "process" and node.get("isExecutable") == "false" \
            and node.get("id") == metadata.get("process_id"):
        _refuse(node, "procesul nu este executabil (isExecutable=\"false\")", filename)


_HANDLED = {
    "userTask": {"candidateGroups", "candidateUsers", "assignee", "formKey", "dueDate"},
    "serviceTask": {*IMPLEMENTATIONS, "type", "topic", "resultVariable"},
    "sendTask": {*IMPLEMENTATIONS, "type", "topic", "resultVariable"},
    "businessRuleTask": {*IMPLEMENTATIONS, "type", "topic", "resultVariable", "decisionRef"},
    "scriptTask": {"resource", "resultVariable"},
    "multiInstanceLoopCharacteristics": {"collection", "elementVariable"},
    "startEvent": {"formKey"},
    "messageEventDefinition": {"expression", "resultVariable"},
}


def _process_of(node) -> str | None:
    while node is not None and etree.QName(node).localname != "process":
        node = node.getparent()
    return node.get("id") if node is not None else None


def _message_payload(node, attributes):
    """SpiffWorkflow's Camunda dialect: `camunda:expression` is what a thrown message
    carries, `camunda:resultVariable` where a caught one puts it."""
    ext = _extension_elements(node)
    if attributes.get("expression"):
        text = attributes["expression"]
        etree.SubElement(ext, q(SPIFF, "messagePayload")).text = (
            to_python(text) if is_wrapped(text) else text)
    if attributes.get("resultVariable"):
        etree.SubElement(ext, q(SPIFF, "messageVariable")).text = attributes["resultVariable"]


def _placeholder(node, value: str, what: str, filename: str) -> str:
    """`${var}` → `{var}` (the inbox's placeholders), also inside text
    (`dept-${department}`); any other expression is refused."""
    text = re.sub(r"[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}", r"{\1}", value)
    if "${" in text or "#{" in text:
        _refuse(node, f"{what} «{value}» nu poate fi tradus: doar ${{variabilă}} sau text",
                filename)
    return text


def _user_task(node, attributes, metadata, flavoured, filename, files):
    props = {}
    if "candidateGroups" in attributes:
        props["candidateGroups"] = ",".join(
            _placeholder(node, g.strip(), "grupul", filename)
            for g in attributes["candidateGroups"].split(",") if g.strip())
    users = [u.strip() for u in attributes.get("candidateUsers", "").split(",") if u.strip()]
    if len(users) > 1:
        _refuse(node, "camunda:candidateUsers cu mai mulți utilizatori nu are echivalent; "
                      "folosiți un grup (camunda:candidateGroups)", filename)
    assignee = attributes.get("assignee") or (users[0] if users else None)
    if assignee:
        props["assignee"] = _placeholder(node, assignee, "responsabilul", filename)
    if "formKey" in attributes:
        form = _form_name(attributes["formKey"])
        if form and f"forms/{form}.json" in files:
            props["form"] = form
    if "dueDate" in attributes:
        due = attributes["dueDate"]
        props["dueDate"] = _placeholder(node, due, "termenul", filename)
    if not props.get("candidateGroups") and not props.get("assignee") \
            and not _spiff_property(node, "candidateGroups") \
            and not _spiff_property(node, "assignee") and not _in_lane(node):
        department = metadata.get("department")
        if department:
            props["candidateGroups"] = f"dept-{department}"
        elif flavoured:
            _refuse(node, "sarcina nu spune cine o face: adăugați camunda:candidateGroups, "
                          "camunda:assignee, o bandă (lane) sau «department» în "
                          "procedure.json", filename)
    if props:
        _add_properties(node, props)


def _form_name(form_key: str) -> str | None:
    """`embedded:app:forms/answer.html`, `camunda-forms:deployment:answer.form`,
    `answer` → `answer`."""
    if is_wrapped(form_key):
        return None
    last = re.split(r"[:/]", form_key)[-1]
    return re.sub(r"\.(html?|form|json)$", "", last) or None


def _spiff_property(node, name):
    return node.xpath(f"./bpmn:extensionElements/spiff:properties/spiff:property[@name='{name}']",
                      namespaces={"bpmn": BPMN, "spiff": SPIFF})


def _in_lane(node) -> bool:
    task_id = node.get("id")
    root = node.getroottree().getroot()
    return any((ref.text or "").strip() == task_id for ref in root.iter(q(BPMN, "flowNodeRef")))


def _extension_elements(node):
    ext = node.find(q(BPMN, "extensionElements"))
    if ext is None:
        ext = etree.Element(q(BPMN, "extensionElements"))
        node.insert(_after_documentation(node), ext)
    return ext


def _after_documentation(node) -> int:
    index = 0
    for i, child in enumerate(node):
        if isinstance(child.tag, str) and etree.QName(child).localname == "documentation":
            index = i + 1
    return index


def _add_properties(node, props: dict) -> None:
    ext = _extension_elements(node)
    container = ext.find(q(SPIFF, "properties"))
    if container is None:
        container = etree.SubElement(ext, q(SPIFF, "properties"))
    for name, value in props.items():
        if not _spiff_property(node, name):
            etree.SubElement(container, q(SPIFF, "property"), name=name, value=value)


def _connector_id(node):
    found = node.xpath("./bpmn:extensionElements/camunda:connector/camunda:connectorId",
                       namespaces={"bpmn": BPMN, "camunda": CAMUNDA})
    return found[0].text.strip() if found and found[0].text else None


def _service_task(node, local, attributes, connectors, decisions, filename):
    if local == "businessRuleTask" and "decisionRef" in attributes:
        ref = attributes["decisionRef"]
        if is_wrapped(ref) or ref not in decisions:
            _refuse(node, f"tabelul de decizie «{ref}» nu se află în niciun fișier .dmn al "
                          f"procedurii", filename)
        etree.SubElement(_extension_elements(node), q(SPIFF, "calledDecisionId")).text = ref
        return
    if attributes.get("type") == "external":
        key, what = attributes.get("topic", ""), "subiectul extern"
    elif _connector_id(node) is not None:
        key, what = _connector_id(node), "conectorul"
    else:
        kind = next((k for k in IMPLEMENTATIONS if k in attributes), None)
        if kind is None:
            _refuse(node, f"camunda:type=\"{attributes.get('type')}\" nu este acceptat",
                    filename)
        key, what = attributes[kind], {"class": "clasa", "delegateExpression": "delegatul",
                                       "expression": "expresia"}[kind]
    operation = connectors.get(key)
    if not operation:
        _refuse(node, f"{what} «{key}» nu are o operație de conector: adăugați în "
                      f"procedure.json \"connectors\": {{\"{key}\": \"<operație>\"}}", filename)
    if local != "serviceTask":
        node.tag = q(BPMN, "serviceTask")
    ext = _extension_elements(node)
    operator = etree.SubElement(ext, q(SPIFF, "serviceTaskOperator"), id=operation)
    if attributes.get("resultVariable"):
        operator.set("resultVariable", attributes["resultVariable"])
    etree.SubElement(operator, q(SPIFF, "parameters"))


def _check_extension(node, local, filename):
    owner = _owner(node)
    if local in IGNORED_ELEMENTS or local in ("connector", "connectorId"):
        return
    if local in ("inputOutput", "inputParameter", "outputParameter"):
        if local == "inputOutput":
            _input_output(node, owner, filename)
        return
    if local in ("executionListener", "taskListener"):
        _refuse(node, "ascultătorii Camunda (camunda:executionListener / taskListener) "
                      "rulează cod Java și nu pot rula aici; folosiți o sarcină de serviciu",
                filename)
    if local in ("script", "list", "map", "entry"):
        return      # inside an inputOutput: refused there
    _refuse(node, f"extensia camunda:{local} nu este acceptată", filename)


def _input_output(node, owner, filename):
    """Plain input/output parameters become scripts before and after the task."""
    before, after = [], []
    for param in node:
        if not isinstance(param.tag, str):
            continue
        kind = etree.QName(param).localname
        name = param.get("name") or ""
        if len(param) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            _refuse(owner, f"parametrul «{name}» (camunda:{kind}) nu este o valoare simplă "
                           f"și nu poate fi tradus", filename)
        text = (param.text or "").strip()
        value = to_python(text) if is_wrapped(text) else repr(text)
        (before if kind == "inputParameter" else after).append(f"{name} = {value}")
    ext = node.getparent()
    for tag, lines in (("preScript", before), ("postScript", after)):
        if lines:
            etree.SubElement(ext, q(SPIFF, tag)).text = "\n".join(lines)
