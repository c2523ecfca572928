"""Backups of a town hall's data and their restore.

A backup is one folder, `dosar-backup-<UTC time>/`:
- `database/<table>.jsonl`: every table of the schema, one JSON object per row, read
  in one consistent snapshot. Logical rather than a database file, so that a SQLite
  backup restores into MariaDB and the other way round.
- `files/`: the content-addressed storage (STORAGE_DIR) as it is.
- `secret_key`: the key that signs sessions, when it is kept in a file.
- `manifest.json` (format, dialect, schema revision, row counts, checksums) and
  `manifest-sha256.txt` (`sha256sum -c` format) over every other file.

The search index is not in it: it is rebuilt from the database after a restore
(`dosar archive reindex`).
"""
import base64
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Column, MetaData, Table, func, inspect, select, text

from archive.storage import LocalStorage
from connectors.audit import AuditEvent, record_event
from connectors.db import Base

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
PREFIX = "dosar-backup-"
MANIFEST = "manifest.json"
SUMS = "manifest-sha256.txt"
BATCH = 1000
CHUNK = 1024 * 1024
# Rows the migrations themselves write: a freshly initialised database still counts
# as empty (the scheduler's lease row is created by migration 0006).
SEEDED_TABLES = {"alembic_version", "scheduler_lease"}


class BackupError(Exception):
    """A backup that cannot be made or restored; the text is shown to the operator."""


@dataclass
class BackupResult:
    path: Path
    revision: str
    rows: dict = field(default_factory=dict)
    files: int = 0
    bytes: int = 0


def schema_tables() -> list[Table]:
    """Every table of the product, parents before children."""
    import webapp  # noqa: F401  (importing the app registers every layer's tables)
    return list(Base.metadata.sorted_tables)


# ---------------------------------------------------------------- values <-> JSON

def _type_tag(column) -> str:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return "plain"
    for kind, tag in ((datetime, "datetime"), (date, "date"), (time, "time"),
                      (bytes, "bytes"), (Decimal, "decimal")):
        if issubclass(python_type, kind):
            return tag
    return "plain"


def _encode(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} in a backup")


_DECODERS = {"datetime": datetime.fromisoformat, "date": date.fromisoformat,
             "time": time.fromisoformat, "bytes": base64.b64decode, "decimal": Decimal}


def _decoder(tag: str):
    convert = _DECODERS.get(tag)
    if convert is None:
        return None
    return lambda value: None if value is None else convert(value)


# ---------------------------------------------------------------- files and sums

def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingWriter:
    """A file written line by line whose SHA-256 is known when it is closed."""

    def __init__(self, path: Path):
        self.stream = path.open("wb")
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.stream.write(data)

    def close(self) -> str:
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        return self.digest.hexdigest()


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


# ---------------------------------------------------------------- backup

def _snapshot_connection(engine):
    """A connection whose reads all see one moment of the database."""
    if engine.dialect.name == "sqlite":
        from webapp.database import may_write
        token = may_write.set(False)      # a plain (deferred) BEGIN: readers never block
        try:
            conn = engine.connect()
            conn.begin()
        finally:
            may_write.reset(token)
        return conn
    conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    return conn


def _audit_chain_head() -> dict | None:
    """The last sealed audit event: every copy carried off the machine holds it, so a
    chain rewritten later on the server no longer ends where the copy says
    (`dosar audit verify --anchor SEQ:HASH`, docs/audit.md)."""
    from webapp.database import db
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.chain_hash)
                              .where(AuditEvent.seq.is_not(None))
                              .order_by(AuditEvent.seq.desc()).limit(1)).first()
    db.session.rollback()
    return {"seq": head.seq, "hash": head.chain_hash} if head else None


def _dump_database(engine, folder: Path, sums) -> tuple[dict, str, dict]:
    """Write every table as JSON Lines; returns (tables manifest, revision, dialect)."""
    database = folder / "database"
    database.mkdir()
    tables, counts = [], {}
    conn = _snapshot_connection(engine)
    try:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if revision is None:
            raise BackupError("Baza de date nu are schemă (rulați `dosar init`).")
        existing = set(inspect(conn).get_table_names())
        streamed = conn.execution_options(stream_results=True, yield_per=BATCH)
        for table in schema_tables():
            if table.name not in existing:
                continue
            relative = f"database/{table.name}.jsonl"
            writer = _HashingWriter(folder / relative)
            names = [c.name for c in table.columns]
            rows = 0
            query = select(table).order_by(*table.primary_key.columns)
            for partition in streamed.execute(query).partitions():
                lines = [json.dumps(dict(zip(names, row)), ensure_ascii=False,
                                    default=_encode, separators=(",", ":"))
                         for row in partition]
                writer.write(("\n".join(lines) + "\n").encode("utf-8"))
                rows += len(lines)
            sha = writer.close()
            sums.write(f"{sha}  {relative}\n".encode())
            counts[table.name] = rows
            tables.append({"name": table.name, "file": relative, "rows": rows, "sha256": sha,
                           "columns": {c.name: _type_tag(c) for c in table.columns}})
        relative = "database/alembic_version.jsonl"
        (folder / relative).write_text(json.dumps({"version_num": revision}) + "\n")
        sums.write(f"{_sha256_of(folder / relative)}  {relative}\n".encode())
    finally:
        conn.rollback()
        conn.close()
    return tables, revision, counts


def _copy_files(storage: LocalStorage, folder: Path, sums) -> tuple[int, int]:
    """Copy the stored files, checking each still has the hash it is named by."""
    count = total = 0
    for sha in storage.iter_stored():
        relative = f"files/{sha[:2]}/{sha[2:4]}/{sha}"
        copied, size = _copy_hashing(storage.path_for(sha), folder / relative)
        if copied != sha:
            raise BackupError(f"Fișierul stocat {sha} nu mai corespunde amprentei sale "
                              "(rulați `dosar archive verify`).")
        sums.write(f"{sha}  {relative}\n".encode())
        count += 1
        total += size
    return count, total


def create_backup(app, dest_dir: str | os.PathLike | None = None,
                  actor: str | None = "dosar backup") -> BackupResult:
    """Write a complete backup under dest_dir; it appears there only once complete."""
    from webapp.database import db
    dest = Path(dest_dir or app.config.get("BACKUP_DIR")
                or Path(app.config["DATA_DIR"]) / "backups")
    dest.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    name = PREFIX + now.strftime("%Y%m%dT%H%M%SZ")
    final = dest / name
    if final.exists():
        raise BackupError(f"Copia {final} există deja.")
    work = dest / f".{name}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        sums = _HashingWriter(work / SUMS)
        tables, revision, counts = _dump_database(db.engine, work, sums)
        files, size = _copy_files(LocalStorage(app.config["STORAGE_DIR"]), work, sums)
        manifest = {"format": FORMAT_VERSION, "created_at": now.isoformat(timespec="seconds"),
                    "dialect": db.engine.dialect.name, "alembic_revision": revision,
                    "tables": tables, "files": {"count": files, "bytes": size},
                    "secret_key": False, "audit_chain_head": _audit_chain_head()}
        key_file = Path(app.config["DATA_DIR"]) / "secret_key"
        if key_file.is_file():
            shutil.copyfile(key_file, work / "secret_key")
            (work / "secret_key").chmod(0o600)
            sums.write(f"{_sha256_of(work / 'secret_key')}  secret_key\n".encode())
            manifest["secret_key"] = True
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
        sums.write(f"{_sha256_of(work / MANIFEST)}  {MANIFEST}\n".encode())
        sums.close()
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    record_event(db.session, actor, "backup.created", object_ref=f"backup:{name}",
                 summary=f"{final} ({sum(counts.values())} rânduri, {files} fișiere)",
                 after={"path": str(final), "revision": revision, "files": files,
                        "bytes": size, "rows": counts})
    db.session.commit()
    return BackupResult(final, revision, counts, files, size)


def prune_backups(dest_dir: str | os.PathLike, keep: int) -> list[Path]:
    """Remove all but the newest `keep` complete backups (names sort by time)."""
    found = sorted(p for p in Path(dest_dir).glob(PREFIX + "*")
                   if p.is_dir() and (p / MANIFEST).exists())
    doomed = found[:-keep] if keep > 0 else []
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def scheduled_backup(app, candidate=None) -> None:
    """The daily backup: back up, keep the newest BACKUP_KEEP. Given the scheduler's
    candidate (webapp/scheduler.py), only while it holds the lease: one backup a night
    however many processes run the scheduler."""
    with app.app_context():
        from webapp.database import db
        try:
            if candidate is not None and not candidate.ensure(db.session):
                return
            result = create_backup(app, actor="scheduler")
            removed = prune_backups(result.path.parent, int(app.config.get("BACKUP_KEEP", 7)))
            log.info("backup %s: %d rows, %d files; %d old backups removed", result.path,
                     sum(result.rows.values()), result.files, len(removed))
        except Exception:
            log.exception("the daily backup failed")
        finally:
            db.session.remove()


# ---------------------------------------------------------------- restore

def read_manifest(src: Path) -> dict:
    """Check every file of a backup against its checksums; the manifest if all match."""
    src = Path(src)
    sums_file = src / SUMS
    if not sums_file.is_file() or not (src / MANIFEST).is_file():
        raise BackupError(f"{src} nu este o copie de siguranță Dosar "
                          f"(lipsește {MANIFEST} sau {SUMS}).")
    listed = set()
    with sums_file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            expected, sep, relative = line.rstrip("\n").partition("  ")
            if not sep or len(expected) != 64 or relative.startswith("/") or ".." in relative:
                raise BackupError(f"{SUMS}, rândul {number}: format greșit.")
            path = src / relative
            if not path.is_file():
                raise BackupError(f"Copia este incompletă: lipsește {relative}.")
            if _sha256_of(path) != expected:
                raise BackupError(f"Copia este deteriorată: {relative} nu corespunde "
                                  "sumei de control.")
            listed.add(relative)
    for path in src.rglob("*"):
        relative = path.relative_to(src).as_posix()
        if path.is_file() and relative != SUMS and relative not in listed:
            raise BackupError(f"Copia conține un fișier necunoscut: {relative}.")
    manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"Format de copie necunoscut: {manifest.get('format')}.")
    return manifest


def database_holds_data(engine) -> bool:
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            if name not in SEEDED_TABLES and conn.execute(
                    select(func.count()).select_from(Table(name, MetaData()))).scalar():
                return True
    return False


def _drop_everything(engine) -> None:
    with engine.connect() as conn:
        reflected = MetaData()
        reflected.reflect(conn)
        if engine.dialect.name == "sqlite":
            reflected.drop_all(conn)      # children first: no foreign key is broken
        else:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
            for table in reflected.sorted_tables:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS `{table.name}`")
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
        conn.commit()


def _load_table(conn, src: Path, entry: dict, live_columns: dict) -> int:
    """Insert a dumped table's rows in batches; columns typed as the schema says."""
    columns = entry["columns"]
    known = Base.metadata.tables.get(entry["name"])
    table = Table(entry["name"], MetaData(), *[
        Column(name, known.columns[name].type if known is not None and name in known.columns
               else live_columns[name]["type"]) for name in columns])
    decoders = {name: d for name, tag in columns.items() if (d := _decoder(tag))}
    loaded, batch = 0, []
    with (src / entry["file"]).open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            for name, decode in decoders.items():
                row[name] = decode(row.get(name))
            batch.append(row)
            if len(batch) >= BATCH:
                conn.execute(table.insert(), batch)
                loaded += len(batch)
                batch = []
    if batch:
        conn.execute(table.insert(), batch)
        loaded += len(batch)
    if loaded != entry["rows"]:
        raise BackupError(f"{entry['file']}: {loaded} rânduri în loc de {entry['rows']}.")
    return loaded


def _load_database(engine, src: Path, manifest: dict) -> dict:
    with engine.connect() as conn:
        try:
            return _load_tables(engine, conn, src, manifest)
        except BaseException:
            conn.invalidate()      # never hand a connection without key checks back to the pool
            raise


def _load_tables(engine, conn, src: Path, manifest: dict) -> dict:
    counts = {}
    if engine.dialect.name == "sqlite":
        # Checked once, at commit: a row may point at one of its own table loaded later.
        conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    else:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
    inspector = inspect(conn)
    live = set(inspector.get_table_names())
    for entry in manifest["tables"]:
        if entry["name"] not in live:
            raise BackupError(f"Tabela {entry['name']} lipsește din schema la revizia "
                              f"{manifest['alembic_revision']}.")
    # What the migrations seeded is replaced by what the backup holds.
    for entry in reversed(manifest["tables"]):
        conn.execute(Table(entry["name"], MetaData()).delete())
    for entry in manifest["tables"]:
        live_columns = {c["name"]: c for c in inspector.get_columns(entry["name"])}
        counts[entry["name"]] = _load_table(conn, src, entry, live_columns)
        if engine.dialect.name != "sqlite":
            conn.commit()            # MariaDB: one transaction per table, not one huge one
    if engine.dialect.name != "sqlite":
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    conn.commit()
    return counts


def _restore_files(storage: LocalStorage, src: Path) -> int:
    files = src / "files"
    count = 0
    if not files.is_dir():
        return 0
    for path in sorted(files.rglob("*")):
        if not path.is_file():
            continue
        with path.open("rb") as stream:
            sha, _size = storage.put(stream)      # re-hashed while written
        if sha != path.name:
            raise BackupError(f"files/{path.relative_to(files).as_posix()}: conținutul nu "
                              "corespunde numelui (amprenta SHA-256).")
        count += 1
    return count


def _check_revision_known(revision: str) -> None:
    """Before anything is dropped: this version of Dosar can build the backup's schema."""
    from alembic.script import ScriptDirectory
    from webapp.migrations import alembic_config
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except Exception:
        known = None
    if known is None:
        raise BackupError(f"Copia are schema la revizia {revision}, necunoscută acestei "
                          "versiuni Dosar: restaurați cu versiunea care a făcut copia "
                          "(sau una mai nouă).")


def _restore_secret_key(app, src: Path) -> str:
    """Put the backup's session key in place (the old one, if different, is kept beside
    it). Every start of Dosar creates a key file, so one is nearly always there."""
    key_file = Path(app.config["DATA_DIR"]) / "secret_key"
    if os.environ.get("DOSAR_SECRET_KEY"):
        return "environment"
    saved = (src / "secret_key").read_bytes()
    if key_file.is_file():
        if key_file.read_bytes() == saved:
            return "same"
        os.replace(key_file, key_file.with_name("secret_key.before-restore"))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(saved)
    key_file.chmod(0o600)
    return "restored"


@dataclass
class RestoreResult:
    revision: str
    rows: dict
    files: int
    secret_key: str          # "restored", "same", "environment" or "none"


def restore_backup(app, src_dir: str | os.PathLike, force: bool = False,
                   actor: str | None = "dosar restore") -> RestoreResult:
    from webapp.database import db
    from webapp.migrations import upgrade
    src = Path(src_dir)
    manifest = read_manifest(src)
    _check_revision_known(manifest["alembic_revision"])
    engine = db.engine
    db.session.remove()
    if database_holds_data(engine) and not force:
        raise BackupError("Baza de date țintă conține deja date; folosiți --force pentru a "
                          "le șterge și a le înlocui cu copia.")
    _drop_everything(engine)
    upgrade(manifest["alembic_revision"])
    rows = _load_database(engine, src, manifest)
    files = _restore_files(LocalStorage(app.config["STORAGE_DIR"]), src)
    upgrade("head")
    key_state = _restore_secret_key(app, src) if manifest.get("secret_key") else "none"
    record_event(db.session, actor, "backup.restored", object_ref=f"backup:{src.name}",
                 summary=f"{src} ({sum(rows.values())} rânduri, {files} fișiere)",
                 after={"path": str(src), "revision": manifest["alembic_revision"],
                        "created_at": manifest["created_at"], "dialect": manifest["dialect"],
                        "files": files, "rows": rows})
    db.session.commit()
    return RestoreResult(manifest["alembic_revision"], rows, files, key_state)
