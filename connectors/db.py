"""The one SQL metadata every layer's tables hang on.

It lives in the bottom layer so that engine/, archive/ and webapp/ may all define
tables on it (and reference each other's tables) without importing each other.
"""
from datetime import datetime, timezone

from sqlalchemy import MetaData, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase

# Explicit constraint names keep Alembic migrations identical on SQLite and MariaDB.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

# MariaDB's TEXT stops at 64 KiB; diagrams and task data may be larger.
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def utcnow() -> datetime:
    """Naive UTC timestamp: both SQLite and MariaDB store it unchanged."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
