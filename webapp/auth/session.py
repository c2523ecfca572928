"""The logged-in user, and the decorators every handler starts with."""
import time
from functools import wraps

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from sqlalchemy import select

from engine.runtime import Actor
from engine.substitution import effective_groups
from engine.timers import local_today
from webapp.database import db

from .models import User


def load_current_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    # A session left idle ends (a screen left open at the desk): the cookie's own
    # lifetime bounds the whole working day, this the time since the last request.
    now, seen = int(time.time()), session.get("seen")
    if seen is not None and now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        session.clear()
        g.session_expired = True
        return
    if seen is None or now - seen >= 30:      # the cookie is re-signed at most twice a minute
        session["seen"] = now
    user = db.session.get(User, user_id)
    if user is not None and user.active:
        g.user = user


def current_actor() -> Actor:
    """The user as the engine sees them today: their groups, plus those of colleagues
    they stand in for and the delegated signer's while a delegation is valid."""
    if getattr(g, "actor", None) is None:
        g.actor = Actor(g.user.username, effective_groups(
            db.session, g.user.username, g.user.groups, local_today(), groups_of=_groups_of),
            own_groups=g.user.groups)
    return g.actor


def _groups_of(username: str) -> frozenset[str]:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    return user.groups if user is not None and user.active else frozenset()


def to_login():
    if g.get("session_expired"):
        flash(_("Sesiunea a expirat după o perioadă de inactivitate; autentificați-vă din nou."),
              "error")
    return redirect(url_for("auth.login", next=request.full_path))


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return to_login()
        return view(*args, **kwargs)
    return wrapped


def group_required(*groups):
    """The user must belong to at least one of the groups."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.user is None:
                return to_login()
            if not g.user.groups & set(groups):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
