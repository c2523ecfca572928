import time
from urllib.parse import urlparse

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from sqlalchemy import select

from connectors.db import utcnow
from engine import audit
from webapp.database import db

from . import throttle
from .models import Department, User, UserGroup
from .passwords import verify_password
from .second_factor import code_is_valid

bp = Blueprint("auth", __name__, template_folder="templates")

# The password hash of directory accounts: no Argon2 hash, so no local password matches.
UNUSABLE_PASSWORD = "!directory"
# The password step of a login waiting for its second-factor code.
PENDING, PENDING_SECONDS = "login_pending_second_factor", 300


def _safe_next(target: str | None) -> str:
    """Only redirect within this site after login."""
    if target and urlparse(target).netloc == "" and target.startswith("/"):
        return target
    return url_for("inbox.index")


@bp.route("/autentificare", methods=["GET", "POST"])
def login():
    """Local accounts check their Argon2 password here; when a directory is configured,
    everyone else is checked by it (webapp/auth/directory.py, docs/identity.md)."""
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
    if current_app.config.get("LDAP_URL") and (user is None or user.directory_dn):
        return _directory_login(user, username, password, ip, now)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        reason = ("unknown_user" if user is None else "inactive" if not user.active
                  else "wrong_password")
        return _refuse(username, ip, now, reason)
    return _accept(user)


def _accept(user: User):
    """The password was right: logged in, or, with a second factor, asked for the code."""
    session.clear()
    if user.totp_secret:
        session[PENDING] = {"user_id": user.id, "at": time.time(),
                            "next": request.form.get("next", "")}
        db.session.commit()              # a directory account's update stays
        return redirect(url_for("auth.second_factor"))
    return _log_in(user, request.form.get("next"))


def _log_in(user: User, next_url: str | None, summary: str = ""):
    throttle.clear_failures(db.session, user.username)
    session.clear()
    session["user_id"] = user.id
    session.permanent = True
    audit.record(db.session, user.username, "user.logged_in", object_ref=f"user:{user.id}",
                 summary=summary)
    db.session.commit()
    return redirect(_safe_next(next_url))


@bp.route("/autentificare/cod", methods=["GET", "POST"])
def second_factor():
    """The second step of a login with a second factor: the code of the moment. The
    password step is valid for five minutes; wrong codes count like wrong passwords."""
    pending = session.get(PENDING) or {}
    user = db.session.get(User, pending["user_id"]) if pending.get("user_id") else None
    if user is None or not user.active or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        flash(_("Autentificarea a expirat; introduceți din nou utilizatorul și parola."), "error")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/second_factor.html")
    ip, now = request.remote_addr or "", utcnow()
    if throttle.locked_until(db.session, user.username, ip, now) is not None:
        session.pop(PENDING, None)
        flash(_("Prea multe încercări eșuate. Reîncercați mai târziu."), "error")
        return redirect(url_for("auth.login"))
    if not code_is_valid(user.totp_secret, request.form.get("code", "")):
        throttle.record_failure(db.session, user.username, ip, now)
        audit.record(db.session, user.username, "user.login_failed", object_ref=f"ip:{ip}",
                     summary="wrong_second_factor_code")
        db.session.commit()
        flash(_("Codul nu este corect."), "error")
        return render_template("auth/second_factor.html"), 401
    return _log_in(user, pending.get("next"), summary="second_factor")


def _refuse(username: str, ip: str, now, reason: str, *, message: str | None = None,
            status: int = 401, count: bool = True):
    """A refused login: audited with its reason; counted by the throttle when it may be
    someone guessing (not when the directory is down or the password was right)."""
    if count:
        throttle.record_failure(db.session, username, ip, now)
    audit.record(db.session, username or None, "user.login_failed", object_ref=f"ip:{ip}",
                 summary=reason)
    db.session.commit()
    flash(message or _("Utilizator sau parolă greșite."), "error")
    return render_template("auth/login.html", next=request.form.get("next", ""),
                           username=username), status


def _directory_login(user: User | None, username: str, password: str, ip: str, now):
    # Imported here: without a directory configured the app needs no LDAP library.
    from . import directory
    try:
        outcome = directory.Directory.from_config(current_app.config).authenticate(
            username, password)
    except (directory.DirectoryUnavailable, directory.DirectoryMisconfigured) as error:
        log = (current_app.logger.error if isinstance(error, directory.DirectoryMisconfigured)
               else current_app.logger.warning)
        log("directory login impossible: %s", error)
        return _refuse(username, ip, now, f"directory_unavailable: {error}"[:1000], count=False,
                       status=503, message=_(
                           "Serviciul de autentificare nu răspunde. Reîncercați în câteva "
                           "minute; dacă problema persistă, anunțați administratorul."))
    if outcome.status != "ok":
        # Gone from the directory or disabled there: the local row stops working too.
        row = user if user is not None and user.directory_dn else _row_of_dn(outcome.dn)
        if outcome.status in ("unknown", "disabled") and row is not None and row.active:
            _deactivate(row, f"directory:{outcome.status}")
        return _refuse(username, ip, now, f"directory:{outcome.status}")
    account = outcome.account
    row = _row_of_dn(account.dn)
    if row is None:
        row = db.session.execute(select(User).where(
            User.username == account.username)).scalar_one_or_none()
        if row is not None and not row.directory_dn:
            # A local account of the same name is not taken over by the directory.
            return _refuse(username, ip, now, "directory:local_account_conflict", count=False,
                           status=409, message=_(
                               "Există deja un cont local cu acest nume. Cereți "
                               "administratorului să lege contul de director."))
    if not account.codes:
        if row is not None and row.active:
            _deactivate(row, "directory:no_mapped_group")
        return _refuse(username, ip, now, "directory:no_mapped_group", count=False,
                       status=403, message=_(
                           "Contul dumneavoastră din director nu face parte din niciun grup "
                           "al aplicației Dosar. Cereți administratorului să vă adauge în "
                           "grupul compartimentului."))
    row = _sync_account(row, account)
    throttle.clear_failures(db.session, username)
    return _accept(row)


def _row_of_dn(dn: str | None) -> User | None:
    if not dn:
        return None
    return db.session.execute(select(User).where(User.directory_dn == dn)).scalar_one_or_none()


def _state(user: User) -> dict:
    return {"username": user.username, "full_name": user.full_name, "email": user.email,
            "department": user.department_code, "active": user.active,
            "groups": sorted(user.groups), "directory_dn": user.directory_dn}


def _deactivate(user: User, reason: str) -> None:
    before = _state(user)
    user.active = False
    user.memberships = []
    db.session.flush()
    audit.record(db.session, None, "user.directory_sync", object_ref=f"user:{user.id}",
                 summary=reason, before=before, after=_state(user))


def _department_of(codes: frozenset[str]) -> str | None:
    """The department a person's `dept-`/`sef-` group names, if Dosar has it."""
    for code in sorted(codes):
        for prefix in ("sef-", "dept-"):
            if code.startswith(prefix) and db.session.get(Department, code[len(prefix):]):
                return code[len(prefix):]
    return None


def _sync_account(user: User | None, account) -> User:
    """Create or update the local row of a directory account: the directory's name,
    e-mail and groups replace what the row had."""
    if user is None:
        user = User(username=account.username, full_name=account.full_name,
                    email=account.email, password_hash=UNUSABLE_PASSWORD, active=True,
                    directory_dn=account.dn, memberships=[])
        db.session.add(user)
        db.session.flush()
        before = None
    else:
        before = _state(user)
    taken = db.session.execute(select(User.id).where(
        User.username == account.username, User.id != user.id)).first()
    if not taken:
        user.username = account.username
    user.full_name = account.full_name[:200]
    user.email = account.email[:200]
    user.directory_dn = account.dn
    user.password_hash = UNUSABLE_PASSWORD
    user.active = True
    user.department_code = _department_of(account.codes) or user.department_code
    # Changed one by one: a code kept keeps its row (same primary key, no re-insert).
    user.memberships = [m for m in user.memberships if m.group_code in account.codes] + [
        UserGroup(group_code=code) for code in sorted(account.codes - user.groups)]
    db.session.flush()
    after = _state(user)
    if before != after:
        audit.record(db.session, None, "user.directory_sync", object_ref=f"user:{user.id}",
                     summary="directory:created" if before is None else "directory:updated",
                     before=before, after=after)
    return user


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
