"""The registry as service tasks of the document circuit.

Each operation is `fn(context, data, **params) -> dict`; `context` carries the
database session, the acting user, the day, and the procedure's settings
(`register`, `document_type`, `department` from its procedure.json), so the same
reusable circuit diagram registers a petition and an urbanism request alike.
"""
from datetime import date

from sqlalchemy import select

from .confidential import is_confidential
from .entries import record_answer, register_for
from .models import NomenclatorFile, RegisterEntry
from .numbering import RegistryError, register_document
from .signals import announce_entry_changed

# Registration form fields that are copied into the register entry.
ENTRY_FIELDS = ("sender_name", "sender_address", "sender_email", "sender_reference",
                "pages", "annexes", "summary", "department", "recipient", "file_code",
                "channel")


def _entry(context, data: dict) -> RegisterEntry:
    entry_id = (data.get("registration") or {}).get("entry_id")
    entry = context.session.get(RegisterEntry, entry_id) if entry_id else None
    if entry is None:
        raise RegistryError("documentul nu a fost înregistrat")
    return entry


def _day(value, default: date) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else default


def register_document_operation(context, data: dict, register: str = "",
                                document_type: str = "") -> dict:
    procedure = getattr(context, "procedure", None) or {}
    fields = {k: data[k] for k in ENTRY_FIELDS if data.get(k) not in (None, "")}
    if isinstance(data.get("sender_date"), str) and data["sender_date"]:
        fields["sender_date"] = date.fromisoformat(data["sender_date"])
    if isinstance(fields.get("pages"), str):
        fields["pages"] = int(fields["pages"]) if fields["pages"].isdigit() else None
    # A department's own series (URB-12/2026) when it keeps one, else the named register.
    code = register or register_for(context.session, fields.get("department"),
                                     procedure.get("register", "general")).code
    document_type = document_type or procedure.get("document_type", "")
    # Confidential by its type, or ticked «confidențial» at the desk.
    fields["confidential"] = is_confidential(document_type, data.get("confidential"))
    entry = register_document(context.session, code, context.today, context.actor,
                              document_type=document_type, **fields)
    context.on_document_registered(entry.id, entry.registered_on)
    announce_entry_changed(context.session, entry.id, "registered", context.actor)
    return {"entry_id": entry.id, "number": entry.number, "label": entry.label,
            "registered_on": entry.registered_on.isoformat(),
            "access_code": entry.access_code}


def assign_entry_operation(context, data: dict) -> dict:
    """Record in the register which department and clerk the document went to."""
    entry = _entry(context, data)
    entry.department = str(data.get("department") or entry.department)[:100]
    entry.assigned_to = str(data.get("assigned_clerk") or "")[:100]
    announce_entry_changed(context.session, entry.id, "assigned", context.actor)
    return {"department": entry.department, "assigned_to": entry.assigned_to}


def record_dispatch_operation(context, data: dict) -> dict:
    """The answer leaves under the number it answers: dispatch date, channel, outcome."""
    entry = _entry(context, data)
    record_answer(entry, on=_day(data.get("dispatch_date"), context.today),
                  channel=str(data.get("dispatch_channel") or "ghiseu"),
                  outcome=str(data.get("outcome", "")), recipient=str(data.get("recipient", "")))
    announce_entry_changed(context.session, entry.id, "answered", context.actor)
    return {"dispatched_on": entry.dispatched_on.isoformat(), "outcome": entry.outcome,
            "dispatch_channel": entry.dispatch_channel}


def archive_entry_operation(context, data: dict) -> dict:
    """File the document into a file of its department's nomenclator."""
    entry = _entry(context, data)
    code = str(data.get("file_code") or "")
    nomenclator_file = context.session.execute(select(NomenclatorFile).where(
        NomenclatorFile.code == code, NomenclatorFile.active.is_(True))).scalar_one_or_none()
    if nomenclator_file is None:
        raise RegistryError(f"dosarul «{code}» nu există în nomenclatorul arhivistic")
    entry.file_code, entry.archived_on = nomenclator_file.code, context.today
    # The archive puts the entry into that file's folder of the year (and refuses a
    # closed one) while listening to this.
    announce_entry_changed(context.session, entry.id, "archived", context.actor)
    return {"file_code": nomenclator_file.code, "archived_on": context.today.isoformat(),
            "retention": nomenclator_file.retention_label}
