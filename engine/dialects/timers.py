"""Timer texts as modelers write them (`PT1H`, `R3/P1D`, `2026-05-01T08:00:00`,
without quotes) as the quoted Python strings our engine evaluates (`"PT1H"`).

A timer that is already an expression (quoted, or Python over the data) is kept;
`${…}` goes through `expressions`; a cron cycle (Camunda's `0 0/5 * * * ?`) has
no ISO-8601 meaning and is refused by the caller.
"""
import re

from .expressions import is_wrapped, to_python

DURATION = r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
DATE = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
ISO_TIMER = re.compile(rf"^(R\d*/)?(({DURATION})|({DATE}))(/(({DURATION})|({DATE})))?$")
CRON = re.compile(r"^\S+(\s+\S+){4,6}$")


class NotATimer(ValueError):
    pass


def quoted(text: str | None) -> str | None:
    """The text to put in the diagram instead of `text` (None: leave it)."""
    if text is None:
        return None
    stripped = text.strip()
    if ISO_TIMER.match(stripped):
        return f'"{stripped}"'
    if is_wrapped(stripped):
        return to_python(stripped)
    if CRON.match(stripped):
        raise NotATimer(f"«{stripped}» este o expresie cron; folosiți ISO 8601 "
                        f"(de exemplu R/PT5M)")
    return None
