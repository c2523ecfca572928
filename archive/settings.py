"""The archive's settings, given once per process by whoever starts it (the web app's
factory, a worker, a benchmark, a test), so that background job handlers, which get
only (session, payload), know where the files and the index are."""
from dataclasses import dataclass, field
from pathlib import Path

from .storage import LocalStorage


@dataclass(frozen=True)
class ArchiveSettings:
    storage_dir: str
    ocr_languages: str = "ron+eng"
    search_backend: str = "sqlite"            # sqlite (FTS5, embedded) / elasticsearch
    search_path: str = ""                     # the FTS5 index file (sqlite backend)
    elasticsearch_url: str = ""
    elasticsearch_index: str = "dosar-documente"
    scan_inbox_dir: str = ""                  # the folder the scan station drops files in
    max_upload_bytes: int = 25 * 1024 * 1024
    extra: dict = field(default_factory=dict)

    def storage(self) -> LocalStorage:
        return LocalStorage(self.storage_dir)


_current: ArchiveSettings | None = None


def configure(settings: ArchiveSettings) -> None:
    global _current
    _current = settings
    Path(settings.storage_dir).mkdir(parents=True, exist_ok=True)


def current() -> ArchiveSettings:
    if _current is None:
        raise RuntimeError("archive.settings.configure() was not called in this process")
    return _current
