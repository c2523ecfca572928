"""One engine action on a case from a web form, answered the same way everywhere."""
from flask import abort, flash

from engine import runtime
from engine.errors import EngineError, NotPermitted
from webapp.database import db


def act_on_instance(instance_id: int, action):
    """Lock the case, run `action()`, commit. Someone not allowed gets 403; an action
    the engine refuses (with a reason people can read) is flashed and rolled back.
    Returns what `action` returned, or None when it was refused."""
    try:
        runtime.lock_instance(db.session, instance_id)
        result = action()
        db.session.commit()
        return result
    except NotPermitted:
        db.session.rollback()
        abort(403)
    except EngineError as err:
        db.session.rollback()
        flash(str(err), "error")
    return None
