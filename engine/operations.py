"""Service operations the engine itself provides to diagrams: the legal clock
(`sla.*`) and the signer's capacity (`org.record_signer`). Connectors' operations
come from `connectors.catalogue`; these need the engine's own tables."""
from datetime import date

from . import deadlines, substitution


def _department(context, data) -> str:
    return str(data.get("department") or context.procedure.get("department") or "")


def start_clock(context, data: dict) -> dict:
    registered_on = (data.get("registration") or {}).get("registered_on")
    started = date.fromisoformat(registered_on) if registered_on else context.today
    clock = deadlines.start(context.session, context.instance, started)
    return {"due_on": clock.due_on.isoformat()} if clock else {}


def pause_clock(context, data: dict, reason: str = "") -> dict:
    clock = deadlines.pause(context.session, context.instance, context.today, context.actor,
                            reason or str(data.get("missing_documents", "")))
    return {"paused_since": clock.paused_since.isoformat() if clock.paused_since else None}


def resume_clock(context, data: dict) -> dict:
    clock = deadlines.resume(context.session, context.instance, context.today, context.actor)
    return {"due_on": clock.due_on.isoformat(), "paused_days": clock.paused_days}


def extend_clock(context, data: dict, days: int = 0, reason: str = "") -> dict:
    clock = deadlines.extend(context.session, context.instance, context.actor_ref, int(days),
                             reason or str(data.get("extension_reason", "")),
                             _department(context, data), context.today)
    return {"due_on": clock.due_on.isoformat(), "extension_days": clock.extension_days}


def use_variant(context, data: dict, variant: str = "") -> dict:
    clock = deadlines.use_variant(context.session, context.instance, variant, context.actor)
    return {"due_on": clock.due_on.isoformat(), "variant": clock.variant}


def stop_clock(context, data: dict) -> dict:
    clock = deadlines.stop(context.session, context.instance, context.today, context.actor)
    if clock is None:
        return {}
    return {"stopped_on": clock.stopped_on.isoformat(), "due_on": clock.due_on.isoformat(),
            "in_time": clock.stopped_on <= clock.due_on}


def record_signer(context, data: dict) -> dict:
    """Who signed and as what (mayor, vice-mayor, or by delegation valid that day);
    refuses, rolling the step back, if the person may not sign on that date."""
    actor = context.actor_ref
    # A substitute works on the mayor's tasks but does not sign as mayor: only one's
    # own office or a written delegation gives the right to sign.
    capacity = substitution.signing_capacity(context.session, actor.username,
                                             actor.personal_groups, context.today)
    return {"signed_by": actor.username, "signed_as": capacity,
            "signed_on": context.today.isoformat()}


ENGINE_OPERATIONS = {
    "sla.start": start_clock, "sla.pause": pause_clock, "sla.resume": resume_clock,
    "sla.extend": extend_clock, "sla.use_variant": use_variant, "sla.stop": stop_clock,
    "org.record_signer": record_signer,
}
