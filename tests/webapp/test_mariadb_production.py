"""MariaDB as the production database: a connection the server drops is replaced
before the next request uses it, Romanian letters and emoji survive the round trip,
every connection runs in READ COMMITTED, the schema suits Galera, and a database
in another character set is fixed or refused at `dosar init`."""
import os
import re

import pymysql
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from mariadb_support import MARIADB, MARIADB_DB, mariadb_url
from connectors.registry.models import RegisterEntry

from webapp_testkit import login, register_petition

pytestmark = [
    pytest.mark.skipif(os.environ.get("DOSAR_SKIP_MARIADB") == "1", reason="no MariaDB"),
    pytest.mark.parametrize("database_url", ["mariadb"], indirect=True),
]

ROMANIAN = "Ștefan Țăranu-Îngerașu și Ana Mâță"
SUMMARY = "Cerere privind școala din Șoimuș: țiglă, încălzire, râu — mulțumim 🏛️📄😀 𝕯"


def server_connection():
    return pymysql.connect(**MARIADB, database=MARIADB_DB, charset="utf8mb4", autocommit=True)


def app_connection_ids() -> set[int]:
    """The connections open on the test database, seen from the server."""
    with server_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s "
                    "AND ID <> CONNECTION_ID()", (MARIADB_DB,))
        return {row[0] for row in cur.fetchall()}


def kill(ids) -> None:
    with server_connection() as conn, conn.cursor() as cur:
        for connection_id in ids:
            cur.execute(f"KILL {int(connection_id)}")


def pooled_connection_id(app) -> int:
    from webapp.database import db
    with app.app_context():
        connection_id = db.session.execute(text("SELECT CONNECTION_ID()")).scalar()
        db.session.remove()        # back to the pool, still open
    return connection_id


def test_a_connection_killed_on_the_server_is_replaced_before_the_next_request(demo_app):
    client = login(demo_app.test_client(), "registratura")
    assert client.get("/registratura/").status_code == 200
    before = pooled_connection_id(demo_app)
    pooled = app_connection_ids()
    assert before in pooled
    kill(pooled)                   # as a server restart, wait_timeout or failover would
    assert before not in app_connection_ids()

    page = client.get("/registratura/")          # reads through a pooled connection
    assert page.status_code == 200
    response = register_petition(client)         # and a write goes through too
    assert response.status_code == 302, response.text
    after = pooled_connection_id(demo_app)
    assert after != before and after in app_connection_ids()


def test_romanian_letters_and_emoji_survive_a_register_entry(demo_app):
    client = login(demo_app.test_client(), "registratura")
    response = register_petition(client, sender_name=ROMANIAN, summary=SUMMARY)
    assert response.status_code == 302, response.text
    entry_id = int(re.search(r"/registratura/(\d+)", response.headers["Location"]).group(1))

    page = client.get(f"/registratura/{entry_id}")
    assert ROMANIAN in page.text and SUMMARY in page.text
    # What another program reading the database (a report, a backup) finds.
    with server_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT sender_name, summary FROM register_entry WHERE id = %s",
                    (entry_id,))
        assert cur.fetchone() == (ROMANIAN, SUMMARY)
    found = client.get("/registratura/", query_string={"q": "Țăranu"})
    assert f"/registratura/{entry_id}" in found.text


def test_every_connection_reads_committed_data(app):
    from webapp.database import db
    with server_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.tx_isolation")
        assert cur.fetchone()[0] == "REPEATABLE-READ"   # the server's default is not ours
    with app.app_context():
        assert db.session.execute(text("SELECT @@SESSION.tx_isolation")).scalar() \
            == "READ-COMMITTED"
        db.session.execute(text("INSERT INTO app_user (username, full_name, email, "
                                "password_hash, active) VALUES ('ana', 'Ana', '', 'x', 1)"))
        db.session.commit()
        # Inside one transaction, what another connection commits meanwhile is seen
        # (REPEATABLE READ would keep showing the first read): docs/engine.md.
        with db.engine.connect() as mine, mine.begin():
            name = text("SELECT full_name FROM app_user WHERE username = 'ana'")
            assert mine.execute(name).scalar() == "Ana"
            with server_connection() as other, other.cursor() as cur:
                cur.execute("UPDATE app_user SET full_name = 'Ana Pop' WHERE username='ana'")
            assert mine.execute(name).scalar() == "Ana Pop"
        db.session.remove()
    # A connection opened again after the server dropped the old ones keeps the level.
    kill(app_connection_ids())
    with app.app_context():
        assert db.session.execute(text("SELECT @@SESSION.tx_isolation")).scalar() \
            == "READ-COMMITTED"
        db.session.remove()


def test_the_migrated_schema_suits_galera(app):
    """Galera replicates only InnoDB, and needs a primary key on every table."""
    with server_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT t.TABLE_NAME, t.ENGINE, t.TABLE_COLLATION, "
                    "(SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS c "
                    " WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME "
                    " AND c.CONSTRAINT_TYPE = 'PRIMARY KEY') "
                    "FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = %s "
                    "AND t.TABLE_TYPE = 'BASE TABLE'", (MARIADB_DB,))
        tables = {name: (engine, collation, keys) for name, engine, collation, keys
                  in cur.fetchall()}
    assert {"register_entry", "process_instance", "background_job", "scheduler_lease"} <= set(tables)
    assert {name: v for name, v in tables.items()
            if v[0] != "InnoDB" or not v[1].startswith("utf8mb4") or v[2] != 1} == {}


# `dosar init` on a database someone created without utf8mb4.

@pytest.fixture
def latin1_database():
    name = f"{MARIADB_DB}_latin1"
    conn = pymysql.connect(**MARIADB, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET latin1")
    yield name
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def dosar_init(tmp_path, monkeypatch, database):
    from webapp.cli import main
    monkeypatch.setenv("DOSAR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOSAR_DATABASE_URL", mariadb_url(database).replace("?charset=utf8mb4",
                                                                           "?charset=latin1"))
    return CliRunner().invoke(main, ["init"])


def default_charset(database) -> str:
    with server_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
                    "WHERE SCHEMA_NAME = %s", (database,))
        return cur.fetchone()[0]


def test_init_on_an_empty_latin1_database_makes_it_utf8mb4(database_url, latin1_database,
                                                            tmp_path, monkeypatch):
    result = dosar_init(tmp_path, monkeypatch, latin1_database)
    assert result.exit_code == 0, result.output
    assert default_charset(latin1_database) == "utf8mb4"
    with server_connection() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT summary FROM `{latin1_database}`.register_entry LIMIT 0")
        cur.execute("SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE "
                    "TABLE_SCHEMA = %s AND TABLE_NAME = 'register_entry' AND "
                    "COLUMN_NAME = 'summary'", (latin1_database,))
        assert cur.fetchone()[0] == "utf8mb4"


def test_init_refuses_latin1_tables_and_says_how_to_convert_them(database_url, latin1_database,
                                                                 tmp_path, monkeypatch):
    with server_connection() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{latin1_database}`.register_entry "
                    "(id INT PRIMARY KEY, summary TEXT) CHARACTER SET latin1")
    result = dosar_init(tmp_path, monkeypatch, latin1_database)
    assert result.exit_code == 1
    assert "register_entry (latin1_swedish_ci)" in result.output
    assert (f"ALTER TABLE `register_entry` CONVERT TO CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_unicode_ci;") in result.output
    assert "Traceback" not in result.output
    assert default_charset(latin1_database) == "latin1"     # nothing changed behind its back
