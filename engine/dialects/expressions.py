"""Camunda's `${…}` / `#{…}` expressions (JUEL), the simple ones, as the Python
expressions our script engine evaluates.

Only what a gateway or a name usually needs is translated: variables, literals
(numbers, strings, true/false/null), comparisons (`==`, `!=`, `<`, `>`, `<=`, `>=`
and `eq ne lt gt le ge`), `&&`/`and`, `||`/`or`, `!`/`not`, `empty x`, parentheses.
Anything else (a bean's method, `execution.…`, a property path) raises
`NotTranslatable`: the caller refuses the diagram and names the element, rather
than let it fail in front of a clerk.
"""
import ast
import re

WRAPPED = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)
TOKEN = re.compile(r"""\s*(?:
    (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>\S)
)""", re.X)
WORDS = {"and": "and", "or": "or", "not": "not", "eq": "==", "ne": "!=", "lt": "<",
         "gt": ">", "le": "<=", "ge": ">=", "true": "True", "false": "False",
         "null": "None"}
OPERATORS = {"&&": "and", "||": "or", "!": "not"}
ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not,
                 ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
                 ast.Name, ast.Load, ast.Constant, ast.USub, ast.Call)


class NotTranslatable(ValueError):
    """The expression uses more than the simple subset; the text says what."""


def is_wrapped(text: str | None) -> bool:
    return bool(text and WRAPPED.match(text))


def inner(text: str) -> str:
    match = WRAPPED.match(text)
    return match.group(1) if match else text


def to_python(text: str) -> str:
    """The Python text of a simple `${…}` expression; NotTranslatable otherwise."""
    body = inner(text)
    out, pos = [], 0
    while pos < len(body):
        match = TOKEN.match(body, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        kind, value = match.lastgroup, match.group(match.lastgroup)
        if kind == "other":
            raise NotTranslatable(f"expresia «{body.strip()}» folosește «{value}», "
                                  f"care nu poate fi tradus")
        if kind == "op":
            out.append(OPERATORS.get(value, value))
        elif kind == "name" and value == "empty":
            out.append("__EMPTY__")
        elif kind == "name":
            out.append(WORDS.get(value, value))
        else:
            out.append(value)
    source = _apply_empty(out)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise NotTranslatable(f"expresia «{body.strip()}» nu poate fi tradusă") from None
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            raise NotTranslatable(f"expresia «{body.strip()}» nu poate fi tradusă "
                                  f"(doar variabile, literali, comparații, &&, ||, !, empty)")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name)
                                               and node.func.id == "_is_empty"):
            raise NotTranslatable(f"expresia «{body.strip()}» apelează o funcție")
    return re.sub(r"_is_empty\((\w+)\)", lambda m: "({0} is None or {0} == '' or {0} == [] "
                  "or {0} == {{}})".format(m.group(1)), source)


def _apply_empty(tokens: list[str]) -> str:
    """`empty x` is true for null, '' and an empty list or map (not for 0 or false)."""
    parts, i = [], 0
    while i < len(tokens):
        token = tokens[i]
        if token == "__EMPTY__":
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", target) or target in WORDS.values():
                raise NotTranslatable("«empty» se poate aplica doar unei variabile")
            parts.append(f"_is_empty({target})")
            i += 2
            continue
        parts.append(token)
        i += 1
    return " ".join(parts)
