"""`dosar scheduler`: a process that only runs the scheduler's leader duties (timers,
absence hand-over, scan folder), as one candidate among several for the lease."""
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduler in the foreground until SIGTERM/Ctrl+C: fire timers, hand
    absent people's tasks over and poll the scan folder while this process holds the
    scheduler lease (start two or more on different machines; one leads)."""
    from webapp import scheduler
    from webapp.ops import logs
    app = current_app._get_current_object()
    logs.configure(app.config.get("LOG_FORMAT", "text"))
    if app.config["TIMER_INTERVAL_SECONDS"] <= 0:
        raise click.ClickException("DOSAR_TIMER_INTERVAL_SECONDS este 0: planificatorul "
                                   "nu ar avea nimic de făcut.")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    running = scheduler.start(app, with_jobs=False)
    click.echo(f"Planificatorul {running.candidate.election.holder} candidează "
               "(SIGTERM sau Ctrl+C pentru oprire).")
    try:
        while not stopping.wait(1):
            pass
    finally:
        scheduler.stop(running)
    click.echo("Planificatorul s-a oprit.")


COMMANDS = [scheduler_command]
