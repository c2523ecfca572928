"""The Registratura's printed papers: a document's receipt and label / cover sheet,
and the register book of a period (PDF or CSV). The papers themselves are drawn by
`connectors.registry.paper`; here: who may have them, and what goes on them."""
import io
from datetime import date, timedelta
from urllib.parse import urlencode

from flask import abort, current_app, g, render_template, request, send_file
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.utils import secure_filename

from connectors.registry import paper
from connectors.registry.models import Register, RegisterEntry
from engine import audit, deadlines
from engine.models import ProcessInstance
from engine.timers import local_today
from webapp.auth.models import Department, User
from webapp.auth.session import group_required, login_required
from webapp.database import db, write_transaction

from .access import may_read_entry, record_confidential_read, shown
from .views import bp

# Those who see the whole register; a department prints only its own documents.
WHOLE_REGISTER = frozenset({"registratura", "primar", "secretar", "admin"})
LABEL_FORMATS = {"coperta": "cover", "eticheta": "label"}


# --- one document's papers -------------------------------------------------------

@bp.route("/<int:entry_id>/recipisa.pdf")
@login_required
def receipt(entry_id):
    entry = _printable_entry(entry_id)
    instance = db.session.execute(select(ProcessInstance).where(
        ProcessInstance.document_id == entry.id).order_by(ProcessInstance.id)).scalars().first()
    due_on, term_label = _term(entry, instance)
    status_url = (current_app.config["PUBLIC_URL"] + "/stare?"
                  + urlencode({"nr": entry.label, "cod": entry.access_code}))
    registrar = db.session.execute(select(User.full_name).where(
        User.username == entry.registered_by)).scalar_one_or_none() if entry.registered_by else None
    pdf = paper.receipt_pdf(entry, town_hall=current_app.config["TOWN_HALL"], due_on=due_on,
                            term_label=term_label, status_url=status_url,
                            departments=_department_names(), registrar=registrar or "")
    return _pdf(pdf, f"recipisa-{entry.label}", inline=True)


@bp.route("/<int:entry_id>/eticheta.pdf")
@login_required
def label(entry_id):
    """`?format=coperta` (default): an A4 cover sheet with a label to cut out;
    `?format=eticheta`: one 70×36 mm page for a label printer."""
    chosen = request.args.get("format", "coperta")
    if chosen not in LABEL_FORMATS:
        return _bad_parameter(_("Parametrul «format» trebuie să fie «coperta» sau «eticheta», "
                                "nu «%(value)s».", value=chosen))
    entry = _printable_entry(entry_id)
    pdf = paper.cover_sheet_pdf(entry, town_hall=current_app.config["TOWN_HALL"],
                                layout=LABEL_FORMATS[chosen], departments=_department_names())
    return _pdf(pdf, f"{chosen}-{entry.label}", inline=True)


def _printable_entry(entry_id: int) -> RegisterEntry:
    """The Registratura, the mayor and the secretary print any document; a
    department's clerks and head print those assigned to their department."""
    groups = g.user.groups
    whole = bool(groups & WHOLE_REGISTER)
    if not whole and not any(code.startswith(("dept-", "sef-")) for code in groups):
        abort(403)
    entry = db.get_or_404(RegisterEntry, entry_id)
    if not whole and not groups & {f"dept-{entry.department}", f"sef-{entry.department}"}:
        abort(403)
    if entry.confidential:
        # The desk hands the receipt over and labels the paper on the day it registers
        # a confidential document; afterwards only its department prints it.
        at_the_desk = "registratura" in groups and entry.registered_on == local_today()
        if not (may_read_entry(entry) or at_the_desk):
            abort(403)
        record_confidential_read(entry, request.path)
    return entry


def _term(entry: RegisterEntry, instance: ProcessInstance | None) -> tuple[date | None, str]:
    """The legal term printed on the receipt: its date, and the rule it comes from
    (in Romanian, like the rest of the receipt)."""
    if instance is None:
        return entry.due_on, ""
    # The entry's due date mirrors the case's clock (after an extension or a pause).
    profile = deadlines.profile_in_force(db.session, instance)
    return (entry.due_on or instance.due_on,
            profile.label_for("ro") if profile is not None else "")


# --- the register book --------------------------------------------------------------

@bp.route("/registru.pdf")
@group_required(*WHOLE_REGISTER)
def register_book_pdf():
    return _register_book("pdf")


@bp.route("/registru.csv")
@group_required(*WHOLE_REGISTER)
def register_book_csv():
    return _register_book("csv")


def _register_book(kind: str):
    """`?registru=general&de=2026-11-01&pana=2026-11-30`; without dates, this month."""
    start, end, error = _period(request.args)
    if error:
        return _bad_parameter(error)
    register = db.session.execute(select(Register).where(
        Register.code == request.args.get("registru", "general"))).scalar_one_or_none()
    if register is None:
        abort(404)
    entries = db.session.execute(
        select(RegisterEntry).options(selectinload(RegisterEntry.linked_entry))
        .where(RegisterEntry.register_id == register.id,
               RegisterEntry.registered_on.between(start, end))
        .order_by(RegisterEntry.registered_on, RegisterEntry.number)).scalars().all()
    entries = [shown(e) for e in entries]      # confidential lines masked (access.py)
    if kind == "pdf":
        people = dict(db.session.execute(select(User.username, User.full_name)).all())
        content = paper.register_book_pdf(register, entries, start=start, end=end,
                                          town_hall=current_app.config["TOWN_HALL"],
                                          departments=_department_names(), people=people)
    else:
        content = paper.register_book_csv(entries).encode("utf-8")
    name = f"registru-{register.code}-{start.isoformat()}-{end.isoformat()}"
    summary = _("%(register)s, %(start)s – %(end)s, %(kind)s, înregistrări: %(count)s",
                register=register.name, start=start.strftime("%d.%m.%Y"),
                end=end.strftime("%d.%m.%Y"), kind=kind.upper(), count=len(entries))
    # Personal data leaves the system here: who took which period is on record
    # before the file is handed over.
    with write_transaction():
        audit.record(db.session, g.user.username, "register.exported",
                     object_ref=f"register:{register.code}", summary=summary,
                     after={"register": register.code, "start": start.isoformat(),
                            "end": end.isoformat(), "format": kind, "entries": len(entries)})
    if kind == "pdf":
        return _pdf(content, name, inline=False)
    response = send_file(io.BytesIO(content), mimetype="text/csv; charset=utf-8",
                         as_attachment=True, download_name=f"{name}.csv")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _period(args) -> tuple[date | None, date | None, str | None]:
    """(start, end, None) or (None, None, a message naming the parameter)."""
    if "de" not in args and "pana" not in args:
        today = date.today()
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return start, end, None
    days = {}
    for name, meaning in (("de", _("începutul perioadei")), ("pana", _("sfârșitul perioadei"))):
        text = args.get(name, "").strip()
        if not text:
            return None, None, _("Parametrul «%(name)s» (%(meaning)s) lipsește; scrieți data "
                                 "ca AAAA-LL-ZZ.", name=name, meaning=meaning)
        try:
            if len(text) != 10:
                raise ValueError
            days[name] = date.fromisoformat(text)
        except ValueError:
            return None, None, _("Parametrul «%(name)s» (%(meaning)s) nu este o dată validă: "
                                 "«%(value)s»; scrieți data ca AAAA-LL-ZZ.",
                                 name=name, meaning=meaning, value=text[:20])
    start, end = days["de"], days["pana"]
    if start > end:
        return None, None, _("Parametrul «de» (%(start)s) este după «pana» (%(end)s).",
                             start=start.isoformat(), end=end.isoformat())
    if end >= _one_year_after(start):
        return None, None, _("Perioada poate fi de cel mult un an: parametrul «pana» poate fi "
                             "cel târziu %(last)s.",
                             last=(_one_year_after(start) - timedelta(days=1)).isoformat())
    return start, end, None


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:          # 29 February
        return day.replace(year=day.year + 1, day=28) + timedelta(days=1)




# --- shared ---------------------------------------------------------------------------

def _department_names() -> dict:
    return dict(db.session.execute(select(Department.code, Department.name)).all())


def _bad_parameter(message: str):
    return render_template("error.html", title=_("Cerere greșită"), message=message), 400


def _pdf(content: bytes, name: str, *, inline: bool):
    response = send_file(io.BytesIO(content), mimetype="application/pdf",
                         as_attachment=not inline,
                         download_name=secure_filename(name.replace("/", "-")) + ".pdf")
    # Papers carry personal data: not for shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response
