"""Bounds on analysts' scripts and expressions: time, memory and call depth.

Why in-process: gateway conditions run at every step, so a subprocess (or even a
thread) per expression would cost far more than the expression. Instead each
script is compiled once (cached by its text) from a rewritten syntax tree:

* **Time.** A call to a tick is put at the head of every loop body, every
  comprehension (as a first `if`), every `except`/`finally` block and every user
  function. The tick compares the clock with the run's deadline. Once the budget
  is spent the run is *stopped for good*: every later tick raises again, so
  `try/except` or `finally` cannot keep a loop alive, and the stop is a
  `BaseException` that `except Exception` does not catch (a bare `except:` is
  refused when the diagram is deployed). Code without loops or calls runs in
  bounded time by itself, so a plain gateway condition pays nothing but the
  cached compile. (A trace function was the other way; it is unset by Python as
  soon as it raises, so a `finally: while True: pass` would have escaped it.)
* **Memory.** The operations that build a huge object in one C call are guarded
  by size *before* they run: `*`, `**`, `<<`, `+`, `%` on str/bytes/list/tuple/int,
  `range`, `sum` of lists, `round` (`round(5, -10**9)` computes 10**10**9), and the
  methods that grow a result (`ljust`, `center`, `zfill`, `expandtabs`, `replace`,
  `join`, `translate`, `format`, `extend`, `int.to_bytes`). Printing a container
  (`str(x)`, an f-string, `%`, `format`) first estimates the printed size, since a list
  holding one large string many times prints as many copies of it; `str` stays the
  real type for `isinstance` and its methods.
  Everything else (growth one step at a time, copies of a large value made again
  and again) is measured by `tracemalloc`, on only while a script runs (about
  1.5 µs to start and stop) and read at the ticks and after every call, at most
  every millisecond or 16 ticks: new allocations over the budget stop the run, at
  worst one step (one C call, itself within the budget) late.
* **Depth.** User functions and lambdas count their depth; past `max_depth` the
  run stops (Python's own RecursionError is reported the same way).

Why not a library as it is: RestrictedPython's guards cover attribute and item
access (here `check_source` refuses private attributes, frames and the dangerous
builtins statically) but bound neither time nor memory; simpleeval bounds powers
and string lengths but evaluates expressions only, not the scripts SpiffWorkflow
runs with task data in and out. The guards here follow their ideas.

Limits are per deployment (environment): `DOSAR_SCRIPT_SECONDS` (default 2),
`DOSAR_SCRIPT_MEMORY_MB` (default 64), `DOSAR_SCRIPT_MAX_DEPTH` (default 100).
"""
import ast
import functools
import os
import re
import string
import threading
import time
import tracemalloc
from dataclasses import dataclass

from .errors import EngineError

PREFIX = "__ds_"          # guard names; analysts' names may not start with "__"
MAX_SOURCE_CHARS = 100_000


@dataclass(frozen=True)
class ScriptLimits:
    seconds: float = 2.0
    memory_bytes: int = 64 * 1024 * 1024
    max_depth: int = 100
    max_int_bits: int = 1_000_000      # 10**300000 is already far past any real need


def limits_from_environment(env=os.environ) -> ScriptLimits:
    return ScriptLimits(seconds=float(env.get("DOSAR_SCRIPT_SECONDS", 2)),
                        memory_bytes=int(float(env.get("DOSAR_SCRIPT_MEMORY_MB", 64)) * 1024 * 1024),
                        max_depth=int(env.get("DOSAR_SCRIPT_MAX_DEPTH", 100)))


_limits = limits_from_environment()


def configure(limits: ScriptLimits) -> None:
    global _limits
    _limits = limits


def current_limits() -> ScriptLimits:
    return _limits


class ScriptLimitExceeded(EngineError):
    """A script or expression went past its time, memory or depth budget."""

    def __init__(self, task: str, reason: str):
        self.task, self.reason = task, reason
        super().__init__(f"Scriptul pasului «{task}» a fost oprit: {reason}.")


class _Stop(BaseException):
    """Raised inside the script; not an Exception, so `except Exception` lets it through."""


# --- the run's budget ----------------------------------------------------------------------

_state = threading.local()
_tracing_lock = threading.Lock()
_tracing_users = 0
_tracing_ours = False


class _Budget:
    __slots__ = ("limits", "deadline", "stopped", "countdown", "baseline", "depth",
                 "tracing", "charged", "next_check")

    def __init__(self, limits: ScriptLimits):
        self.limits = limits
        self.deadline = time.perf_counter() + limits.seconds
        self.stopped: str | None = None
        self.countdown = 0
        self.next_check = 0.0
        self.depth = 0
        self.tracing = False
        self.baseline = 0
        self.charged = 0          # bytes of guarded operations, while not tracing

    def watch_memory(self) -> None:
        """Measure new allocations from now on (code that can grow step by step)."""
        if not self.tracing:
            self.tracing = _start_tracing()
            self.baseline = tracemalloc.get_traced_memory()[0] - self.charged

    def stop(self, reason: str):
        self.stopped = self.stopped or reason
        raise _Stop(self.stopped)

    def used(self) -> int:
        if not self.tracing:
            return 0
        return max(0, tracemalloc.get_traced_memory()[0] - self.baseline)

    def need(self, nbytes: int) -> None:
        """Refuse an operation that would allocate `nbytes` over the budget."""
        if not self.tracing:
            self.charged += nbytes
            if self.charged > self.limits.memory_bytes:
                self.stop(_memory_reason(self.limits))
        elif nbytes + self.used() > self.limits.memory_bytes:
            self.stop(_memory_reason(self.limits))


def _memory_reason(limits: ScriptLimits) -> str:
    return f"ar folosi mai mult de {limits.memory_bytes // (1024 * 1024)} MB de memorie"


def _budget() -> _Budget:
    budget = getattr(_state, "budget", None)
    # Guarded code run outside `running` still has its size limits (a fresh budget).
    return budget if budget is not None else _Budget(_limits)


class running:
    """`with running(task_name):` — the script(s) run inside share one budget; a stop
    becomes a ScriptLimitExceeded naming the task. Nested use keeps the outer budget."""

    def __init__(self, task_name: str, limits: ScriptLimits | None = None):
        self.task_name, self.limits = task_name, limits

    def __enter__(self):
        self.outer = getattr(_state, "budget", None)
        if self.outer is not None:
            return self.outer
        budget = _state.budget = _Budget(self.limits or _limits)
        budget.watch_memory()
        return budget

    def __exit__(self, kind, error, tb):
        if self.outer is not None:
            return False
        budget = _state.budget
        _state.budget = None
        if budget.tracing:
            _stop_tracing()
        if kind is None:
            return False
        if issubclass(kind, _Stop) or budget.stopped:
            raise ScriptLimitExceeded(self.task_name, budget.stopped or str(error)) from None
        if issubclass(kind, RecursionError) or _caused_by(error, RecursionError):
            raise ScriptLimitExceeded(self.task_name, "apelurile se repetă prea adânc "
                                      "(recursivitate fără sfârșit)") from None
        if issubclass(kind, MemoryError) or _caused_by(error, MemoryError):
            raise ScriptLimitExceeded(self.task_name, _memory_reason(budget.limits)) from None
        return False


def _caused_by(error, kind) -> bool:
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, kind) or isinstance(getattr(error, "exception", None), kind):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _start_tracing() -> bool:
    global _tracing_users, _tracing_ours
    with _tracing_lock:
        if _tracing_users == 0:
            if tracemalloc.is_tracing():        # someone else traces: share, never stop it
                _tracing_ours = False
            else:
                tracemalloc.start()
                _tracing_ours = True
        _tracing_users += 1
    return True


def _stop_tracing() -> None:
    global _tracing_users
    with _tracing_lock:
        _tracing_users -= 1
        if _tracing_users == 0 and _tracing_ours:
            tracemalloc.stop()


# --- guards called by the rewritten code ---------------------------------------------------

TICKS_BETWEEN_CHECKS = 16


def _tick():
    budget = _budget()
    if budget.stopped:
        raise _Stop(budget.stopped)
    # The clock is read at every tick (cheap); the rest at most every millisecond or
    # every 16 ticks, so one loop step past the budget is the most that can slip by.
    now = time.perf_counter()
    budget.countdown -= 1
    if budget.countdown > 0 and now < budget.next_check:
        return True
    budget.countdown, budget.next_check = TICKS_BETWEEN_CHECKS, now + 0.001
    if now > budget.deadline:
        budget.stop(f"a depășit timpul permis de {budget.limits.seconds:g} s "
                    "(buclă fără sfârșit?)")
    if budget.tracing and budget.used() > budget.limits.memory_bytes:
        budget.stop(_memory_reason(budget.limits))
    return True


def _after(value):
    """Every call's result passes here: a run that copies a large value again and
    again without a loop is measured too."""
    _tick()
    return value


def _enter():
    budget = _budget()
    _tick()
    budget.depth += 1
    if budget.depth > budget.limits.max_depth:
        budget.stop(f"apelurile se repetă mai adânc de {budget.limits.max_depth} de niveluri "
                    "(recursivitate fără sfârșit?)")


def _leave():
    _budget().depth -= 1


def _call(body):
    """A lambda's body, counted as one level of depth."""
    _enter()
    try:
        return body()
    finally:
        _leave()


_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _item_bytes(value) -> int:
    if isinstance(value, str):
        return 1 if value.isascii() else 4
    return 1 if isinstance(value, (bytes, bytearray, int)) else 8


def _check_int_bits(bits: int) -> None:
    budget = _budget()
    if bits > budget.limits.max_int_bits:
        budget.stop(f"ar calcula un număr cu peste {budget.limits.max_int_bits:,} de biți")


def _mul(a, b):
    if isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > 4096:
            _check_int_bits(a.bit_length() + b.bit_length())
    elif isinstance(a, _SEQUENCES) and isinstance(b, int):
        _budget().need(len(a) * max(b, 0) * _item_bytes(a))
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        _budget().need(len(b) * max(a, 0) * _item_bytes(b))
    return a * b


def _pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        if b > 4096 or a.bit_length() * b > 4096:
            _check_int_bits(a.bit_length() * b)
    return a ** b


def _lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > 64 and a:
        _check_int_bits(a.bit_length() + b)
    return a << b


def _add(a, b):
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        size = len(a) + len(b)
        if size > 4096:
            _budget().need(size * max(_item_bytes(a), _item_bytes(b)))
    return a + b


_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _mod(a, b):
    if isinstance(a, (str, bytes)):
        text = a if isinstance(a, str) else a.decode("latin-1")
        total = 0
        for width, precision in _PERCENT.findall(text):
            if "*" in (width, precision):
                _budget().stop("lățimile «*» nu sunt permise în formatarea cu %")
            total += int(width or 0) + int(precision or 0)
        if total > 4096:
            _budget().need(total)
        _check_text(*(b if isinstance(b, tuple) else (b,)))
    return a % b


def _inplace(op):
    guard = {"+": _add, "*": _mul, "**": _pow, "<<": _lshift, "%": _mod}[op]

    def apply(a, b):
        if isinstance(a, list) and op in "+*":      # keep in-place semantics for lists
            guard(a, b if op == "*" else list(b) if not isinstance(b, list) else b)
            if op == "+":
                a.extend(b)
            else:
                a *= b
            return a
        return guard(a, b)
    return apply


_IADD, _IMUL, _IPOW, _ILSHIFT, _IMOD = (_inplace(o) for o in ("+", "*", "**", "<<", "%"))


def _text_size(value, limit: int) -> int:
    """An upper estimate of len(str(value)), walking containers (a list holding the same
    60 MB string a thousand times prints as 60 GB); stops counting past `limit`."""
    total, stack, depth_of = 0, [(value, 0)], {}
    while stack and total <= limit:
        item, depth = stack.pop()
        if isinstance(item, str):
            total += len(item) * (1 if item.isascii() and item.isprintable() else 4) + 2
        elif isinstance(item, (bytes, bytearray)):
            total += len(item) * 4 + 3
        elif isinstance(item, (list, tuple, set, frozenset, dict)):
            if depth > 50 or depth_of.get(id(item), depth + 1) <= depth:
                total += 5                       # a cycle prints as [...]
                continue
            depth_of[id(item)] = depth
            total += 2 + 2 * len(item)
            if total > limit:
                break
            children = (x for kv in item.items() for x in kv) if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        else:
            total += 32
    return total


def _check_text(*values) -> None:
    budget = _budget()
    limit = budget.limits.memory_bytes
    total = 0
    for value in values:
        if isinstance(value, (str, int, float, bool)) or value is None:
            continue                             # as large as it already is
        total += _text_size(value, limit)
    if total > 4096:
        budget.need(total)


class _StrType(type):
    """`str` as scripts see it: the same type for isinstance and its methods, but
    `str(x)` of a container is measured first."""

    def __instancecheck__(cls, value):
        return isinstance(value, str)

    def __call__(cls, *args, **kwargs):
        if args and not kwargs and len(args) == 1:
            _check_text(args[0])
        return str(*args, **kwargs)

    def __getattr__(cls, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _attr(str, name) if name in GUARDED_METHODS else getattr(str, name)


class _Str(metaclass=_StrType):
    pass


def _sum(iterable, /, start=0):
    if isinstance(start, (list, tuple)):
        items = list(iterable)
        _budget().need(8 * sum(len(i) for i in items if isinstance(i, (list, tuple))))
        iterable = items
    return sum(iterable, start)


def _round(number, ndigits=None):
    if isinstance(ndigits, int) and abs(ndigits) > 400:
        _budget().stop("round() cu peste 400 de zecimale nu este permis")
    return round(number, ndigits) if ndigits is not None else round(number)


def _range(*args):
    result = range(*args)
    budget = _budget()
    limit = budget.limits.memory_bytes // 36    # what list(range) would take
    if len(result) > limit:
        budget.stop(f"un interval de {len(result):,} de valori depășește limita de {limit:,}")
    if len(result) > 4096:
        budget.need(len(result) * 36)
    return result


# Methods whose result can be far larger than their inputs: the size is checked first.

def _width(self, width, *rest):
    return width if isinstance(width, int) else 0


def _expandtabs(self, tabsize=8):
    return len(self) * max(tabsize, 1) if isinstance(tabsize, int) else 0


def _replace(self, old, new, count=-1):
    if not isinstance(old, type(self)) or not isinstance(new, type(self)):
        return 0
    times = self.count(old) if old else len(self) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(self) + times * max(len(new) - len(old), 0)


def _translate(self, table, *rest):
    if isinstance(self, str) and isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        return len(self) * longest
    return len(self)


_FORMATTER = string.Formatter()


def _format_size(self, args=(), kwargs=None, depth=0):
    """Refuse attribute access ("{0.__class__}") and index access in fields, and huge
    widths; return the widths' sum."""
    total = 0
    for _text, field, spec, _conv in _FORMATTER.parse(self):
        if field and ("." in field or "[" in field):
            _budget().stop("câmpurile cu «.» sau «[» nu sunt permise în format(); "
                           "folosiți un f-string")
        if spec:
            if "{" in spec:
                _budget().stop("lățimile date ca argument («{:>{}}») nu sunt permise în "
                               "format(); folosiți un f-string")
            total += sum(int(n) for n in re.findall(r"\d+", spec))
    return total


def _format(self, *args, **kwargs):
    _check_text(*args, *kwargs.values())
    return _format_size(self)


def _format_map(self, mapping):
    _check_text(mapping)
    return _format_size(self)


def _to_bytes(self, length=1, *rest, **kwargs):
    return length if isinstance(length, int) else 0


def _join(self, iterable):
    return None          # measured in _wrap, which needs the items themselves


def _extend(self, iterable):
    return len(iterable) * 8 if hasattr(iterable, "__len__") else 0


_SIZERS = {"ljust": _width, "rjust": _width, "center": _width, "zfill": _width,
           "expandtabs": _expandtabs, "replace": _replace, "translate": _translate,
           "format": _format, "format_map": _format_map, "join": _join, "extend": _extend,
           "to_bytes": _to_bytes}
GUARDED_METHODS = frozenset(_SIZERS)


def _sized_call(method, name, self, args, kwargs):
    budget = _budget()
    if name == "join":
        items = list(args[0]) if args else []
        if len(items) > 4096 or any(isinstance(i, (str, bytes)) and len(i) > 4096 for i in items):
            budget.need(sum(len(i) for i in items if isinstance(i, (str, bytes)))
                        + len(self) * len(items))
        return method(items, *args[1:], **kwargs)
    size = _SIZERS[name](self, *args, **kwargs)
    if size and size > 4096:
        budget.need(size * _item_bytes(self))
    return method(*args, **kwargs)


def _attr(obj, name):
    """`obj.name` for a method that can grow its result: a checked stand-in."""
    value = getattr(obj, name)
    if not callable(value):
        return value
    if isinstance(obj, type) and obj in (str, bytes, list, int):     # str.ljust(s, n)
        @functools.wraps(value)
        def unbound(self, *args, **kwargs):
            return _sized_call(getattr(self, name), name, self, args, kwargs)
        return unbound
    if isinstance(obj, (str, bytes, bytearray, list, int)):
        @functools.wraps(value)
        def bound(*args, **kwargs):
            return _sized_call(value, name, obj, args, kwargs)
        return bound
    return value


def _fmt(value, conversion, spec=""):
    """One `{value!conv:spec}` of an f-string, with the width and the value's printed
    size checked first."""
    _check_text(value)
    if spec:
        if sum(int(n) for n in re.findall(r"\d+", spec)) > 4096:
            _budget().need(sum(int(n) for n in re.findall(r"\d+", spec)))
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    return format(value, spec)


GUARDS = {f"{PREFIX}{name}": fn for name, fn in {
    "tick": _tick, "enter": _enter, "leave": _leave, "call": _call, "mul": _mul,
    "pow": _pow, "lshift": _lshift, "add": _add, "mod": _mod, "iadd": _IADD,
    "imul": _IMUL, "ipow": _IPOW, "ilshift": _ILSHIFT, "imod": _IMOD, "attr": _attr,
    "fmt": _fmt, "after": _after}.items()}
GUARDED_BUILTINS = {"range": _range, "str": _Str, "sum": _sum, "round": _round}


# --- the rewrite ---------------------------------------------------------------------------

def _guard(name: str) -> ast.Name:
    return ast.Name(id=PREFIX + name, ctx=ast.Load())


def _call_guard(name: str, *args) -> ast.Call:
    return ast.Call(func=_guard(name), args=list(args), keywords=[])


_BINOPS = {ast.Mult: "mul", ast.Pow: "pow", ast.LShift: "lshift", ast.Add: "add",
           ast.Mod: "mod"}


class _Rewriter(ast.NodeTransformer):

    def visit_Call(self, node):
        self.generic_visit(node)
        return _call_guard("after", node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        name = _BINOPS.get(type(node.op))
        return _call_guard(name, node.left, node.right) if name else node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        name = _BINOPS.get(type(node.op))
        if name is None:
            return node
        load = _as_load(node.target)
        return ast.Assign(targets=[node.target], value=_call_guard("i" + name, load, node.value))

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr in GUARDED_METHODS and isinstance(node.ctx, ast.Load):
            return _call_guard("attr", node.value, ast.Constant(node.attr))
        return node

    def visit_FormattedValue(self, node):
        self.generic_visit(node)
        spec = node.format_spec or ast.Constant("")
        return ast.FormattedValue(
            value=_call_guard("fmt", node.value, ast.Constant(node.conversion), spec),
            conversion=-1, format_spec=None)

    def _loop(self, node):
        self.generic_visit(node)
        node.body.insert(0, ast.Expr(_call_guard("tick")))
        return node

    visit_For = visit_While = _loop

    def visit_comprehension(self, node):
        self.generic_visit(node)
        node.ifs.insert(0, _call_guard("tick"))
        return node

    def visit_ExceptHandler(self, node):
        self.generic_visit(node)
        node.body.insert(0, ast.Expr(_call_guard("tick")))
        return node

    def visit_Try(self, node):
        self.generic_visit(node)
        if node.finalbody:
            node.finalbody.insert(0, ast.Expr(_call_guard("tick")))
        return node

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        node.body = [ast.Expr(_call_guard("enter")),
                     ast.Try(body=node.body, handlers=[], orelse=[],
                             finalbody=[ast.Expr(_call_guard("leave"))])]
        return node

    def visit_Lambda(self, node):
        self.generic_visit(node)
        inner = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], vararg=None,
                                              kwonlyargs=[], kw_defaults=[], kwarg=None,
                                              defaults=[]), body=node.body)
        node.body = _call_guard("call", inner)
        return node


def _as_load(target):
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Attribute):
        return ast.Attribute(value=target.value, attr=target.attr, ctx=ast.Load())
    return ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())


@functools.lru_cache(maxsize=4096)
def compile_guarded(source: str, mode: str):
    """The code object of `source` ("eval" or "exec") with the guards put in. The file
    name stays "<string>" so SpiffWorkflow still finds the failing line."""
    tree = ast.parse(source, mode=mode)
    tree = ast.fix_missing_locations(_Rewriter().visit(tree))
    return compile(tree, "<string>", mode)


def prepare(source, mode: str):
    """The code to run for `source`."""
    return compile_guarded(source, mode)


def sandbox_globals(safe_builtins: dict) -> dict:
    """What every script sees: the safe builtins (with guarded `range`) and the guards."""
    return {"__builtins__": {**safe_builtins, **GUARDED_BUILTINS}, **GUARDS}

