"""The logged-in user, and the decorators every handler starts with."""
from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from sqlalchemy import select

from engine.runtime import Actor
from engine.substitution import effective_groups
from engine.timers import local_today
from webapp.database import db

from .models import User


def load_current_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
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


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


def group_required(*groups):
    """The user must belong to at least one of the groups."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if not g.user.groups & set(groups):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
