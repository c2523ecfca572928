"""Expressions, scripts and service calls of diagrams.

Analysts write gateway conditions and scripts in a small Python subset. They run
with a short list of builtins; `check_source` refuses, before anything runs (and
when the diagram is deployed, naming the element), imports, private and dunder
attributes, frame and generator internals, the builtins that reach outside
(`eval`, `open`, `type`, `getattr`, `globals`…), classes, generators and bare
`except:`. What cannot be seen in the text — time, memory, depth — is bounded while
the script runs by `engine.sandbox` (see its docstring).

Service tasks call connectors by operation name; a connector receives a
`ServiceContext` (the database session and the instance) and returns a dict.
"""
import ast
import builtins
import functools
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import WorkflowException

from . import sandbox
from .errors import EngineError
from .sandbox import ScriptLimitExceeded  # noqa: F401  (re-exported for callers)

SAFE_BUILTIN_NAMES = ("abs all any bool dict enumerate filter float int isinstance len "
                      "list map max min range round set sorted str sum tuple zip True "
                      "False None").split()
SAFE_BUILTINS = {n: getattr(builtins, n) for n in SAFE_BUILTIN_NAMES if hasattr(builtins, n)}


class UnsafeScript(EngineError):
    pass


# Builtins that reach outside the task's data; none is in SAFE_BUILTINS, and using them
# is refused so the analyst learns it at deploy time rather than from a NameError.
# The first list is refused wherever it is named; the second (names a form field could
# also have, like `type` or `id`) only when called.
FORBIDDEN_NAMES = frozenset(
    "eval exec compile globals locals vars getattr setattr delattr hasattr breakpoint "
    "memoryview bytearray classmethod staticmethod __import__ __builtins__ builtins sys "
    "os importlib subprocess".split())
FORBIDDEN_CALLS = FORBIDDEN_NAMES | frozenset(
    "open type object super input help property dir id exit quit print".split())
# Attributes of frames, generators, coroutines, tracebacks and code objects.
FORBIDDEN_ATTRIBUTES = frozenset(
    "gi_frame gi_code gi_yieldfrom gi_running cr_frame cr_code cr_await ag_frame ag_code "
    "f_back f_globals f_locals f_builtins f_code f_trace tb_frame tb_next co_code "
    "co_consts func_globals func_code mro format_map".split())


def check_source(source: str) -> None:
    """Refuse, before running anything, what a script may never do (see the module's
    docstring); the message is for the analyst."""
    if not isinstance(source, str):
        raise UnsafeScript("Expresia trebuie să fie text.")
    if len(source) > sandbox.MAX_SOURCE_CHARS:
        raise UnsafeScript(f"Script prea lung (maximum {sandbox.MAX_SOURCE_CHARS:,} de caractere).")
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise UnsafeScript(f"Expresie invalidă: {err.msg} (linia {err.lineno})") from None
    except (RecursionError, MemoryError, ValueError):
        raise UnsafeScript("Expresie prea complicată sau invalidă.") from None
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        raise UnsafeScript("Expresie prea complicată.") from None
    for node in nodes:
        _check_node(node)


def _check_node(node) -> None:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        raise UnsafeScript("Scripturile nu pot importa module.")
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise UnsafeScript(f"Acces interzis la atributul «{node.attr}».")
        if node.attr in FORBIDDEN_ATTRIBUTES:
            raise UnsafeScript(f"Acces interzis la atributul «{node.attr}».")
    if isinstance(node, ast.Name) and (node.id.startswith("__") or node.id in FORBIDDEN_NAMES):
        raise UnsafeScript(f"Acces interzis la «{node.id}».")
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in FORBIDDEN_CALLS):
        raise UnsafeScript(f"Funcția «{node.func.id}» nu este permisă în scripturi.")
    if isinstance(node, ast.arg) and node.arg.startswith("__"):
        raise UnsafeScript(f"Acces interzis la «{node.arg}».")
    if isinstance(node, (ast.ClassDef, ast.AsyncFunctionDef, ast.Await, ast.AsyncFor,
                         ast.AsyncWith, ast.Yield, ast.YieldFrom)):
        raise UnsafeScript("Scripturile nu pot defini clase, generatoare sau cod asincron.")
    if isinstance(node, (ast.Global, ast.Nonlocal)) and any(n.startswith("__") for n in node.names):
        raise UnsafeScript("Acces interzis la nume care încep cu «__».")
    if isinstance(node, ast.ExceptHandler) and node.type is None:
        raise UnsafeScript("«except:» fără tipul erorii nu este permis; scrieți "
                           "«except Exception:».")
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        if "{" in text and re.search(r"\{[^{}]*[.\[]\s*['\"]?_", text):
            raise UnsafeScript("Șirurile de formatare nu pot accesa atribute «{x._…}».")


_check_cached = functools.lru_cache(maxsize=4096)(check_source)


class SandboxEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment (data in, data out, as before), but the
    text runs as guarded, cached code (`sandbox.compile_guarded`)."""

    def evaluate(self, expression, context, external_context=None):
        code = _compiled(expression, "eval")
        scope = {**(external_context or {}), **context}
        scope.update(self.globals)       # the guards win over data named like them
        return eval(code, scope)

    def execute(self, script, context, external_context=None):
        return super().execute(_compiled(script, "exec"), context, external_context)


def _compiled(source, mode):
    if not isinstance(source, str):
        return source
    try:
        return sandbox.prepare(source, mode)
    except RecursionError:
        raise UnsafeScript("Expresie prea complicată.") from None


def task_label(task) -> str:
    spec = getattr(task, "task_spec", None)
    if spec is None:
        return "?"
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


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
        super().__init__(environment=SandboxEnvironment(sandbox.sandbox_globals(SAFE_BUILTINS)))
        self.operations = operations
        self.context: ServiceContext | None = None
        self.limits: sandbox.ScriptLimits | None = None    # None: the deployment's

    def evaluate(self, task, expression, external_context=None):
        _check_cached(expression)
        with sandbox.running(task_label(task), self.limits):
            return super().evaluate(task, expression, external_context)

    def execute(self, task, script, external_context=None):
        _check_cached(script)
        with sandbox.running(task_label(task), self.limits):
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
