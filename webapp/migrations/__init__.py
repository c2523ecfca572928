"""Alembic migrations, run from code (`dosar init`) against the app's database."""
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


class MigrationError(RuntimeError):
    pass


def upgrade(revision: str = "head") -> None:
    """Bring the app's database (Flask app context) up to `revision`."""
    from webapp.database import db
    with db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                command.upgrade(alembic_config(connection), revision)
            return
        # SQLite alters a table by rebuilding it (copy, drop, rename), and with foreign
        # keys on, dropping a table that rows of others point at fails. They are turned
        # off for the migration (a pragma that only takes effect outside a transaction)
        # and every reference is checked before the migration commits.
        raw = connection.connection.dbapi_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                command.upgrade(alembic_config(connection), revision)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(f"referințe rupte după migrare: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
