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


def upgrade(revision: str = "head") -> None:
    """Bring the app's database (Flask app context) up to `revision`."""
    from webapp.database import db
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
