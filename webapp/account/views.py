"""One's own account: change the password, turn the second factor on or off."""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine import audit
from webapp.auth import second_factor
from webapp.auth.password_policy import password_problems
from webapp.auth.passwords import hash_password, verify_password
from webapp.auth.session import login_required
from webapp.database import db

bp = Blueprint("account", __name__, template_folder="templates", url_prefix="/cont")

PENDING = "totp_pending_secret"


def _page(status=200, **context):
    user = g.user
    pending = session.get(PENDING)
    enrol = None
    if pending and not user.totp_secret:
        uri = second_factor.provisioning_uri(pending, user.username,
                                             current_app.config["TOWN_HALL"])
        enrol = {"secret": pending, "qr": second_factor.qr_svg(uri)}
    return render_template("account/index.html", directory=bool(user.directory_dn),
                           enrol=enrol, errors=context.pop("errors", {}), **context), status


@bp.route("/")
@login_required
def index():
    return _page()


@bp.route("/parola", methods=["POST"])
@login_required
def change_password():
    current, new, again = (request.form.get(k, "") for k in ("current", "new", "again"))
    user = g.user
    if user.directory_dn:
        flash(_("Parola contului se schimbă în directorul instituției, nu aici."), "error")
        return _page(400)
    errors = {}
    if not verify_password(user.password_hash, current):
        errors["current"] = _("Parola actuală nu este corectă.")
    elif problems := password_problems(new, username=user.username, full_name=user.full_name):
        errors["new"] = problems[0]
    elif new != again:
        errors["again"] = _("Cele două parole noi nu coincid.")
    elif new == current:
        errors["new"] = _("Parola nouă trebuie să difere de cea actuală.")
    if errors:
        return _page(422, errors=errors)
    user.password_hash = hash_password(new)
    audit.record(db.session, user.username, "user.password_changed", object_ref=f"user:{user.id}")
    db.session.commit()
    flash(_("Parola a fost schimbată."), "success")
    return redirect(url_for("account.index"))


@bp.route("/doi-factori/incepe", methods=["POST"])
@login_required
def start_second_factor():
    if g.user.totp_secret:
        return redirect(url_for("account.index"))
    session[PENDING] = second_factor.new_secret()
    return redirect(url_for("account.index"))


@bp.route("/doi-factori/confirma", methods=["POST"])
@login_required
def confirm_second_factor():
    secret, user = session.get(PENDING), g.user
    if user.totp_secret or not secret:
        return redirect(url_for("account.index"))
    if not second_factor.code_is_valid(secret, request.form.get("code", "")):
        return _page(422, errors={"code": _("Codul nu este corect; introduceți codul de 6 "
                                            "cifre afișat acum de aplicație.")})
    user.totp_secret = secret
    session.pop(PENDING, None)
    audit.record(db.session, user.username, "user.second_factor_enabled",
                 object_ref=f"user:{user.id}")
    db.session.commit()
    flash(_("Al doilea factor este activ: la autentificare vi se va cere și codul."), "success")
    return redirect(url_for("account.index"))


@bp.route("/doi-factori/dezactiveaza", methods=["POST"])
@login_required
def disable_second_factor():
    user = g.user
    if not user.totp_secret:
        return redirect(url_for("account.index"))
    if not second_factor.code_is_valid(user.totp_secret, request.form.get("code", "")):
        return _page(422, errors={"disable": _("Codul nu este corect.")})
    user.totp_secret = None
    audit.record(db.session, user.username, "user.second_factor_disabled",
                 object_ref=f"user:{user.id}")
    db.session.commit()
    flash(_("Al doilea factor a fost dezactivat."), "success")
    return redirect(url_for("account.index"))
