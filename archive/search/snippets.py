"""Snippets: short pieces of the original text around the words that matched, with
`<mark>` around each of them and everything else HTML-escaped.

A word matches when its term (`folding.term`) is one of the query's terms, so
`Sesizarea` is marked for a search of `sesizare`, and `școala` for `scoala`.
"""
import re

from markupsafe import Markup, escape

from .folding import nfc, term, tokens

_SPACE = re.compile(r"\s+")
CONTEXT = 50            # characters shown before the first marked word of a fragment


def _matches(text: str, terms: set[str], until: int | None = None):
    for start, end, raw in tokens(text):
        if until is not None and start >= until:
            return
        if term(raw) in terms:
            yield start, end


def _render(text: str, spans, start: int, end: int) -> Markup:
    out, at = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(_SPACE.sub(" ", str(escape(text[at:s]))))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        at = e
    out.append(_SPACE.sub(" ", str(escape(text[at:end]))))
    html = "".join(out).strip()
    if start > 0:
        html = "…" + html
    if end < len(text):
        html += "…"
    return Markup(html)


def _word_edge(text: str, at: int, forward: bool) -> int:
    """Move `at` to the nearest space so no word is cut in half."""
    if at <= 0 or at >= len(text):
        return max(0, min(at, len(text)))
    step = 1 if forward else -1
    limit = 20
    while 0 < at < len(text) and not text[at].isspace() and limit:
        at += step
        limit -= 1
    return at


def fragments(text: str, terms: set[str], *, size: int = 160, count: int = 2) -> list[Markup]:
    """Up to `count` pieces of about `size` characters around matched words; [] when no
    word of the text matches."""
    text = nfc(text)
    if not terms or not text:
        return []
    windows: list[tuple[int, int]] = []
    spans: list[tuple[int, int]] = []
    for s, e in _matches(text, terms):
        if windows and s < windows[-1][1]:
            spans.append((s, e))
            continue
        if len(windows) == count:
            break
        begin = _word_edge(text, s - CONTEXT, forward=False) if s > CONTEXT else 0
        end = _word_edge(text, max(begin + size, e), forward=True)
        windows.append((begin, end))
        spans.append((s, e))
    return [_render(text, spans, b, e) for b, e in windows]


def mark_all(text: str, terms: set[str], *, limit: int = 400) -> Markup:
    """A short text (a summary) whole, its matched words marked; cut after `limit`."""
    text = nfc(text)
    end = len(text) if len(text) <= limit else _word_edge(text, limit, forward=True)
    spans = list(_matches(text, terms, until=end)) if terms else []
    return _render(text, spans, 0, end)


def beginning(text: str, size: int = 200) -> Markup:
    """The start of a text, escaped, when no word of it matched."""
    return mark_all(text, set(), limit=size)
