"""Shared fixtures. Database tests run on SQLite and on the MariaDB server at
127.0.0.1:3306 (root, no password), each in a database of their own."""
import os
import sys
from pathlib import Path

import pymysql
import pytest

from mariadb_support import MARIADB, MARIADB_DB, mariadb_url, reset_mariadb  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BACKENDS = ["sqlite"] if os.environ.get("DOSAR_SKIP_MARIADB") == "1" else ["sqlite", "mariadb"]


@pytest.fixture(scope="session")
def mariadb_database():
    conn = pymysql.connect(**MARIADB)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{MARIADB_DB}`")
        cur.execute(f"CREATE DATABASE `{MARIADB_DB}` CHARACTER SET utf8mb4 "
                    "COLLATE utf8mb4_unicode_ci")
    yield MARIADB_DB
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{MARIADB_DB}`")
    conn.close()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dosar.db'}"
        return
    request.getfixturevalue("mariadb_database")
    url = mariadb_url()
    reset_mariadb(url)
    yield url


@pytest.fixture
def app(database_url, tmp_path):
    from webapp import create_app
    from webapp.database import db
    from webapp.migrations import upgrade
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                      "DATA_DIR": str(tmp_path), "STORAGE_DIR": str(tmp_path / "files"),
                      "SEARCH_PATH": str(tmp_path / "search.sqlite"),
                      "SCAN_INBOX_DIR": str(tmp_path / "scanari"), "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        db.session.remove()
    # No app context stays pushed: requests of the test client must each get their
    # own (a shared one would share `g` between requests). Use `session` for the DB.
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def demo_app(app):
    from webapp.database import db
    from webapp.demo import load_demo
    with app.app_context():
        load_demo(ROOT / "processes")
        db.session.remove()
    return app


@pytest.fixture
def session(app):
    from webapp.database import db
    with app.app_context():
        yield db.session
        db.session.remove()
