"""The `dosar` command: init, demo, serve, deploy, bench (and Flask's own commands)."""
import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app():
    from webapp import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main():
    """Dosar — registratura și circuitul documentelor unei primării."""


@main.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database and the file storage."""
    from webapp.migrations import upgrade
    upgrade()
    Path(current_app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)
    from sqlalchemy.engine import make_url
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo(f"Baza de date este la zi: {url.render_as_string(hide_password=True)}")


@main.command("deploy")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--by", "actor", default="cli", help="Who deploys (for the audit trail).")
@with_appcontext
def deploy_command(path, actor):
    """Deploy a BPMN procedure folder (or a folder of procedure folders)."""
    from engine.deployment import deploy_folder
    from engine.errors import ProcedureError
    from webapp.database import db
    folders = [path] if (path / "procedure.json").exists() else sorted(
        p for p in path.iterdir() if (p / "procedure.json").exists())
    if not folders:
        raise click.ClickException(f"{path} nu conține nicio procedură (procedure.json).")
    for folder in folders:
        try:
            definition, created = deploy_folder(db.session, folder, actor)
        except ProcedureError as err:
            db.session.rollback()
            raise click.ClickException(f"{folder}: {err}")
        db.session.commit()
        state = "publicată" if created else "neschimbată"
        click.echo(f"{definition.name}: versiunea {definition.version_hash[:12]} {state}")


@main.command("add-user")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, as shown to colleagues.")
@click.option("--department", help="Department code, e.g. urbanism.")
@click.option("--group", "groups", multiple=True,
              help="Group code (repeatable): registratura, primar, sef-<dept>, dept-<dept>…")
@click.password_option(help="Asked for when not given.")
@with_appcontext
def add_user_command(username, full_name, department, groups, password):
    """Create a local staff account."""
    from sqlalchemy import select

    from engine import audit
    from webapp.auth.models import Department, User, UserGroup
    from webapp.auth.passwords import hash_password
    from webapp.database import db
    if db.session.execute(select(User).where(User.username == username)).first():
        raise click.ClickException(f"Utilizatorul «{username}» există deja.")
    if department and db.session.get(Department, department) is None:
        raise click.ClickException(f"Compartimentul «{department}» nu există.")
    from webapp.auth.password_policy import password_problems
    problems = password_problems(password, username=username, full_name=full_name)
    if problems:
        raise click.ClickException(problems[0])
    db.session.add(User(username=username, full_name=full_name, department_code=department,
                        password_hash=hash_password(password),
                        memberships=[UserGroup(group_code=g) for g in sorted(set(groups))]))
    audit.record(db.session, "cli", "user.created", object_ref=f"user:{username}",
                 after={"username": username, "groups": sorted(set(groups))})
    db.session.commit()
    click.echo(f"Cont creat: {username} ({', '.join(sorted(set(groups))) or 'fără grupuri'})")


@main.group("registers")
def registers_group():
    """The town hall's registers (numbering series)."""


@registers_group.command("list")
@with_appcontext
def registers_list():
    from sqlalchemy import select

    from connectors.registry.models import Register
    from webapp.database import db
    for r in db.session.execute(select(Register).order_by(Register.code)).scalars():
        state = "" if r.active else "  (inactiv)"
        click.echo(f"{r.code:<16} {r.kind:<11} {r.prefix or '-':<8} {r.department or '-':<18} "
                   f"{r.name}{state}")


@registers_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Shown on screens and on the register book.")
@click.option("--kind", type=click.Choice(["in_out", "internal", "department"]),
              default="in_out", show_default=True)
@click.option("--prefix", default="", help="Printed before the number, e.g. URB- → URB-12/2026.")
@click.option("--department", help="For a department's own series: its code.")
@with_appcontext
def registers_add(code, name, kind, prefix, department):
    """Add a register. Numbering starts at 1 and restarts each 1 January."""
    from sqlalchemy import select

    from connectors.registry.models import Register
    from engine import audit
    from webapp.auth.models import Department
    from webapp.database import db
    if db.session.execute(select(Register).where(Register.code == code)).first():
        raise click.ClickException(f"Registrul «{code}» există deja.")
    if kind == "department" and not department:
        raise click.ClickException("Seria unui compartiment cere --department.")
    if department and db.session.get(Department, department) is None:
        raise click.ClickException(f"Compartimentul «{department}» nu există.")
    db.session.add(Register(code=code, name=name, kind=kind, prefix=prefix,
                            department=department))
    audit.record(db.session, "cli", "register.created", object_ref=f"register:{code}",
                 after={"code": code, "kind": kind, "prefix": prefix, "department": department})
    db.session.commit()
    click.echo(f"Registrul «{code}» a fost adăugat.")


@main.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo town hall and stop.")
@with_appcontext
def demo_command(host, port, no_serve):
    """Init + load the demo town hall + serve."""
    from webapp.demo import DEMO_PASSWORD, load_demo
    from webapp.migrations import upgrade
    upgrade()
    users = load_demo(Path(current_app.config["PROCESSES_DIR"]))
    click.echo("\nPrimăria demonstrativă este gata. Conturi (parola pentru toate: "
               f"{DEMO_PASSWORD}):")
    for username, full_name, role in users:
        click.echo(f"  {username:<22} {full_name:<28} {role}")
    if not no_serve:
        _serve(host, port, threads=8)


@main.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--threads", default=8, type=int)
@with_appcontext
def serve_command(host, port, threads):
    """Serve the app with a production WSGI server (waitress)."""
    _serve(host, port, threads)


def _serve(host, port, threads):
    from waitress import serve

    from webapp import scheduler
    from webapp.ops.logs import configure
    app = current_app._get_current_object()
    configure(app.config.get("LOG_FORMAT") or "text")
    running = scheduler.start(app)      # deadlines keep firing while the app serves
    # SIGTERM (systemd, a load balancer's drain) ends the process through `finally`,
    # so the scheduler lease is handed over at once instead of after it expires.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # What is loaded by now (the app, its routes, templates, procedures) lives as long
    # as the process: frozen, full garbage collections stop walking it, which would
    # otherwise show as pauses of tens of milliseconds in answers.
    gc.freeze()
    click.echo(f"\nDosar rulează la http://{host}:{port}/  (Ctrl+C pentru oprire)", err=False)
    sys.stdout.flush()
    try:
        serve(app, host=host, port=port, threads=threads, ident="dosar", _quiet=True)
    finally:
        scheduler.stop(running)


@main.command("timers")
@click.option("--watch", is_flag=True, help="Keep running: fire timers as they fall due.")
@with_appcontext
def timers_command(watch):
    """Fire the timers that are due now (deadline reminders, escalations, tacit
    approvals, diagram timers); with --watch, run as a scheduler process."""
    import time

    from webapp import scheduler
    app = current_app._get_current_object()
    if watch:
        scheduler.start(app)
        click.echo("Planificatorul rulează (Ctrl+C pentru oprire).")
        while True:
            time.sleep(3600)
    for item in scheduler.tick(app):
        click.echo(f"{item.kind} #{item.timer_id} (dosarul {item.instance_id}): {item.outcome}")


@main.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs due now, then exit.")
@click.option("--kinds", default="",
              help="Only these job kinds, comma-separated (e.g. archive.extract_text).")
@click.option("--idle-seconds", default=2.0, type=float, show_default=True,
              help="Pause when no job is due.")
@with_appcontext
def worker_command(once, kinds, idle_seconds):
    """Run background jobs (OCR, indexing, scan batches) as they are queued. Start as
    many as the machine has cores; `dosar serve` runs them too unless
    DOSAR_JOB_INTERVAL_SECONDS=0."""
    import time

    from sqlalchemy.exc import OperationalError

    from connectors.jobs.queue import run_next
    from webapp.database import db
    from webapp.scheduler import worker_name
    only = tuple(k.strip() for k in kinds.split(",") if k.strip()) or None
    name = worker_name("worker")
    if not once:
        click.echo(f"Lucrătorul {name} rulează (Ctrl+C pentru oprire).")
    try:
        while True:
            try:
                outcome = run_next(db.session, name, only)
            except OperationalError as err:   # a failover or a lost connection: wait, go on
                db.session.rollback()
                db.session.remove()
                click.echo(f"Baza de date nu răspunde ({err.orig}); reîncerc.", err=True)
                time.sleep(idle_seconds * 5)
                continue
            if outcome is None:
                db.session.remove()
                if once:
                    break
                time.sleep(idle_seconds)
                continue
            line = f"{outcome.kind} #{outcome.job_id}: {outcome.status}"
            click.echo(line + (f" — {outcome.error}" if outcome.error else ""))
    except KeyboardInterrupt:
        click.echo("Lucrătorul s-a oprit.")


@main.command("bench", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_command(name, args):
    """Run benchmarks/NAME.py, for example `dosar bench engine --quick`."""
    root = Path(__file__).resolve().parent.parent
    script = root / "benchmarks" / f"{name.replace('-', '_')}.py"   # bpmn-corpus
    if not script.exists():
        known = ", ".join(sorted(p.stem for p in (root / "benchmarks").glob("*.py")
                                 if not p.stem.startswith("_")))
        raise click.ClickException(f"Nu există benchmark-ul «{name}». Disponibile: {known}")
    env = dict(os.environ, PYTHONPATH=str(root))
    sys.exit(subprocess.call([sys.executable, str(script), *args], env=env))
