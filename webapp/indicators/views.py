"""/indicatori/: the management indicators page and its CSV and JSON exports.

Who may look: the mayor, the secretary general, administrators (the whole town hall)
and heads of department (`sef-<dept>`, only their own department)."""
from dataclasses import dataclass
from datetime import date
from functools import wraps

from flask import (Blueprint, Response, abort, current_app, g, jsonify, redirect,
                   render_template, request, url_for)
from flask_babel import format_decimal, gettext as _
from sqlalchemy import select

from webapp.auth.models import Department
from webapp.database import db
from webapp.dates import parse_day

from . import charts, exports, queries

bp = Blueprint("indicators", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static", url_prefix="/indicatori")

FULL_ACCESS = frozenset({"primar", "secretar", "admin"})


def headed_departments(user) -> frozenset[str] | None:
    """None: the whole town hall; otherwise the departments the user heads (maybe none)."""
    if user.groups & FULL_ACCESS:
        return None
    return frozenset(code[4:] for code in user.groups if code.startswith("sef-") and code[4:])


def may_see(user) -> bool:
    return user is not None and headed_departments(user) != frozenset()


def indicators_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if not may_see(g.user):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


@bp.app_context_processor
def navigation():
    return {"can_see_indicators": lambda: may_see(g.get("user"))}


def today() -> date:
    """Today, for "overdue" and the default month. Tests fix it with
    `app.config["INDICATORS_TODAY"]` (a function returning a date); users cannot."""
    fixed = current_app.config.get("INDICATORS_TODAY")
    return fixed() if fixed else date.today()


@dataclass
class Filters:
    start: date
    end: date
    department: str                 # what the form shows as chosen ("" = all)
    departments: list[str] | None   # what the queries are limited to (None = all)


def parse_filters(args, scope: frozenset[str] | None, now: date):
    """The period and department asked for, or the errors, each naming its field."""
    errors = {}
    start = _date(args, "de", _("De la"), errors)
    end = _date(args, "pana", _("Până la"), errors)
    if start is None and end is None:
        start, end = queries.month_bounds(now)
    elif end is None:
        end = queries.month_bounds(start)[1]
    elif start is None:
        start = end.replace(day=1)
    if not errors and end < start:
        errors["pana"] = _("Până la: data de sfârșit este înaintea datei de început.")
    elif not errors and end >= queries.add_years(start, queries.MAX_YEARS):
        errors["pana"] = _("Până la: perioada poate fi de cel mult %(years)d ani.",
                           years=queries.MAX_YEARS)
    asked = args.get("departament", "").strip()
    if scope is not None:
        # A head of department sees their own department, whatever the address says.
        chosen = asked if asked in scope else (next(iter(scope)) if len(scope) == 1 else "")
        departments = [chosen] if chosen else sorted(scope)
    else:
        chosen, departments = asked, ([asked] if asked else None)
        if asked and db.session.get(Department, asked[:50]) is None:
            errors["departament"] = _("Compartiment: „%(value)s” nu există.", value=asked[:50])
    return (None if errors else Filters(start, end, chosen, departments)), errors


def _date(args, name: str, label: str, errors: dict) -> date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    day = parse_day(raw)
    if day is not None:
        return day
    errors[name] = _("%(field)s: „%(value)s” nu este o dată validă; scrieți AAAA-LL-ZZ, "
                     "de exemplu %(example)s.", field=label, value=raw[:40],
                     example=today().isoformat())
    return None


def _department_choices(scope) -> list[tuple[str, str]]:
    stmt = select(Department.code, Department.name).order_by(Department.name)
    if scope is not None:
        stmt = stmt.where(Department.code.in_(sorted(scope)))
    return [tuple(r) for r in db.session.execute(stmt)]


def _filters_or_errors():
    return parse_filters(request.args, headed_departments(g.user), today())


@bp.route("/")
@indicators_required
def index():
    scope = headed_departments(g.user)
    filters, errors = _filters_or_errors()
    choices = _department_choices(scope)
    if errors:
        return render_template("indicators/index.html", data=None, errors=errors,
                               form=request.args, choices=choices, scope=scope), 400
    data = queries.compute(db.session, filters.start, filters.end, today(), filters.departments)
    labels = exports.labels(data)
    return render_template(
        "indicators/index.html", data=data, errors={}, choices=choices, scope=scope,
        form={"de": filters.start.isoformat(), "pana": filters.end.isoformat(),
              "departament": filters.department},
        export_args={k: v for k, v in {"de": filters.start.isoformat(),
                                       "pana": filters.end.isoformat(),
                                       "departament": filters.department}.items() if v},
        name=labels.department, bucket_label=labels.bucket, number=_number,
        in_out_chart=charts.in_out_by_department(
            [(labels.department(f.department), f.registered_in, f.out)
             for f in data.by_department]),
        registrations_chart=charts.registrations(
            [(labels.bucket(b), b.registered) for b in data.buckets]))


@bp.route("/export.csv")
@indicators_required
def export_csv():
    filters, errors = _filters_or_errors()
    if errors:
        return render_template("error.html", title=_("Parametri greșiți"),
                               message=" ".join(errors.values())), 400
    data = queries.compute(db.session, filters.start, filters.end, today(), filters.departments)
    name = f"indicatori_{filters.start.isoformat()}_{filters.end.isoformat()}.csv"
    return Response(exports.to_csv(data), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/export.json")
@indicators_required
def export_json():
    filters, errors = _filters_or_errors()
    if errors:
        return jsonify({"erori": errors}), 400
    data = queries.compute(db.session, filters.start, filters.end, today(), filters.departments)
    return jsonify(exports.to_dict(data))


def _number(value) -> str:
    """A day count as the reader's language writes it (10,5 in Romanian); — for none."""
    return "—" if value is None else format_decimal(value)
