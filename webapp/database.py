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
  snapshot), set on every new connection; utf8mb4 throughout (the connection's
  charset, and the database's, checked on first connect); pooled connections pinged
  before use, so a connection the server dropped (restart, KILL, wait_timeout,
  failover) is replaced instead of failing the request, and recycled well before
  the server's wait_timeout.
"""
import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar

import click
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

from connectors.db import Base
from webapp import config

log = logging.getLogger(__name__)

db = SQLAlchemy(metadata=Base.metadata)

# True unless the code running says it only reads (the safe default for the CLI,
# workers and tests, which may write anywhere).
may_write: ContextVar[bool] = ContextVar("may_write", default=True)


CHARSET = "utf8mb4"
COLLATION = "utf8mb4_unicode_ci"


class DatabaseCharsetError(click.ClickException):
    """The MariaDB database would store text in a character set that loses letters
    (ș ț as '?', emoji refused). A ClickException, so `dosar init` prints just the
    message and how to fix it."""


def engine_options(url: str, settings: dict | None = None) -> dict:
    """`settings`: the app's config (DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_RECYCLE,
    DB_POOL_TIMEOUT); read from the environment when not given."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    if url.startswith("mysql") or url.startswith("mariadb"):
        pool = config.database_pool()
        pool.update({key: settings[key] for key in pool if key in (settings or {})})
        # SQLAlchemy applies isolation_level to each new DBAPI connection, so a
        # connection opened after a reconnect runs in READ COMMITTED too.
        return {"isolation_level": "READ COMMITTED", "pool_pre_ping": True,
                "pool_recycle": int(pool["DB_POOL_RECYCLE"]),
                "pool_size": int(pool["DB_POOL_SIZE"]),
                "max_overflow": int(pool["DB_MAX_OVERFLOW"]),
                "pool_timeout": float(pool["DB_POOL_TIMEOUT"])}
    return {}


def normalise_url(url: str) -> str:
    """PyMySQL as the driver, and always utf8mb4 as the connection's charset: a
    `charset=utf8` (3-byte) would refuse emoji and 4-byte characters in names."""
    if url.startswith(("mysql://", "mariadb://")):
        url = "mysql+pymysql://" + url.split("://", 1)[1]
    if url.startswith("mysql+pymysql"):
        if re.search(r"[?&]charset=", url):
            url = re.sub(r"([?&]charset=)[^&]*", r"\g<1>" + CHARSET, url)
        else:
            url += ("&" if "?" in url else "?") + "charset=" + CHARSET
    return url


def check_charset(cursor) -> str | None:
    """On MariaDB: make sure the database stores utf8mb4. A database with no table
    in another charset gets utf8mb4 as its default (new tables follow it); tables
    already in another charset are refused, with the statements that convert them.
    Returns what was changed, if anything."""
    cursor.execute("SELECT DATABASE()")
    name = cursor.fetchone()[0]
    if name is None:
        return None
    cursor.execute("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
                   "WHERE SCHEMA_NAME = %s", (name,))
    default = cursor.fetchone()[0]
    cursor.execute("SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES "
                   "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' "
                   "AND TABLE_COLLATION NOT LIKE 'utf8mb4%%' ORDER BY TABLE_NAME", (name,))
    wrong = cursor.fetchall()
    fix_database = (f"ALTER DATABASE `{name}` CHARACTER SET {CHARSET} "
                    f"COLLATE {COLLATION};")
    if wrong:
        tables = ", ".join(f"{table} ({collation})" for table, collation in wrong)
        statements = "\n".join([fix_database] + [
            f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET {CHARSET} COLLATE {COLLATION};"
            for table, _ in wrong])
        raise DatabaseCharsetError(
            f"The database `{name}` has tables that are not utf8mb4: {tables}. "
            "Romanian letters (ș, ț) and emoji would be lost or refused. Back it up, "
            f"then convert it (as a user with ALTER rights):\n{statements}")
    if default == CHARSET:
        return None
    try:
        cursor.execute(fix_database)
    except Exception as error:   # e.g. no ALTER right on the database
        raise DatabaseCharsetError(
            f"The database `{name}` has the default character set {default}, not "
            f"utf8mb4, and it could not be changed ({error}). Change it with:\n"
            f"{fix_database}\nor create it as: CREATE DATABASE `{name}` CHARACTER SET "
            f"{CHARSET} COLLATE {COLLATION};") from error
    log.warning("Database %s: default character set changed from %s to %s",
                name, default, CHARSET)
    return f"{default} -> {CHARSET}"


@event.listens_for(Engine, "first_connect")
def _mariadb_first_connect(dbapi_connection, record):
    if not type(dbapi_connection).__module__.startswith("pymysql"):
        return
    cursor = dbapi_connection.cursor()
    try:
        check_charset(cursor)
        cursor.execute("SELECT @@SESSION.wait_timeout")
        wait_timeout = int(cursor.fetchone()[0])
        pool = getattr(record, "_ConnectionRecord__pool", None)
        recycle = getattr(pool, "_recycle", -1)
        if 0 < wait_timeout <= recycle:
            log.warning("MariaDB closes idle connections after %s s (wait_timeout) but "
                        "DOSAR_DB_POOL_RECYCLE is %s s: set it lower", wait_timeout, recycle)
    finally:
        cursor.close()


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
