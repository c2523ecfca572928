"""Expressions, scripts and service calls of diagrams.

Analysts write gateway conditions and scripts in a small Python subset. They run
with a short list of builtins, and any import or access to dunder/private
attributes is refused before anything runs. (Time and memory bounds and a full
sandbox are the security work's; this is the baseline every diagram gets.)

Service tasks call connectors by operation name; a connector receives a
`ServiceContext` (the database session and the instance) and returns a dict.
"""
import ast
import builtins
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import WorkflowException

from .errors import EngineError

SAFE_BUILTIN_NAMES = ("abs all any bool dict enumerate filter float int isinstance len "
                      "list map max min range round set sorted str sum tuple zip True "
                      "False None").split()
SAFE_BUILTINS = {n: getattr(builtins, n) for n in SAFE_BUILTIN_NAMES if hasattr(builtins, n)}


class UnsafeScript(EngineError):
    pass


def check_source(source: str) -> None:
    """Refuse imports and dunder/private attribute access before running anything."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise UnsafeScript(f"Expresie invalidă: {err.msg} (linia {err.lineno})") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise UnsafeScript("Scripturile nu pot importa module.")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise UnsafeScript(f"Acces interzis la atributul «{node.attr}».")
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise UnsafeScript(f"Acces interzis la «{node.id}».")


@dataclass
class ServiceContext:
    """What a connector may use while a service task runs: the session, who acts
    (`actor` is the user name; `actor_ref` the engine's Actor with groups), the
    day, and the procedure's settings from its procedure.json."""
    session: Any
    instance_id: int
    actor: str | None
    today: date
    on_document_registered: Callable[[int, date], None] = lambda entry_id, on: None
    procedure: dict = field(default_factory=dict)
    instance: Any = None
    actor_ref: Any = None
    extra: dict = field(default_factory=dict)


class ConnectorError(EngineError):
    pass


class DosarScriptEngine(PythonScriptEngine):

    def __init__(self, operations: dict[str, Callable]):
        super().__init__(environment=TaskDataEnvironment({"__builtins__": SAFE_BUILTINS}))
        self.operations = operations
        self.context: ServiceContext | None = None

    def evaluate(self, task, expression, external_context=None):
        check_source(expression)
        return super().evaluate(task, expression, external_context)

    def execute(self, task, script, external_context=None):
        check_source(script)
        return super().execute(task, script, external_context)

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        operation = self.operations.get(operation_name)
        if operation is None:
            raise WorkflowException(f"Conectorul «{operation_name}» nu este instalat.",
                                    task_spec=task.task_spec)
        params = {k: v["value"] for k, v in (operation_params or {}).items()}
        try:
            result = operation(self.context, dict(task.data), **params)
        except EngineError:
            raise
        except Exception as err:  # a connector's failure must name the task
            raise ConnectorError(
                f"Conectorul «{operation_name}» a eșuat la pasul "
                f"«{task.task_spec.bpmn_name or task.task_spec.name}»: {err}") from err
        return json.dumps(result, default=str)
