"""Glue between procedure forms and requests: loading a version's form, filling in
lists that depend on the data (e.g. the clerks of a department), storing uploads."""
import copy

from flask import current_app, session
from sqlalchemy import select

from archive.filenames import safe_filename
from archive.storage import LocalStorage
from engine.deployment import definition_form
from engine.projection import fill
from forms import FormDefinition
from connectors.registry.models import NomenclatorFile
from webapp.auth.models import Department, User, UserGroup
from webapp.database import db


def load_form(definition, form_name: str, data=None) -> FormDefinition | None:
    """`data` is the instance's data, or a function returning it: it is only needed
    (and only loaded) when the form has lists that depend on it."""
    raw = definition_form(definition, form_name)
    if raw is None:
        return None
    raw = copy.deepcopy(raw)
    for field, hints in list(raw.get("ui", {}).items()):
        if isinstance(hints, dict) and "options_from" in hints:
            if callable(data):
                data = data()
            _fill_options(raw, field, fill(hints.pop("options_from"), data or {}))
    return FormDefinition.from_dict(raw, name=form_name)


def _fill_options(raw: dict, field: str, source: str) -> None:
    """Choices filled in when the form is shown: `group:<code>` the active users of a
    group, `departments` the town hall's departments, `nomenclator:<department>` the
    open files of a department's archival nomenclator."""
    kind, _, code = source.partition(":")
    if kind == "group":
        users = db.session.execute(
            select(User).join(UserGroup).where(UserGroup.group_code == code,
                                               User.active.is_(True))
            .order_by(User.full_name)).scalars().all()
        choices = {u.username: u.full_name for u in users}
    elif kind == "departments":
        choices = {d.code: d.name for d in db.session.execute(
            select(Department).order_by(Department.name)).scalars()}
    elif kind == "nomenclator":
        choices = {f.code: f"{f.code} — {f.title} ({f.retention_label})"
                   for f in db.session.execute(select(NomenclatorFile).where(
                       NomenclatorFile.department == code, NomenclatorFile.active.is_(True))
                       .order_by(NomenclatorFile.code)).scalars()}
    else:
        return
    # An empty enum is not valid JSON Schema: an empty list offers nothing.
    raw["schema"]["properties"][field]["enum"] = list(choices) or [""]
    raw["ui"][field]["enum_titles"] = choices


def storage() -> LocalStorage:
    return LocalStorage(current_app.config["STORAGE_DIR"])


def store_upload(file_storage, content_type: str) -> dict:
    sha256, size = storage().put(file_storage.stream)
    return {"sha256": sha256, "name": safe_filename(file_storage.filename), "size": size,
            "content_type": content_type}


# Browsers cannot re-fill a file input: a file accepted in a submission that had
# other errors is remembered (in the signed session, so it cannot be forged to point
# at someone else's file) and kept when the form comes back without a new upload.

def pending_files(key: str) -> dict:
    return dict(session.get("pending_files", {}).get(key, {}))


def remember_files(key: str, form: FormDefinition, data: dict) -> None:
    refs = {f.name: data[f.name] for f in form.fields
            if f.kind == "file" and isinstance(data.get(f.name), dict)}
    session["pending_files"] = {key: refs} if refs else {}


def forget_files(key: str) -> None:
    session.pop("pending_files", None)
