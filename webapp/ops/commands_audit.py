"""`dosar audit seal` and `dosar audit verify`: the audit trail's hash chain from the
command line (the chain itself: connectors/audit_chain.py; what a report says:
webapp/audit/report.py). Verify exits with 1 when the chain is broken, so a cron job
or a monitoring check can act on it."""
import json
import re
import sys

import click
from flask import g
from flask.cli import AppGroup

from connectors import audit_chain
from connectors.audit import record_event
from webapp.database import db, may_write

audit_cli = AppGroup("audit", help="Jurnalul de audit: sigilare și verificarea lanțului.")

ANCHOR = re.compile(r"(\d+):([0-9a-f]{64})")


def _seal(actor: str) -> int:
    sealed = audit_chain.seal(db.session)
    if sealed:
        record_event(db.session, actor, "audit.sealed", object_ref="audit:chain",
                     summary=f"{sealed} evenimente sigilate", after={"sealed": sealed})
        db.session.commit()
    return sealed


@audit_cli.command("seal")
@click.option("--by", "actor", default="cli", help="Cine sigilează (pentru jurnal).")
def seal_command(actor):
    """Sigilează acum evenimentele încă nesigilate (planificatorul o face oricum, la
    DOSAR_AUDIT_SEAL_SECONDS)."""
    sealed = _seal(actor)
    click.echo(f"Evenimente sigilate acum: {sealed}.")


@audit_cli.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Raportul în format JSON.")
@click.option("--seal", "seal_first", is_flag=True,
              help="Sigilează întâi evenimentele nesigilate.")
@click.option("--anchor", metavar="NR:SHA256",
              help="Un capăt de lanț notat anterior, care trebuie să fie încă în lanț.")
@click.option("--by", "actor", default="cli", help="Cine verifică (pentru jurnal).")
def verify_command(as_json, seal_first, anchor, actor):
    """Recalculează lanțul de amprente al jurnalului de audit și numește fiecare
    eveniment modificat, șters sau mutat; iese cu codul 1 dacă lanțul este rupt."""
    from webapp.audit.report import describe, record_verification, summary_line
    expected = None
    if anchor:
        match = ANCHOR.fullmatch(anchor.strip().lower())
        if match is None:
            raise click.BadParameter("scrieți NR:SHA256, de exemplu 1234:9f86d0…",
                                     param_hint="--anchor")
        expected = (int(match.group(1)), match.group(2))
    g.lang = "ro"                   # the report's texts, outside any request
    if seal_first:
        _seal(actor)
    db.session.commit()
    token = may_write.set(False)    # a long read must not hold SQLite's write lock
    try:
        report = audit_chain.verify(db.session, anchor=expected)
    finally:
        db.session.rollback()
        may_write.reset(token)
    record_verification(db.session, actor, report, "dosar audit verify")
    db.session.commit()
    if as_json:
        data = report.to_dict()
        for item, problem in zip(data["problems"], report.problems):
            item["message"] = describe(problem)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(summary_line(report))
        if report.head_seq:
            click.echo(f"Capătul lanțului: {report.head_seq}:{report.head_hash}")
        for problem in report.problems:
            click.echo(f"  {describe(problem)}")
        if report.problem_count > len(report.problems):
            click.echo(f"  … și încă {report.problem_count - len(report.problems)} probleme.")
    if not report.ok:
        sys.exit(1)


COMMANDS = [audit_cli]
