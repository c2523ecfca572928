"""The MariaDB server the tests use (127.0.0.1:3306, root, no password) and this test
run's own database on it. A module of its own, so test modules import it by name
(several folders have a conftest.py; `from conftest import` would be ambiguous)."""
import os

MARIADB = dict(host=os.environ.get("DOSAR_TEST_MARIADB_HOST", "127.0.0.1"),
               port=int(os.environ.get("DOSAR_TEST_MARIADB_PORT", "3306")), user="root",
               password="")
MARIADB_DB = f"dosar_test_{os.getpid()}"


def mariadb_url(database: str = MARIADB_DB) -> str:
    return (f"mysql+pymysql://{MARIADB['user']}@{MARIADB['host']}:{MARIADB['port']}/"
            f"{database}?charset=utf8mb4")


def reset_mariadb(url):
    from sqlalchemy import create_engine, text
    import webapp  # noqa: F401  (registers every table)
    from connectors.db import Base
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in Base.metadata.sorted_tables:
            conn.execute(text(f"DROP TABLE IF EXISTS `{table.name}`"))
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()
