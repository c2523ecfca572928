"""`dosar backup` and `dosar restore`: a town hall's data and files survive a wipe, on
SQLite and MariaDB and from one to the other; a damaged backup and a database that
already holds data are refused."""
import hashlib
import io
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas
from sqlalchemy import MetaData, select, text

from archive.documents import add_document
from archive.storage import LocalStorage
from connectors.registry.models import RegisterEntry
from webapp.ops.backup import schema_tables

from webapp_testkit import login, open_task_id, post, register_petition

pytestmark = pytest.mark.slow


def pdf_bytes(text: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def make_app(url: str, folder: Path):
    from webapp import create_app
    from webapp.database import db
    from webapp.migrations import upgrade
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "DATA_DIR": str(folder), "STORAGE_DIR": str(folder / "files"),
                      "SEARCH_PATH": str(folder / "search.sqlite"),
                      "SCAN_INBOX_DIR": str(folder / "scanari"), "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


def populate(app) -> int:
    """The demo town hall plus a petition one step along and an archived document."""
    client = login(app.test_client(), "registratura")
    scan = pdf_bytes("Petitie: iluminat public pe strada Lunga")
    assert register_petition(client, scan=(io.BytesIO(scan), "petitie.pdf")).status_code == 302
    login(client, "sef.relatii")
    task_id = open_task_id(client, "Repartizare")
    post(client, f"/sarcini/{task_id}/preia", {}, page_url=f"/sarcini/{task_id}")
    done = post(client, f"/sarcini/{task_id}/finalizeaza",
                {"assignment_decision": "repartizat", "assigned_clerk": "functionar.relatii",
                 "instructions": "Verificați cu serviciul tehnic."},
                page_url=f"/sarcini/{task_id}")
    assert done.status_code == 302, done.text
    from webapp.database import db
    with app.app_context():
        entry = db.session.execute(select(RegisterEntry)).scalars().first()
        add_document(db.session, LocalStorage(app.config["STORAGE_DIR"]), entry,
                     io.BytesIO(pdf_bytes("Raspuns: iluminatul va fi reparat") + b"\x00\xff"),
                     filename="raspuns.pdf", content_type="application/pdf",
                     actor="registratura", title="Răspuns")
        db.session.commit()
        entry_id = entry.id
        db.session.remove()
    return entry_id


def snapshot(app, whole_seconds: bool = False) -> dict:
    """Every row of every table (typed values, by primary key) and every stored file."""
    from webapp.database import db
    tables = {}
    with app.app_context():
        with db.engine.connect() as conn:
            for table in schema_tables():
                key = [table.columns.keys().index(c.name) for c in table.primary_key.columns]
                rows = [tuple(_comparable(v, whole_seconds) for v in row)
                        for row in conn.execute(select(table))]
                if table.name == "audit_event":       # the restore's own event is new
                    action = table.columns.keys().index("action")
                    rows = [r for r in rows if r[action] != "backup.restored"]
                tables[table.name] = sorted(rows, key=lambda r: tuple(r[i] for i in key))
        storage = LocalStorage(app.config["STORAGE_DIR"])
        files = {sha: storage.path_for(sha).read_bytes() for sha in storage.iter_stored()}
        db.session.remove()
    return {"tables": tables, "files": files}


def _comparable(value, whole_seconds):
    # MariaDB's DATETIME keeps whole seconds; SQLite keeps microseconds.
    if whole_seconds and isinstance(value, datetime):
        return value.replace(microsecond=0)
    return value


def wipe(app) -> None:
    """Lose the database and the files, as a dead disk would."""
    from webapp.database import db
    with app.app_context():
        db.session.remove()
        engine = db.engine
        if engine.dialect.name == "sqlite":
            engine.dispose()
            database = Path(engine.url.database)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
        else:
            with engine.connect() as conn:
                reflected = MetaData()
                reflected.reflect(conn)
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
                for table in reflected.sorted_tables:
                    conn.exec_driver_sql(f"DROP TABLE `{table.name}`")
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
                conn.commit()
            engine.dispose()
    shutil.rmtree(app.config["STORAGE_DIR"])


def backup(app, dest: Path) -> Path:
    result = app.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    (made,) = [p for p in dest.iterdir() if p.name.startswith("dosar-backup-")]
    assert str(made) in result.output
    return made


def restore(app, source: Path, *extra, expect: int = 0) -> str:
    result = app.test_cli_runner().invoke(args=["restore", str(source), *extra])
    assert result.exit_code == expect, result.output
    return result.output


def still_works(app, entry_id: int) -> None:
    client = login(app.test_client(), "registratura")
    page = client.get(f"/registratura/{entry_id}")
    assert page.status_code == 200 and "Gheorghe Ionescu" in page.text
    assert "Răspuns" in page.text


def test_backup_wipe_restore_gives_identical_data_and_files(demo_app, tmp_path):
    entry_id = populate(demo_app)
    before = snapshot(demo_app)
    assert len(before["files"]) >= 2 and before["tables"]["human_task"]

    key = Path(demo_app.config["DATA_DIR"]) / "secret_key"   # signs the sessions
    key.write_text("cheia-primariei")
    from connectors.audit_chain import seal, verify
    from webapp.database import db
    with demo_app.app_context():
        seal(db.session)
        head = verify(db.session)
        db.session.remove()
    before = snapshot(demo_app)
    made = backup(demo_app, tmp_path / "copii")
    manifest = json.loads((made / "manifest.json").read_text())
    # The audit chain's head travels with every copy (an anchor kept off the machine).
    assert manifest["audit_chain_head"] == {"seq": head.head_seq, "hash": head.head_hash}
    assert head.head_seq and head.ok
    assert manifest["tables"] and all(
        t["rows"] == len(before["tables"][t["name"]]) for t in manifest["tables"])
    assert manifest["files"]["count"] == len(before["files"])
    # The listing is sha256sum's own format: every file of the backup, checkable by hand.
    listed = {line.split("  ", 1)[1] for line in
              (made / "manifest-sha256.txt").read_text().splitlines()}
    assert {p.relative_to(made).as_posix() for p in made.rglob("*") if p.is_file()} \
        == listed | {"manifest-sha256.txt"}

    wipe(demo_app)
    key.unlink()
    output = restore(demo_app, made)
    assert "dosar archive reindex" in output
    assert key.read_text() == "cheia-primariei"

    after = snapshot(demo_app)
    assert after["tables"].keys() == before["tables"].keys()
    for name, rows in before["tables"].items():
        assert after["tables"][name] == rows, name
    assert after["files"] == before["files"]
    still_works(demo_app, entry_id)


def as_taken_before_0008(made: Path) -> None:
    """Turn a backup into the one the previous version made: the same format, schema at
    0007, without the columns 0008 added (their values are all defaults here)."""
    added = {"register_entry": {"confidential"}, "audit_event": {"seq", "chain_hash"},
             "app_user": {"directory_dn", "totp_secret"}}
    manifest = json.loads((made / "manifest.json").read_text())
    manifest["alembic_revision"] = "0007"
    for table in manifest["tables"]:
        drop = added.get(table["name"], set())
        if not drop:
            continue
        table["columns"] = {k: v for k, v in table["columns"].items() if k not in drop}
        path = made / table["file"]
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        path.write_text("".join(json.dumps({k: v for k, v in row.items() if k not in drop},
                                           ensure_ascii=False) + "\n" for row in rows))
    (made / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    (made / "database" / "alembic_version.jsonl").write_text('{"version_num": "0007"}\n')
    lines = (made / "manifest-sha256.txt").read_text().splitlines()
    (made / "manifest-sha256.txt").write_text("".join(
        f"{hashlib.sha256((made / rel).read_bytes()).hexdigest()}  {rel}\n"
        for rel in (line.split("  ", 1)[1] for line in lines)))


def test_a_backup_of_an_older_schema_restores_and_is_brought_up_to_date(demo_app, tmp_path):
    """Last month's backup, from before an upgrade, restores into today's version: the
    schema is rebuilt at the backup's revision, loaded, then migrated to head."""
    from alembic.script import ScriptDirectory
    from webapp.database import db
    from webapp.migrations import alembic_config
    populate(demo_app)
    before = snapshot(demo_app)
    made = backup(demo_app, tmp_path / "copii")
    as_taken_before_0008(made)
    wipe(demo_app)
    restore(demo_app, made)
    with demo_app.app_context():
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        db.session.remove()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    after = snapshot(demo_app)             # the columns added since hold their defaults
    for name, rows in before["tables"].items():
        assert after["tables"][name] == rows, name
    assert after["files"] == before["files"]


def test_a_damaged_backup_or_a_database_with_data_is_refused(demo_app, tmp_path):
    populate(demo_app)
    made = backup(demo_app, tmp_path / "copii")
    dump = made / "database" / "register_entry.jsonl"
    original = dump.read_bytes()
    middle = len(original) // 2
    dump.write_bytes(original[:middle] + bytes([original[middle] ^ 1]) + original[middle + 1:])
    output = restore(demo_app, made, "--force", expect=1)
    assert "deteriorată" in output and "database/register_entry.jsonl" in output

    dump.write_bytes(original)
    before = snapshot(demo_app)
    output = restore(demo_app, made, expect=1)
    assert "conține deja date" in output and "--force" in output
    restore(demo_app, made, "--force")
    assert snapshot(demo_app)["tables"]["register_entry"] == before["tables"]["register_entry"]


@pytest.mark.skipif(os.environ.get("DOSAR_SKIP_MARIADB") == "1", reason="no MariaDB")
def test_a_sqlite_backup_restores_into_mariadb_and_back(request, tmp_path):
    from mariadb_support import mariadb_url, reset_mariadb
    from webapp.database import db
    from webapp.demo import load_demo
    request.getfixturevalue("mariadb_database")
    embedded = make_app(f"sqlite:///{tmp_path / 'a' / 'dosar.db'}", tmp_path / "a")
    with embedded.app_context():
        load_demo(Path(__file__).resolve().parents[2] / "processes")
        db.session.remove()
    entry_id = populate(embedded)
    before = snapshot(embedded, whole_seconds=True)
    made = backup(embedded, tmp_path / "copii-sqlite")

    reset_mariadb(mariadb_url())
    server = make_app(mariadb_url(), tmp_path / "b")
    restore(server, made)
    assert snapshot(server, whole_seconds=True) == before
    still_works(server, entry_id)

    before = snapshot(server, whole_seconds=True)      # with the login just made
    back = backup(server, tmp_path / "copii-mariadb")
    assert json.loads((back / "manifest.json").read_text())["dialect"] == "mysql"
    fresh = make_app(f"sqlite:///{tmp_path / 'c' / 'dosar.db'}", tmp_path / "c")
    restore(fresh, back)
    assert snapshot(fresh, whole_seconds=True) == before
    still_works(fresh, entry_id)
    for app in (embedded, server, fresh):
        with app.app_context():
            db.engine.dispose()


def test_the_daily_backup_keeps_the_newest_ones(app, tmp_path):
    from webapp.ops.backup import scheduled_backup
    app.config.update(BACKUP_DIR=str(tmp_path / "copii"), BACKUP_KEEP=2)
    for day in ("20261120T000000Z", "20261121T000000Z", "20261122T000000Z"):
        old = tmp_path / "copii" / f"dosar-backup-{day}"
        old.mkdir(parents=True)
        (old / "manifest.json").write_text("{}")
    class Follower:          # a process that does not hold the scheduler's lease
        def ensure(self, session):
            return False
    scheduled_backup(app, Follower())
    assert len(list((tmp_path / "copii").iterdir())) == 3
    scheduled_backup(app)
    kept = sorted(p.name for p in (tmp_path / "copii").iterdir())
    assert len(kept) == 2 and kept[0] == "dosar-backup-20261122T000000Z"
    assert (tmp_path / "copii" / kept[1] / "manifest-sha256.txt").is_file()
