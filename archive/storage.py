"""Content-addressed file storage on a local directory (a NAS mount in production).

A file is stored under the SHA-256 of its bytes, so an original is never altered
and storing the same scan twice keeps one copy. Writes go to a temporary file and
are renamed into place, so a crash never leaves a half-written original.
"""
import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

CHUNK = 1024 * 1024


class StorageError(Exception):
    pass


class LocalStorage:

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StorageError("Identificator de fișier invalid.")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        """Store a stream; return (sha256, size). Refuses streams over max_bytes."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise StorageError("Fișierul depășește dimensiunea maximă.")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            target = self.path_for(digest.hexdigest())
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return digest.hexdigest(), size

    def open(self, sha256: str) -> BinaryIO:
        path = self.path_for(sha256)
        if not path.exists():
            raise StorageError("Fișierul nu există în arhivă.")
        return path.open("rb")

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def iter_stored(self) -> Iterator[str]:
        """Every stored file's SHA-256, in ascending order (the directories are the
        hash's first characters), skipping temporary files of writes in progress.
        Only one directory is listed at a time, however many files there are."""
        if not self.root.is_dir():
            return
        for first in _sorted_dirs(self.root, 2):
            for second in _sorted_dirs(first, 2):
                for entry in sorted(os.scandir(second), key=lambda e: e.name):
                    name = entry.name
                    if (entry.is_file() and len(name) == 64 and name.startswith(
                            first.name + second.name) and _is_hex(name)):
                        yield name

    def verify(self, sha256: str) -> str:
        """Re-hash a stored file: "ok", "missing", or "changed" (its bytes no longer
        match the hash it was stored under). Reads in chunks: any size, little memory."""
        path = self.path_for(sha256)
        try:
            stream = path.open("rb")
        except (FileNotFoundError, IsADirectoryError):
            return "missing"
        digest = hashlib.sha256()
        with stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
        return "ok" if digest.hexdigest() == sha256 else "changed"

    def delete(self, sha256: str) -> bool:
        """Remove a stored file (disposal of destroyed documents); False if it was gone."""
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True


def _is_hex(name: str) -> bool:
    return all(c in "0123456789abcdef" for c in name)


def _sorted_dirs(parent: Path, width: int) -> list[Path]:
    return sorted(Path(e.path) for e in os.scandir(parent)
                  if e.is_dir() and len(e.name) == width and _is_hex(e.name))
