"""A chain report in words (Romanian, translatable), for the screen and for
`dosar audit verify`, and the audit event that records a verification."""
from flask_babel import gettext as _, ngettext

from connectors import audit_chain as chain
from connectors.audit import record_event


def _what(p: chain.Problem) -> str:
    return _("evenimentul #%(id)s (nr. %(seq)s în lanț, %(action)s, %(object)s, "
             "%(at)s UTC)", id=p.event_id, seq=p.seq, action=p.action or "—",
             object=p.object_ref or "—", at=p.at or "—")


def describe(p: chain.Problem) -> str:
    """One sentence naming the event and what is wrong with it."""
    if p.kind == chain.EDITED:
        return _("Modificat după sigilare: %(what)s nu mai corespunde sigiliului său.",
                 what=_what(p))
    if p.kind == chain.DELETED:
        missing = (str(p.missing_from) if p.missing_from == p.missing_to
                   else f"{p.missing_from}–{p.missing_to}")
        if p.previous_event_id is None:
            return _("Șters: lipsesc din lanț nr. %(missing)s, dinaintea evenimentului "
                     "#%(id)s.", missing=missing, id=p.event_id)
        return _("Șters: lipsesc din lanț nr. %(missing)s, între evenimentul #%(before)s "
                 "și evenimentul #%(id)s.", missing=missing, before=p.previous_event_id,
                 id=p.event_id)
    if p.kind == chain.REORDERED:
        return _("Mutat sau falsificat: lanțul nu continuă de la sigiliul pe care îl are "
                 "%(what)s.", what=_what(p))
    if p.kind == chain.UNLINKED:
        return _("Nelegat: %(what)s nu se leagă de evenimentul dinaintea lui (urmează "
                 "unei rupturi a lanțului).", what=_what(p))
    if p.kind == chain.UNSEALED:
        return _("Scos din lanț: %(what)s are sigiliu, dar nu mai are număr în lanț.",
                 what=_what(p))
    if p.kind == chain.ANCHOR:
        return _("Lanț rescris: capătul exportat anterior (nr. %(seq)s) nu mai corespunde.",
                 seq=p.seq)
    return p.kind


def summary_line(report: chain.Report) -> str:
    if report.ok:
        return _("Lanțul este întreg: %(checked)d evenimente sigilate verificate, "
                 "%(unsealed)d încă nesigilate.", checked=report.checked,
                 unsealed=report.unsealed)
    return ngettext("Lanțul este rupt: %(num)d problemă în %(checked)d evenimente "
                    "sigilate (%(unsealed)d încă nesigilate).",
                    "Lanțul este rupt: %(num)d probleme în %(checked)d evenimente "
                    "sigilate (%(unsealed)d încă nesigilate).", report.problem_count,
                    checked=report.checked, unsealed=report.unsealed)


def record_verification(session, actor: str, report: chain.Report, where: str) -> None:
    """The verification itself, in the audit trail (the caller commits)."""
    record_event(session, actor, "audit.verified", object_ref="audit:chain",
                 summary=(f"Verificare lanț de audit ({where}): "
                          + ("întreg" if report.ok else f"{report.problem_count} probleme")
                          + f", {report.checked} sigilate, {report.unsealed} nesigilate"),
                 after={"ok": report.ok, "checked": report.checked,
                        "unsealed": report.unsealed, "problem_count": report.problem_count,
                        "head_seq": report.head_seq, "head_hash": report.head_hash,
                        "broken": [{"kind": p.kind, "event_id": p.event_id, "seq": p.seq}
                                   for p in report.problems[:50]]})
