"""`dosar backup` and `dosar restore` (the logic is in backup.py)."""
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from .backup import BackupError, create_backup, restore_backup


@click.command("backup")
@click.argument("dest_dir", required=False, type=click.Path(file_okay=False))
@with_appcontext
def backup_command(dest_dir):
    """Copie de siguranță: baza de date, fișierele arhivei și cheia sesiunilor.

    DEST_DIR implicit: DOSAR_BACKUP_DIR (<dosar date>/backups)."""
    started = time.monotonic()
    try:
        result = create_backup(current_app, dest_dir)
    except BackupError as err:
        raise click.ClickException(str(err))
    click.echo(f"Copie de siguranță: {result.path}")
    click.echo(f"  {sum(result.rows.values())} rânduri în {len(result.rows)} tabele, "
               f"revizia schemei {result.revision}")
    click.echo(f"  {result.files} fișiere ({result.bytes / 1e6:.1f} MB), "
               f"în {time.monotonic() - started:.1f} s")


@click.command("restore")
@click.argument("src_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True,
              help="Șterge datele existente ale bazei țintă înainte de restaurare.")
@with_appcontext
def restore_command(src_dir, force):
    """Restaurează o copie făcută cu `dosar backup` (verifică întâi sumele de control)."""
    started = time.monotonic()
    try:
        result = restore_backup(current_app, src_dir, force=force)
    except BackupError as err:
        raise click.ClickException(str(err))
    click.echo(f"Restaurat din {src_dir}: {sum(result.rows.values())} rânduri, "
               f"{result.files} fișiere, în {time.monotonic() - started:.1f} s.")
    if result.secret_key == "restored":
        click.echo("Cheia sesiunilor din copie a fost pusă în loc (cea veche: "
                   "secret_key.before-restore); reporniți serverul.")
    elif result.secret_key == "environment":
        click.echo("Cheia sesiunilor vine din DOSAR_SECRET_KEY; cea din copie (secret_key) "
                   "nu a fost folosită.")
    click.echo("Indexul de căutare nu face parte din copie; reconstruiți-l cu: "
               "dosar archive reindex")


COMMANDS = [backup_command, restore_command]
