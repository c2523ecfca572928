"""The watched scan folder: the scan station drops batches (PDF, TIFF) into a folder;
each complete file is taken in as a batch and moved to `preluate/`, each unreadable
one to `respinse/` with a `.txt` beside it saying why. Nothing is ever deleted.

Polled, not watched with inotify: in production the folder is a NAS mount (SMB/NFS),
where inotify does not see files written by other machines. A file still being
written is left for the next look: it is taken only once its size has stayed the
same since the previous look, or it has not changed for SETTLE_SECONDS.
"""
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from .documents import ArchiveError
from .scanning import DuplicateBatch, receive_batch
from .storage import LocalStorage, StorageError

log = logging.getLogger(__name__)

EXTENSIONS = (".pdf", ".tif", ".tiff")
TAKEN, REJECTED = "preluate", "respinse"
SETTLE_SECONDS = 10

# path → (size, mtime) at the previous look, per process: "size stable across two looks".
_last_look: dict[str, tuple[int, float]] = {}


@dataclass
class PollResult:
    received: list[tuple[str, int]] = field(default_factory=list)   # (file, batch id)
    rejected: list[tuple[str, str]] = field(default_factory=list)   # (file, why)
    waiting: list[str] = field(default_factory=list)                # still being written


def poll_once(session: Session, storage: LocalStorage, inbox_dir: str | os.PathLike,
              actor: str = "scanare", settle_seconds: float = SETTLE_SECONDS) -> PollResult:
    """Take in every complete batch file of the folder. Each file is committed on its
    own before it is moved, so a crash in between only means the file is seen again,
    recognised as already received, and moved then."""
    inbox = Path(inbox_dir)
    result = PollResult()
    if not inbox.is_dir():
        return result
    for path in sorted(_candidates(inbox), key=lambda p: (p.stat().st_mtime, p.name)):
        if not _complete(path, settle_seconds):
            result.waiting.append(path.name)
            continue
        _last_look.pop(str(path), None)
        try:
            data = path.read_bytes()
            batch = receive_batch(session, storage, data, path.name, actor, source="folder")
            session.commit()
        except DuplicateBatch as err:
            session.rollback()
            # Taken in already (the same bytes): nothing new to keep, nothing to reject.
            log.info("scan folder: %s was received before (batch %s)", path.name, err.batch.id)
            _move(path, inbox / TAKEN)
            result.received.append((path.name, err.batch.id))
            continue
        except (ArchiveError, StorageError, OSError) as err:
            session.rollback()
            reason = str(err)
            log.warning("scan folder: %s rejected: %s", path.name, reason)
            moved = _move(path, inbox / REJECTED)
            moved.with_name(moved.name + ".txt").write_text(
                f"Fișierul «{path.name}» nu a fost preluat în arhivă.\nMotiv: {reason}\n",
                encoding="utf-8")
            result.rejected.append((path.name, reason))
            continue
        _move(path, inbox / TAKEN)
        result.received.append((path.name, batch.id))
    return result


def _candidates(inbox: Path):
    for path in inbox.iterdir():
        if (path.is_file() and not path.name.startswith(".")
                and path.suffix.lower() in EXTENSIONS):
            yield path


def _complete(path: Path, settle_seconds: float) -> bool:
    stat = path.stat()
    look = (stat.st_size, stat.st_mtime)
    previous = _last_look.get(str(path))
    _last_look[str(path)] = look
    if stat.st_size == 0:
        return False
    return previous == look or time.time() - stat.st_mtime >= settle_seconds


def _move(path: Path, folder: Path) -> Path:
    """Into `folder`, under the same name, or with a number if that name is taken."""
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    number = 1
    while target.exists():
        target = folder / f"{path.stem}-{number}{path.suffix}"
        number += 1
    os.replace(path, target)
    return target
