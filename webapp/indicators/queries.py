"""The figures of the indicators page: grouped, read-only SQL over the register entries
and the open-task projection (never a workflow), finished in Python.

What each figure counts is stated in docs/registry.md ("Indicatori") and in the page's
footnote; keep the three in step.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from connectors.registry.models import RegisterEntry
from engine.models import HumanTask
from webapp.auth.models import Department, User

# Periods up to this many days are charted per week, longer ones per month.
WEEKLY_UP_TO_DAYS = 92
MAX_YEARS = 3


@dataclass
class Figures:
    """One row of the department table (or the total)."""
    department: str | None          # None for the total; "" for entries without one
    registered: int = 0             # every direction
    registered_in: int = 0
    out: int = 0
    answered: int = 0               # the population of the median and p95
    median_days: float | None = None
    p95_days: int | None = None
    overdue: int = 0
    dispatched_late: int = 0
    cancelled: int = 0
    tasks_overdue: int = 0
    tasks_escalated: int = 0
    response_days: list[int] = field(default_factory=list, repr=False)


@dataclass
class Bucket:
    start: date
    end: date
    registered: int = 0


@dataclass
class Indicators:
    start: date
    end: date
    today: date
    departments: list[str] | None   # the filter; None = the whole town hall
    total: Figures
    by_department: list[Figures]
    overdue_by_clerk: list[tuple[str, str, int]]   # username ("" unassigned), name, count
    unit: str                                       # "week" or "month"
    buckets: list[Bucket]
    department_names: dict[str, str]


def percentile_nearest_rank(values: list[int], percent: int) -> int | None:
    """The smallest value with at least `percent`% of the values at or below it
    (nearest rank): always one of the observed day counts."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)    # ceil without floating point
    return ordered[max(rank, 1) - 1]


def median_days(values: list[int]) -> float | None:
    """The usual median: the middle value, or the mean of the two middle values."""
    if not values:
        return None
    middle = median(values)
    return int(middle) if middle == int(middle) else float(middle)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:          # 29 February → 1 March
        return day.replace(year=day.year + years, month=3, day=1)


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def buckets(start: date, end: date) -> tuple[str, list[Bucket]]:
    """Weeks (Monday to Sunday) or calendar months covering the period, clipped to it."""
    result = []
    if (end - start).days < WEEKLY_UP_TO_DAYS:
        monday = start - timedelta(days=start.weekday())
        while monday <= end:
            result.append(Bucket(max(monday, start), min(monday + timedelta(days=6), end)))
            monday += timedelta(days=7)
        return "week", result
    first = start.replace(day=1)
    while first <= end:
        _, last = month_bounds(first)
        result.append(Bucket(max(first, start), min(last, end)))
        first = last + timedelta(days=1)
    return "month", result


def _scoped(stmt, column, departments):
    if departments is None:
        return stmt
    return stmt.where(column.in_(sorted(departments)))


def compute(session: Session, start: date, end: date, today: date,
            departments: list[str] | None = None) -> Indicators:
    """Every figure of the page for the period [start, end] (both days included).
    `today` fixes what "overdue" means; `departments` None means the whole town hall."""
    rows: dict[str, Figures] = {}

    def row(code) -> Figures:
        code = code or ""
        if code not in rows:
            rows[code] = Figures(code)
        return rows[code]

    E = RegisterEntry
    live = E.cancelled.is_(False)
    registered_in_period = E.registered_on.between(start, end)
    dispatched_in_period = E.dispatched_on.between(start, end)

    registered = session.execute(_scoped(
        select(E.department, E.direction, E.cancelled, func.count())
        .where(registered_in_period).group_by(E.department, E.direction, E.cancelled),
        E.department, departments))
    for department, direction, cancelled, count in registered:
        figures = row(department)
        if cancelled:
            figures.cancelled += count
            continue
        figures.registered += count
        if direction == "in":
            figures.registered_in += count

    # An entry that is both registered as outgoing and dispatched in the period is one
    # document going out: counted once.
    out = session.execute(_scoped(
        select(E.department, func.count())
        .where(live, or_(dispatched_in_period, and_(E.direction == "out", registered_in_period)))
        .group_by(E.department), E.department, departments))
    for department, count in out:
        row(department).out += count

    # Answers to received documents; an outgoing document answers nothing of its own.
    answers = session.execute(_scoped(
        select(E.department, E.registered_on, E.dispatched_on, func.count())
        .where(live, dispatched_in_period, E.direction != "out")
        .group_by(E.department, E.registered_on, E.dispatched_on), E.department, departments))
    for department, registered_on, dispatched_on, count in answers:
        row(department).response_days.extend([(dispatched_on - registered_on).days] * count)

    late = session.execute(_scoped(
        select(E.department, func.count())
        .where(live, dispatched_in_period, E.due_on.is_not(None), E.dispatched_on > E.due_on)
        .group_by(E.department), E.department, departments))
    for department, count in late:
        row(department).dispatched_late += count

    by_clerk: dict[str, int] = defaultdict(int)
    overdue = session.execute(_scoped(
        select(E.department, E.assigned_to, func.count())
        .where(live, E.dispatched_on.is_(None), E.due_on < today)
        .group_by(E.department, E.assigned_to), E.department, departments))
    for department, clerk, count in overdue:
        row(department).overdue += count
        by_clerk[clerk or ""] += count

    T = HumanTask
    tasks = session.execute(_scoped(
        select(T.department,
               func.sum(case((T.due_on < today, 1), else_=0)),
               func.sum(case((T.escalated.is_(True), 1), else_=0)))
        .where(T.status == "open").group_by(T.department), T.department, departments))
    for department, past_term, escalated in tasks:
        if past_term or escalated:
            figures = row(department)
            figures.tasks_overdue += int(past_term or 0)
            figures.tasks_escalated += int(escalated or 0)

    unit, series = buckets(start, end)
    per_day = session.execute(_scoped(
        select(E.registered_on, func.count()).where(live, registered_in_period)
        .group_by(E.registered_on), E.department, departments))
    for day, count in per_day:
        for bucket in series:
            if bucket.start <= day <= bucket.end:
                bucket.registered += count
                break

    names = dict(session.execute(select(Department.code, Department.name)).all())
    # Every department shows, with zeros: an empty row says something too.
    for code in (departments if departments is not None else names):
        row(code)
    by_department = sorted(rows.values(), key=lambda f: (
        f.department == "", names.get(f.department, f.department).lower()))
    total = Figures(None)
    for figures in by_department:
        _finish(figures)
        for name in ("registered", "registered_in", "out", "answered", "overdue",
                     "dispatched_late", "cancelled", "tasks_overdue", "tasks_escalated"):
            setattr(total, name, getattr(total, name) + getattr(figures, name))
        total.response_days.extend(figures.response_days)
    _finish(total)

    return Indicators(start=start, end=end, today=today, departments=departments,
                      total=total, by_department=by_department,
                      overdue_by_clerk=_clerks(session, by_clerk), unit=unit, buckets=series,
                      department_names=names)


def _finish(figures: Figures) -> None:
    figures.answered = len(figures.response_days)
    figures.median_days = median_days(figures.response_days)
    figures.p95_days = percentile_nearest_rank(figures.response_days, 95)


def _clerks(session: Session, counts: dict[str, int]) -> list[tuple[str, str, int]]:
    usernames = [u for u in counts if u]
    names = dict(session.execute(select(User.username, User.full_name)
                                 .where(User.username.in_(usernames))).all()) if usernames else {}
    result = [(u, names.get(u, u) if u else "", n) for u, n in counts.items()]
    # Most overdue first; the unassigned ones last among equals.
    return sorted(result, key=lambda r: (-r[2], r[0] == "", r[1].lower()))
