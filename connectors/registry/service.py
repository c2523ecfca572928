"""The registry as a service task: `registry.register_document`."""
from datetime import date

from .models import RegisterEntry
from .numbering import register_document

# Registration form fields that are copied into the register entry.
ENTRY_FIELDS = ("sender_name", "sender_address", "sender_email", "sender_reference",
                "pages", "annexes", "summary", "department", "recipient", "file_code")


def register_document_operation(context, data: dict, register: str = "general",
                                document_type: str = "") -> dict:
    fields = {k: data[k] for k in ENTRY_FIELDS if data.get(k) not in (None, "")}
    if isinstance(data.get("sender_date"), str) and data["sender_date"]:
        fields["sender_date"] = date.fromisoformat(data["sender_date"])
    entry = register_document(context.session, register, context.today, context.actor,
                              document_type=document_type, **fields)
    context.on_document_registered(entry.id, entry.registered_on)
    return {"entry_id": entry.id, "number": entry.number, "label": entry.label,
            "registered_on": entry.registered_on.isoformat()}


def record_dispatch_operation(context, data: dict) -> dict:
    """Close the register entry: when the answer left and how the request was solved."""
    entry = context.session.get(RegisterEntry, (data.get("registration") or {}).get("entry_id"))
    if entry is None:
        raise ValueError("documentul nu a fost înregistrat")
    when = data.get("dispatch_date") or context.today.isoformat()
    entry.dispatched_on = date.fromisoformat(when) if isinstance(when, str) else when
    entry.outcome = str(data.get("outcome", ""))[:300]
    entry.recipient = entry.recipient or entry.sender_name
    return {"dispatched_on": entry.dispatched_on.isoformat(), "outcome": entry.outcome}
