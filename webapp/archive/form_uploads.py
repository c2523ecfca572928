"""Files posted in a procedure's forms join the archive of the case's register entry.

Called by the handlers that accept a form (the desk's registration, a task's
completion) just before they commit, so the documents are kept in the same
transaction as the step itself.
"""
from flask import g

from archive.form_files import keep_form_files
from connectors.registry.models import RegisterEntry
from engine.models import ProcessInstance
from forms.messages import SOURCE_LANG
from webapp.database import db

from . import archive_storage


def keep_form_uploads(instance_id: int, form, data: dict) -> None:
    """Keep the files of `form` found in `data` on the instance's register entry,
    titled by their field (in the town hall's language). Nothing when the case has
    no entry or the form no file."""
    if form is None:
        return
    files = [(field.title(SOURCE_LANG), data[field.name]) for field in form.fields
             if field.kind == "file" and isinstance(data.get(field.name), dict)]
    if not files:
        return
    instance = db.session.get(ProcessInstance, instance_id)
    entry = db.session.get(RegisterEntry, instance.document_id) if instance and \
        instance.document_id else None
    if entry is not None:
        keep_form_files(db.session, archive_storage(), entry, files, g.user.username)
