from urllib.parse import urlparse

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from connectors.db import utcnow
from engine import audit
from webapp.database import db

from . import throttle
from .models import User
from .passwords import verify_password

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only redirect within this site after login."""
    if target and urlparse(target).netloc == "" and target.startswith("/"):
        return target
    return url_for("inbox.index")


@bp.route("/autentificare", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    ip, now = request.remote_addr or "", utcnow()
    until = throttle.locked_until(db.session, username, ip, now)
    if until is not None:
        minutes = max(int((until - now).total_seconds() // 60) + 1, 1)
        flash(_("Prea multe încercări eșuate. Reîncercați peste %(minutes)d minute.",
                minutes=minutes), "error")
        return render_template("auth/login.html", next=request.form.get("next", ""),
                               username=username), 429
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active or not verify_password(user.password_hash, password):
        throttle.record_failure(db.session, username, ip, now)
        audit.record(db.session, username or None, "user.login_failed",
                     object_ref=f"ip:{ip}")
        db.session.commit()
        flash(_("Utilizator sau parolă greșite."), "error")
        return render_template("auth/login.html", next=request.form.get("next", ""),
                               username=username), 401
    throttle.clear_failures(db.session, username)
    session.clear()
    session["user_id"] = user.id
    session.permanent = True
    audit.record(db.session, user.username, "user.logged_in", object_ref=f"user:{user.id}")
    db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/limba/<code>")
def language(code):
    """Remember the interface language (screens, forms and messages follow it)."""
    if code not in ("ro", "en"):
        abort(404)
    response = redirect(_safe_next(request.args.get("next")))
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/iesire", methods=["POST"])
def logout():
    if g.user is not None:
        audit.record(db.session, g.user.username, "user.logged_out",
                     object_ref=f"user:{g.user.id}")
        db.session.commit()
    session.clear()
    return redirect(url_for("auth.login"))
