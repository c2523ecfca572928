"""Helpers shared by benchmarks: a served app on a free port, a logged-in client."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_app(env: dict, threads: int = 8):
    """Run `dosar serve` (waitress) in a child process; yield its base URL."""
    port = free_port()
    log_path = Path(env.get("DOSAR_DATA_DIR", tempfile.gettempdir())) / "server.log"
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from webapp.cli import main; main()", "serve",
         "--port", str(port), "--threads", str(threads)],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        stdout=log, stderr=log)   # a file: an unread pipe would fill and stall the server
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/autentificare", timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start: " + log_path.read_text())
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def login(base: str, username: str, password: str) -> tuple[requests.Session, str]:
    client = requests.Session()
    token = CSRF.search(client.get(base + "/autentificare").text).group(1)
    response = client.post(base + "/autentificare", data={
        "username": username, "password": password, "csrf_token": token, "next": "/"})
    response.raise_for_status()
    token = CSRF.search(response.text).group(1)   # the session's token from now on
    return client, token


def temp_data_dir() -> str:
    return tempfile.mkdtemp(prefix="dosar-bench-")


# The MariaDB server benchmarks create their databases on (root, no password).
MARIADB_SERVER = os.environ.get("DOSAR_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")


def fresh_mariadb_database(name: str) -> str:
    """Drop and create database `name` (utf8mb4); return its SQLAlchemy URL."""
    from sqlalchemy import create_engine, text
    server = create_engine(MARIADB_SERVER + "/?charset=utf8mb4")
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                          "COLLATE utf8mb4_unicode_ci"))
    server.dispose()
    return f"{MARIADB_SERVER}/{name}?charset=utf8mb4"


def drop_mariadb_database(name: str) -> None:
    from sqlalchemy import create_engine, text
    server = create_engine(MARIADB_SERVER + "/?charset=utf8mb4")
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()
