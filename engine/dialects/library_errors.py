"""What SpiffWorkflow raises, said in Romanian and naming the element.

At deploy time the library raises `ValidationException` (with the node when it
has one) and, on diagrams it does not expect, plain `KeyError`, `TypeError`,
`AttributeError`…; at run time `WorkflowTaskException` (a script or condition
failed: the task is known) and, from a few internals (message correlation,
multi-instance over missing data), plain Python errors. Each becomes a message
a person can act on; the original stays chained for the log.
"""
import re

from ..errors import ProcedureError

# Library errors that escape its own exception classes while running a diagram.
RUN_FAILURES = (NameError, TypeError, KeyError, ValueError, AttributeError, IndexError)

PARSE_MESSAGES = [
    (r"The process '([^']+)' was not found",
     "procesul apelat «{0}» nu există în fișierele procedurii"),
    (r"A Service Task must have an operator",
     "sarcina de serviciu nu spune ce conector apelează (spiffworkflow:serviceTaskOperator "
     "sau camunda:class / camunda:type=\"external\")"),
    (r"Data Store with name (\S+) has no implementation",
     "depozitul de date «{0}» nu are o implementare în Dosar"),
    (r"Cancel Events may only be used with transactions",
     "evenimentele de anulare pot fi folosite doar în tranzacții"),
    (r"A multiinstance task must specify exactly one of cardinality or loop input",
     "o sarcină cu instanțe multiple trebuie să aibă fie loopCardinality, fie o colecție "
     "de intrare (nu amândouă, nu niciuna)"),
    (r"A loopMaximum or loopCondition must be specified",
     "o buclă standard trebuie să aibă loopMaximum sau loopCondition"),
    (r"Element '([^']+)'.*?: (.*)", "XML-ul nu respectă schema BPMN: {1}"),
    (r"Unknown decision id:? ?'?([^'.]+)",
     "tabelul de decizie «{0}» nu există în fișierele .dmn ale procedurii"),
    (r"No start event found|start event", "procesul nu are un eveniment de start valid"),
]
RUN_MESSAGES = [
    (r"Error evaluating expression '(.*)'",
     "condiția «{0}» nu a putut fi evaluată (lipsesc date?)"),
    (r"name '([^']+)' is not defined",
     "variabila «{0}» nu există în datele dosarului"),
    (r"Missing data input for multiinstance task",
     "lipsește colecția pentru instanțele multiple"),
    (r"'NoneType' object is not iterable", "lipsește o colecție din datele dosarului"),
    (r"A data object could not be set; '([^']+)' not exist",
     "obiectul de date «{0}» nu există în datele pasului"),
    (r"No conditions satisfied",
     "nicio ramură a porții nu se potrivește cu datele (adăugați un flux implicit)"),
]


def _translated(text: str, table) -> str:
    for pattern, romanian in table:
        match = re.search(pattern, text, re.S)
        if match:
            return romanian.format(*(g.strip() if g else "" for g in match.groups()))
    return text


def _label(node_id: str | None, name: str | None) -> str | None:
    return f"{name or ''} ({node_id})".strip() if node_id else None


def parse_refusal(err: Exception, files: dict[str, str] | None = None) -> ProcedureError:
    """A ProcedureError for whatever the library raised while parsing a diagram."""
    original = getattr(err, "message", None) or (err.args[0] if err.args else str(err))
    text = str(original)
    element = _label(getattr(err, "id", None), getattr(err, "name", None))
    file = getattr(err, "file_name", None) or None
    missing = re.search(r"The process '([^']+)' was not found", text)
    if missing and files:       # name the call activity that calls it
        for rel, xml in files.items():
            found = re.search(r"<(?:\w+:)?callActivity\b([^>]*?)calledElement=\"%s\"" %
                              re.escape(missing.group(1)), xml)
            if found:
                node_id = re.search(r'\bid="([^"]+)"', found.group(0))
                name = re.search(r'\bname="([^"]*)"', found.group(0))
                element = _label(node_id and node_id.group(1), name and name.group(1))
                file = rel
                break
    if isinstance(err, KeyError):
        message = f"diagrama face trimitere la «{text}», care lipsește"
    elif not type(err).__module__.startswith("SpiffWorkflow"):
        message = (f"construcție pe care motorul nu o poate citi "
                   f"({type(err).__name__}: {text})")
    else:
        message = _translated(text, PARSE_MESSAGES)
    return ProcedureError(f"Diagrama nu este validă: {message}", file=file, element=element)


def run_message(err: Exception) -> str:
    """The Romanian text of a library error raised while an instance runs."""
    task_spec = getattr(err, "task_spec", None)
    where = ""
    if task_spec is not None:
        label = getattr(task_spec, "bpmn_name", None) or ""
        where = f" la pasul «{label}» ({getattr(task_spec, 'bpmn_id', None) or task_spec.name})"
    text = str(err)
    if isinstance(err, KeyError):
        message = f"lipsește «{err.args[0] if err.args else ''}» din datele dosarului"
    else:
        message = _translated(text, RUN_MESSAGES)
    if message == text:     # not one we know: the library's own words, marked as such
        message = f"eroare a motorului BPMN ({type(err).__name__}: {text})"
    return f"{message}{where}"
