"""/audit: the auditor's screen. Auditors and administrators only.

- GET /audit: search the trail (actor, action, object, instance, period), 100 events a
  page, newest first, each with its seal (its number in the hash chain, or not yet).
- POST /audit/verifica: check the whole chain now and show the report; the check is
  itself recorded in the trail.
- GET /audit/export.csv: every event the filters match, as CSV; the export is recorded.
"""
from contextlib import contextmanager

from flask import (Blueprint, Response, g, render_template, request,
                   stream_with_context)

from connectors import audit_chain
from connectors.audit import record_event
from webapp.auth.session import group_required
from webapp.database import db, may_write, write_transaction

from . import queries
from .report import describe, record_verification, summary_line

bp = Blueprint("audit", __name__, template_folder="templates")

AUDITORS = ("auditor", "admin")


@bp.app_context_processor
def navigation():
    return {"can_audit": lambda: g.get("user") is not None
            and bool(g.user.groups & set(AUDITORS))}


def _render_index(filters, status=200, **extra):
    events, older = ([], None) if filters.errors else queries.page(db.session, filters)
    return render_template("audit/index.html", filters=filters, events=events, older=older,
                           local_time=queries.local_time, page_size=queries.PAGE_SIZE,
                           **extra), status


@bp.route("/audit")
@group_required(*AUDITORS)
def index():
    filters = queries.AuditFilters.from_args(request.args)
    return _render_index(filters, 422 if filters.errors else 200)


@contextmanager
def _reading():
    """A read without SQLite's write lock, even inside a POST: walking a long chain must
    not hold up every clerk's step (webapp/database.py)."""
    db.session.commit()
    token = may_write.set(False)
    try:
        yield
    finally:
        db.session.rollback()
        may_write.reset(token)


@bp.route("/audit/verifica", methods=["POST"])
@group_required(*AUDITORS)
def verify():
    with _reading():
        report = audit_chain.verify(db.session)
    record_verification(db.session, g.user.username, report, "ecranul de audit")
    db.session.commit()
    return render_template("audit/report.html", report=report, summary=summary_line(report),
                           problems=[(p, describe(p)) for p in report.problems])


@bp.route("/audit/export.csv")
@group_required(*AUDITORS)
def export_csv():
    filters = queries.AuditFilters.from_args(request.args)
    if filters.errors:
        return _render_index(filters, 422)
    with write_transaction():
        record_event(db.session, g.user.username, "audit.exported", object_ref="audit:trail",
                     summary="Export CSV din jurnalul de audit",
                     after={"filters": filters.args(inainte=filters.before)})
    lines = queries.csv_lines(queries.all_matching(db.session, filters))
    return Response(stream_with_context(lines), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=jurnal-audit.csv"})
