"""`mail.send` as a service task: a procedure writes to the citizen or to anyone.

    <spiffworkflow:serviceTaskOperator id="mail.send">
      to_field = "sender_email"       (or to = "registratura@primarie.ro")
      subject  = "Cererea nr. $registration_label a fost rezolvată"
      body     = "Bună ziua, $sender_name, …"

Placeholders are `$name` (string.Template): the task's data, with one level of nesting
flattened as `outer_inner` (`$registration_label`). Template rather than str.format,
whose `{x.__class__}` would let a diagram reach into objects.
"""
from string import Template

from .outbox import enqueue_mail, valid_address


def _fields(data: dict) -> dict:
    fields = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                if isinstance(item, (str, int, float)):
                    fields[f"{key}_{inner}"] = item
        elif isinstance(value, (str, int, float)):
            fields[key] = value
    return fields


def send_mail_operation(context, data: dict, to: str = "", to_field: str = "",
                        subject: str = "", body: str = "") -> dict:
    """Queue a message in the instance's transaction. No address (a citizen who gave
    none) is not a failure of the procedure: the step goes on and says so."""
    address = (to or str(data.get(to_field) or "")).strip()
    if not address:
        return {"queued": False, "reason": "fără adresă de e-mail"}
    if not valid_address(address):
        return {"queued": False, "reason": f"adresă de e-mail invalidă: {address}"}
    fields = _fields(data)
    queued = enqueue_mail(context.session, to=address,
                          subject=Template(subject).safe_substitute(fields),
                          body=Template(body).safe_substitute(fields),
                          object_ref=f"instance:{context.instance_id}")
    return {"queued": queued, "to": address}
