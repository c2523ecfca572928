"""/absente: absences with a substitute; /delegari: signing delegations.

Absences: anyone records their own, a head of department (`sef-<dept>`) those of the
department's people, an administrator anyone's. The substitute receives the absent
person's open tasks as soon as the absence is current (here when it is recorded, and at
every scheduler tick for absences that start later). Delegations (*dispoziții de
delegare*): the mayor, the secretary general (who drafts the mayor's dispositions) and
administrators grant and revoke them; while one is valid its holder may sign."""
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from engine import audit
from engine.errors import EngineError
from engine.models_org import Absence, SigningDelegation
from engine.substitution import cancel_absence, hand_over_absent_tasks, record_absence
from engine.timers import local_today
from webapp.auth.models import User
from webapp.auth.session import group_required, login_required
from webapp.database import db

from . import checks

bp = Blueprint("org", __name__, template_folder="templates")

GRANTERS = ("primar", "secretar", "admin")
PAGE_SIZE = 50


def headed_departments(user) -> frozenset[str]:
    return frozenset(code[4:] for code in user.groups if code.startswith("sef-") and code[4:])


def may_act_for(user, person: User | None) -> bool:
    """Whether `user` may record or cancel `person`'s absence. Only one's own groups
    count here, not those borrowed while standing in for someone."""
    if "admin" in user.groups:
        return True
    if person is None:
        return False
    return (person.username == user.username
            or (person.department_code or "") in headed_departments(user))


def may_grant(user) -> bool:
    return user is not None and bool(user.groups & set(GRANTERS))


@bp.app_context_processor
def navigation():
    return {"may_grant_delegations": lambda: may_grant(g.get("user"))}


def state_of(row, today: date) -> str:
    """upcoming / current / past, or cancelled (an absence) / revoked (a delegation)."""
    if getattr(row, "cancelled", False):
        return "cancelled"
    if getattr(row, "revoked", False):
        return "revoked"
    if row.starts_on > today:
        return "upcoming"
    return "past" if row.ends_on < today else "current"


# ---- Absences ----------------------------------------------------------------------

@bp.route("/absente")
@login_required
def absences():
    return _absences_page({}, {})


@bp.route("/absente", methods=["POST"])
@login_required
def record():
    session, today = db.session, local_today()
    username = request.form.get("persoana", "").strip() or g.user.username
    person = checks.active_user(session, username)
    if not may_act_for(g.user, person):
        abort(403)
    admin = "admin" in g.user.groups
    errors = {}
    if person is None:      # only an administrator gets this far with an unknown name
        errors["persoana"] = _("«%(field)s»: „%(value)s” nu este un utilizator activ.",
                               field=_("Persoana absentă"), value=username[:100])
    substitute = checks.substitute(session, request.form, person, admin, errors) if person else None
    start, end = checks.period(request.form, today, errors)
    reason = checks.text(request.form, "motiv", _("Motiv"), 300, errors)
    if person and start and end and not errors:
        earlier = checks.overlapping(session, person.username, start, end)
        if earlier is not None:
            errors["de_la"] = _("«De la»: %(name)s are deja o absență în perioada "
                                "%(start)s – %(end)s; anulați-o sau alegeți alte zile.",
                                name=person.full_name, start=earlier.starts_on.strftime("%d.%m.%Y"),
                                end=earlier.ends_on.strftime("%d.%m.%Y"))
    if not errors:
        try:
            record_absence(session, person.username, substitute.username, start, end, reason,
                           g.user.username)
        except EngineError as err:
            errors["inlocuitor"] = str(err)
    if errors:
        session.rollback()
        return _absences_page(request.form, errors, status=422)
    moved = hand_over_absent_tasks(session, today)
    session.commit()
    flash(_("Absența lui %(person)s a fost înregistrată; înlocuitor: %(substitute)s. "
            "Sarcini trecute acum la înlocuitor: %(moved)d.", person=person.full_name,
            substitute=substitute.full_name, moved=moved), "success")
    return redirect(url_for("org.absences"))


@bp.route("/absente/<int:absence_id>/anuleaza", methods=["POST"])
@login_required
def cancel(absence_id):
    absence = db.get_or_404(Absence, absence_id)
    person = db.session.execute(select(User).where(
        User.username == absence.username)).scalar_one_or_none()
    if not may_act_for(g.user, person):
        abort(403)
    if absence.cancelled:
        flash(_("Absența era deja anulată."), "info")
        return redirect(url_for("org.absences"))
    cancel_absence(db.session, absence, g.user.username)
    db.session.commit()
    flash(_("Absența a fost anulată. Sarcinile trecute deja la înlocuitor rămân la "
            "înlocuitor; șeful compartimentului le poate redistribui."), "success")
    return redirect(url_for("org.absences"))


def _visible_absences(user):
    stmt = select(Absence)
    if "admin" not in user.groups:
        seen = or_(Absence.username == user.username, Absence.substitute == user.username)
        departments = sorted(headed_departments(user))
        if departments:
            people = select(User.username).where(User.department_code.in_(departments))
            seen = or_(seen, Absence.username.in_(people))
        stmt = stmt.where(seen)
    return stmt


def _absences_page(form, errors, status=200):
    user, today = g.user, local_today()
    rows, page, pages = _page(_visible_absences(user),
                              (Absence.starts_on.desc(), Absence.id.desc()))
    names = _names({a.username for a in rows} | {a.substitute for a in rows}
                   | {a.created_by for a in rows if a.created_by})
    people = {u.username: u for u in db.session.execute(select(User).where(
        User.username.in_(sorted({a.username for a in rows})))).scalars()}
    cancellable = {a.id for a in rows if state_of(a, today) in ("upcoming", "current")
                   and may_act_for(user, people.get(a.username))}
    persons, substitutes = _absence_choices(user)
    return render_template(
        "org/absences.html", rows=rows, names=names, page=page, pages=pages,
        state_of=lambda a: state_of(a, today), cancellable=cancellable,
        persons=persons, substitutes=substitutes, form=form, errors=errors,
        chosen_person=form.get("persoana") or user.username), status


def _absence_choices(user):
    """Whom the form offers: as absent person, the user and (for a head) the
    department's people, everyone for an administrator; as substitutes, the active
    people of those departments (the check itself is in `checks.substitute`)."""
    active = select(User).where(User.active.is_(True)).order_by(User.full_name)
    if "admin" in user.groups:
        everyone = db.session.execute(active).scalars().all()
        return everyone, everyone
    departments = set(headed_departments(user))
    persons = [user] + (db.session.execute(active.where(
        User.department_code.in_(sorted(departments)), User.id != user.id)).scalars().all()
        if departments else [])
    if user.department_code:
        departments.add(user.department_code)
    substitutes = db.session.execute(active.where(
        User.department_code.in_(sorted(departments)))).scalars().all() if departments else []
    return persons, substitutes


# ---- Signing delegations -----------------------------------------------------------

@bp.route("/delegari")
@login_required
def delegations():
    return _delegations_page({}, {})


@bp.route("/delegari", methods=["POST"])
@group_required(*GRANTERS)
def grant():
    session, today = db.session, local_today()
    errors = {}
    username = request.form.get("titular", "").strip()
    holder = checks.active_user(session, username)
    if not username:
        errors["titular"] = _("«%(field)s» este obligatoriu.", field=_("Titular"))
    elif holder is None:
        errors["titular"] = _("«%(field)s»: „%(value)s” nu este un utilizator activ.",
                              field=_("Titular"), value=username[:100])
    act = checks.text(request.form, "act", _("Actul de delegare"), 100, errors, required=True)
    start, end = checks.period(request.form, today, errors)
    scope = checks.text(request.form, "domeniu", _("Domeniul delegării"), 300, errors)
    if errors:
        return _delegations_page(request.form, errors, status=422)
    delegation = SigningDelegation(holder=holder.username, act_reference=act, starts_on=start,
                                   ends_on=end, scope=scope, created_by=g.user.username)
    session.add(delegation)
    session.flush()
    audit.record(session, g.user.username, "delegation.granted",
                 object_ref=f"delegation:{delegation.id}", summary=f"{holder.username}: {act}",
                 after={"holder": holder.username, "act_reference": act, "starts_on": start,
                        "ends_on": end, "scope": scope})
    session.commit()
    flash(_("%(name)s poate semna prin delegare (%(act)s) între %(start)s și %(end)s.",
            name=holder.full_name, act=act, start=start.strftime("%d.%m.%Y"),
            end=end.strftime("%d.%m.%Y")), "success")
    return redirect(url_for("org.delegations"))


@bp.route("/delegari/<int:delegation_id>/revoca", methods=["POST"])
@group_required(*GRANTERS)
def revoke(delegation_id):
    delegation = db.get_or_404(SigningDelegation, delegation_id)
    if delegation.revoked:
        flash(_("Delegarea era deja revocată."), "info")
        return redirect(url_for("org.delegations"))
    delegation.revoked = True
    audit.record(db.session, g.user.username, "delegation.revoked",
                 object_ref=f"delegation:{delegation.id}",
                 summary=f"{delegation.holder}: {delegation.act_reference}",
                 before={"revoked": False}, after={"revoked": True})
    db.session.commit()
    flash(_("Delegarea %(act)s a fost revocată: titularul nu mai poate semna în baza ei.",
            act=delegation.act_reference), "success")
    return redirect(url_for("org.delegations"))


def _delegations_page(form, errors, status=200):
    user, today = g.user, local_today()
    granter = may_grant(user)
    stmt = select(SigningDelegation)
    if not granter:         # others see only the delegations they hold
        stmt = stmt.where(SigningDelegation.holder == user.username)
    rows, page, pages = _page(stmt, (SigningDelegation.starts_on.desc(),
                                     SigningDelegation.id.desc()))
    names = _names({d.holder for d in rows} | {d.created_by for d in rows if d.created_by})
    holders = db.session.execute(select(User).where(User.active.is_(True))
                                 .order_by(User.full_name)).scalars().all() if granter else []
    return render_template(
        "org/delegations.html", rows=rows, names=names, page=page, pages=pages,
        state_of=lambda d: state_of(d, today),
        granter=granter, holders=holders, form=form, errors=errors,
        year=today.year), status


# ---- Shared ------------------------------------------------------------------------

def _page(stmt, order):
    number = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = db.session.execute(stmt.order_by(*order).offset((number - 1) * PAGE_SIZE)
                              .limit(PAGE_SIZE)).scalars().all()
    return rows, number, max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def _names(usernames) -> dict[str, str]:
    usernames = sorted(u for u in usernames if u)
    if not usernames:
        return {}
    return dict(db.session.execute(select(User.username, User.full_name).where(
        User.username.in_(usernames))).all())
