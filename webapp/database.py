"""The database: Flask-SQLAlchemy over the one metadata of connectors.db.

Transaction rules, chosen so that "one step = one transaction under a lock on the
instance" holds on both databases:
- SQLite (embedded default): WAL journal, and every transaction that may write
  starts with BEGIN IMMEDIATE, i.e. takes the write lock first. Writers queue (busy
  timeout) instead of failing half-way, and a read-then-write can never see stale
  data. Read-only requests (GET, HEAD) begin a plain deferred transaction, so pages
  keep answering while a step is being saved.
- MariaDB/MySQL: READ COMMITTED, so a statement after `SELECT … FOR UPDATE` sees
  what the previous lock holder committed (REPEATABLE READ would show the old
  snapshot); utf8mb4 throughout; pooled connections checked before use.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

from connectors.db import Base

db = SQLAlchemy(metadata=Base.metadata)

# True unless the code running says it only reads (the safe default for the CLI,
# workers and tests, which may write anywhere).
may_write: ContextVar[bool] = ContextVar("may_write", default=True)


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    if url.startswith("mysql") or url.startswith("mariadb"):
        return {"isolation_level": "READ COMMITTED", "pool_pre_ping": True,
                "pool_recycle": 3600}
    return {}


def normalise_url(url: str) -> str:
    if url.startswith(("mysql://", "mariadb://")):
        url = "mysql+pymysql://" + url.split("://", 1)[1]
    if url.startswith("mysql+pymysql") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # Let us issue BEGIN ourselves (pysqlite's own transaction handling is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if may_write.get() else "BEGIN")


@contextmanager
def write_transaction():
    """Inside a GET (read without SQLite's write lock), a transaction that takes it,
    for what a read must record (the audit event of a download or a printout). The
    read transaction ends here; the block's writes commit together, or none do."""
    db.session.commit()
    token = may_write.set(True)
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        may_write.reset(token)
