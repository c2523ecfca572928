"""SLA profiles: the legal term of a procedure and how its due date is computed.

Each procedure folder holds an ``sla.json``, for example::

    {"term": 30, "unit": "calendar_days", "first_day_counts": false,
     "rollover_to_working_day": true,
     "extension": {"max_days": 15, "times": 1, "who": ["head_of_department"]},
     "reminders_days_before": [5, 1],
     "label": {"ro": "30 de zile (OG 27/2002)", "en": "30 days (OG 27/2002)"}}

Only ``term`` and ``unit`` are required. ``escalate_when_overdue`` (default
true) tells the head of department the morning after the last day;
``tacit_approval`` (default false) approves the request tacitly then, where the
law says silence means yes; ``variants`` names other terms the case may switch
to (``{"refusal": {"term": 5}}`` for 544/2001's reasoned refusal). ``last_day_counts`` (default true) can
be set to false for terms counted in "free days", where neither the day of
registration nor the day the term is fulfilled counts (the reading the domain
notes give for Legea 544/2001): the due date is then one day later.

Working days are Monday to Friday minus Romanian public holidays, taken from
the ``holidays`` library because Orthodox Easter and Pentecost move every year.
Days off declared ad hoc by government decision ("punți") are not in that
library and are therefore not known here.
"""

from __future__ import annotations

import json
import os
import types
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Mapping

import holidays

CALENDAR_DAYS = "calendar_days"
WORKING_DAYS = "working_days"
UNITS = (CALENDAR_DAYS, WORKING_DAYS)

_ONE_DAY = timedelta(days=1)
_TOP_KEYS = frozenset({
    "term", "unit", "first_day_counts", "last_day_counts",
    "rollover_to_working_day", "extension", "reminders_days_before", "label",
    "escalate_when_overdue", "tacit_approval", "variants",
})
_VARIANT_KEYS = frozenset({"term", "unit", "label"})
_EXTENSION_KEYS = frozenset({"max_days", "times", "who"})


class SlaProfileError(ValueError):
    """An SLA profile is malformed, or an extension is not allowed by it."""


# --- working-day calendar -------------------------------------------------

@lru_cache(maxsize=64)
def _holidays_for_year(year: int) -> frozenset[date]:
    # A frozenset per year: the library's own dict re-expands years on lookup
    # and is far more expensive to build than to query, and this is called on
    # every inbox row render.
    return frozenset(holidays.country_holidays("RO", years=year).keys())


def _require_date(d: Any, name: str = "date") -> None:
    # A datetime is a date subclass but never equal to one, so it would
    # silently miss every holiday; make the caller pick the local date.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"{name} must be a datetime.date (not a datetime), got {d!r}")


def is_working_day(d: date) -> bool:
    """True for Monday to Friday that is not a Romanian public holiday."""
    _require_date(d)
    return d.weekday() < 5 and d not in _holidays_for_year(d.year)


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d``."""
    _require_date(d)
    d += _ONE_DAY
    while not is_working_day(d):
        d += _ONE_DAY
    return d


def add_working_days(d: date, n: int) -> date:
    """The ``n``-th working day strictly after ``d`` (``d`` itself when n == 0)."""
    _require_date(d)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    for _ in range(n):
        d = next_working_day(d)
    return d


def working_days_between(a: date, b: date) -> int:
    """Number of working days d with ``a < d <= b``; negative when ``b < a``.

    The start day is excluded so that, for a working-day term counted from the
    day after registration, ``working_days_between(registered, due) == term``.
    """
    _require_date(a, "a")
    _require_date(b, "b")
    if b < a:
        return -working_days_between(b, a)
    # Whole weeks contribute five weekdays each; only the remainder is walked,
    # so the cost does not grow with the length of the interval.
    weeks, rest = divmod((b - a).days, 7)
    count = weeks * 5
    start_weekday = a.weekday()
    count += sum(1 for i in range(1, rest + 1) if (start_weekday + i) % 7 < 5)
    for year in range(a.year, b.year + 1):
        count -= sum(1 for h in _holidays_for_year(year) if a < h <= b and h.weekday() < 5)
    return count


def days_left(due: date, today: date) -> int:
    """Calendar days from ``today`` to ``due``: 0 on the due date, negative when overdue."""
    _require_date(due, "due")
    _require_date(today, "today")
    return (due - today).days


def is_overdue(due: date, today: date) -> bool:
    """Overdue only once the due date has passed; the due date itself is still in time."""
    _require_date(due, "due")
    _require_date(today, "today")
    return today > due


# --- profile --------------------------------------------------------------

def _fail(key: str, message: str) -> SlaProfileError:
    return SlaProfileError(f"invalid SLA profile: '{key}' {message}")


def _int(d: Mapping[str, Any], key: str, path: str, minimum: int) -> int:
    value = d[key]
    # bool is an int subclass; `true` as a term is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"must be an integer, got {value!r}")
    if value < minimum:
        raise _fail(path, f"must be at least {minimum}, got {value}")
    return value


def _bool(d: Mapping[str, Any], key: str, default: bool) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise _fail(key, f"must be true or false, got {value!r}")
    return value


def _reject_unknown(d: Mapping[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
    # Refusing unknown keys catches typos such as "frist_day_counts", which
    # would otherwise silently fall back to a default and shift due dates.
    for key in d:
        if key not in allowed:
            raise _fail(prefix + str(key), f"is not a known key (expected one of: {', '.join(sorted(allowed))})")


@dataclass(frozen=True)
class SlaExtension:
    """How far, how often and by whom the term may be extended."""

    max_days: int
    times: int
    who: tuple[str, ...]

    @classmethod
    def from_dict(cls, d: Any) -> SlaExtension:
        if not isinstance(d, Mapping):
            raise _fail("extension", f"must be an object, got {d!r}")
        _reject_unknown(d, _EXTENSION_KEYS, "extension.")
        for key in ("max_days", "who"):
            if key not in d:
                raise _fail(f"extension.{key}", "is required")
        max_days = _int(d, "max_days", "extension.max_days", 1)
        times = _int(d, "times", "extension.times", 1) if "times" in d else 1
        who = d["who"]
        if (not isinstance(who, list) or not who
                or not all(isinstance(role, str) and role.strip() for role in who)):
            raise _fail("extension.who", f"must be a non-empty list of role names, got {who!r}")
        return cls(max_days=max_days, times=times, who=tuple(who))

    @property
    def total_max_days(self) -> int:
        return self.max_days * self.times


@dataclass(frozen=True)
class SlaProfile:
    term: int
    unit: str
    first_day_counts: bool = False
    last_day_counts: bool = True
    rollover_to_working_day: bool = True
    extension: SlaExtension | None = None
    reminders_days_before: tuple[int, ...] = ()
    # Read-only mapping; excluded from the hash because mappings are unhashable.
    label: Mapping[str, str] = field(default_factory=lambda: types.MappingProxyType({}), hash=False)
    # When the term passes with the case still open: tell the head of department,
    # and, where the law says silence means yes (OUG 27/2003), approve tacitly.
    escalate_when_overdue: bool = True
    tacit_approval: bool = False
    # Other terms the same case may switch to, e.g. 544/2001's reasoned refusal in 5 days.
    variants: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: types.MappingProxyType({}), hash=False)

    @classmethod
    def from_dict(cls, d: Any) -> SlaProfile:
        if not isinstance(d, Mapping):
            raise SlaProfileError(f"invalid SLA profile: expected an object, got {type(d).__name__}")
        _reject_unknown(d, _TOP_KEYS)
        for key in ("term", "unit"):
            if key not in d:
                raise _fail(key, "is required")

        term = _int(d, "term", "term", 1)
        unit = d["unit"]
        if unit not in UNITS:
            raise _fail("unit", f"must be one of {', '.join(repr(u) for u in UNITS)}, got {unit!r}")

        extension = None
        if d.get("extension") is not None:
            extension = SlaExtension.from_dict(d["extension"])

        reminders = d.get("reminders_days_before", [])
        if not isinstance(reminders, list) or not all(
                isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in reminders):
            raise _fail("reminders_days_before",
                        f"must be a list of non-negative integers, got {reminders!r}")

        label = d.get("label", {})
        if not isinstance(label, Mapping) or not all(
                isinstance(k, str) and k and isinstance(v, str) for k, v in label.items()):
            raise _fail("label", f"must map language codes to strings, got {label!r}")

        variants = d.get("variants", {})
        if not isinstance(variants, Mapping):
            raise _fail("variants", f"must be an object, got {variants!r}")
        for name, variant in variants.items():
            if not isinstance(variant, Mapping) or "term" not in variant:
                raise _fail(f"variants.{name}", "must be an object with a 'term'")
            _reject_unknown(variant, _VARIANT_KEYS, f"variants.{name}.")
            _int(variant, "term", f"variants.{name}.term", 1)
            if variant.get("unit", unit) not in UNITS:
                raise _fail(f"variants.{name}.unit", f"must be one of {', '.join(UNITS)}")

        return cls(
            term=term,
            unit=unit,
            first_day_counts=_bool(d, "first_day_counts", False),
            last_day_counts=_bool(d, "last_day_counts", True),
            rollover_to_working_day=_bool(d, "rollover_to_working_day", True),
            extension=extension,
            reminders_days_before=tuple(reminders),
            label=types.MappingProxyType(dict(label)),
            escalate_when_overdue=_bool(d, "escalate_when_overdue", True),
            tacit_approval=_bool(d, "tacit_approval", False),
            variants=types.MappingProxyType({k: dict(v) for k, v in variants.items()}),
        )

    def variant(self, name: str) -> SlaProfile:
        """The profile with one of its variants' term in force ("" = the profile itself)."""
        if not name:
            return self
        if name not in self.variants:
            raise SlaProfileError(f"this SLA profile has no variant {name!r}")
        v = self.variants[name]
        return replace(self, term=v["term"], unit=v.get("unit", self.unit),
                       label=types.MappingProxyType(dict(v.get("label", self.label))))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SlaProfile:
        """Read and validate an ``sla.json``; errors name the file."""
        with open(path, encoding="utf-8") as fh:
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise SlaProfileError(f"{os.fspath(path)}: not valid JSON: {exc}") from exc
        try:
            return cls.from_dict(data)
        except SlaProfileError as exc:
            raise SlaProfileError(f"{os.fspath(path)}: {exc}") from exc

    def label_for(self, lang: str, fallback: str = "ro") -> str:
        return self.label.get(lang) or self.label.get(fallback) or f"{self.term} {self.unit}"

    def check_extension(self, extension_days: int) -> None:
        """Raise SlaProfileError unless the profile allows this many extension days in total."""
        if isinstance(extension_days, bool) or not isinstance(extension_days, int):
            raise SlaProfileError(f"extension days must be an integer, got {extension_days!r}")
        if extension_days < 0:
            raise SlaProfileError(f"extension days must not be negative, got {extension_days}")
        if extension_days == 0:
            return
        if self.extension is None:
            raise SlaProfileError("this SLA profile does not allow an extension ('extension' is not set)")
        if extension_days > self.extension.total_max_days:
            raise SlaProfileError(
                f"an extension of {extension_days} days exceeds 'extension.max_days' "
                f"({self.extension.max_days} x {self.extension.times} time(s))")

    def due_date(self, registered_on: date, extension_days: int = 0,
                 paused_days: int = 0) -> date:
        """Last day on which the answer is still in time.

        ``extension_days`` is the total granted by extensions, in the profile's
        unit; it prolongs the term itself, so rollover applies to the new end.
        ``paused_days`` (same unit) is the time the case waited for the sender's
        missing documents: the clock did not run then.
        """
        _require_date(registered_on, "registered_on")
        self.check_extension(extension_days)
        if isinstance(paused_days, bool) or not isinstance(paused_days, int) or paused_days < 0:
            raise SlaProfileError(f"paused days must be a non-negative integer, got {paused_days!r}")
        n = self.term + extension_days + paused_days
        # Counting starts after the anchor: the registration day itself is
        # counted only when first_day_counts is set.
        anchor = registered_on - _ONE_DAY if self.first_day_counts else registered_on
        if self.unit == WORKING_DAYS:
            last = add_working_days(anchor, n)
        else:
            last = anchor + timedelta(days=n)
        if not self.last_day_counts:
            last += _ONE_DAY
        if self.rollover_to_working_day and not is_working_day(last):
            last = next_working_day(last)
        return last
