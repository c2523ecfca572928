"""A folder exported as a ZIP (Legea 16/1996: the data must be exportable):

    documents/<entry number>/<document>_<file>     current version of every document
    documents/<entry number>/<document>_<name>-cautabil.pdf   its searchable PDF, if any
    metadata/<uid>.json, metadata/<uid>.xml       each document's metadata sheet
    dosar.json, dosar.xml                          the folder itself
    manifest-sha256.txt                            `sha256sum -c` checks every file above

Files are streamed from storage into the ZIP in chunks (any size, little memory) and
re-hashed on the way: a stored file whose bytes no longer match its checksum stops the
export rather than being handed over as if it were intact.
"""
import hashlib
import re
import unicodedata
import zipfile
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry.models import RegisterEntry

from .documents import ArchiveError
from .metadata import folder_sheet, metadata_sheet, to_json, to_xml
from .models import ArchiveDocument, ArchiveFolder
from .storage import CHUNK, LocalStorage

MANIFEST = "manifest-sha256.txt"


def safe_name(text: str, default: str = "fisier") -> str:
    """A path component anyone's unzip accepts: ASCII letters, digits, `.-_`."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text.replace("/", "-")).strip("._")
    return cleaned[:120] or default


def export_name(folder: ArchiveFolder) -> str:
    return f"dosar-{safe_name(folder.nomenclator_file.code)}-{folder.year}.zip"


def export_folder(session: Session, storage: LocalStorage, folder: ArchiveFolder,
                  town_hall: str, out: BinaryIO) -> list[tuple[str, str]]:
    """Write the folder's ZIP to `out` (a file opened for writing); returns the
    manifest's (sha256, path) lines."""
    entries = session.execute(select(RegisterEntry).where(RegisterEntry.folder_id == folder.id)
                              .order_by(RegisterEntry.registered_on, RegisterEntry.id)).scalars().all()
    documents = session.execute(select(ArchiveDocument).where(
        ArchiveDocument.entry_id.in_([e.id for e in entries] or [0]))
        .order_by(ArchiveDocument.id)).scalars().all()
    labels = {e.id: safe_name(e.label.replace("/", "-")) for e in entries}
    manifest: list[tuple[str, str]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        used: set[str] = set()
        for document in documents:
            if document.destroyed_at is None:
                _add_files(archive, storage, document, labels[document.entry_id], used, manifest)
            sheet = metadata_sheet(session, document, town_hall)
            _add_bytes(archive, f"metadata/{document.uid}.json", to_json(sheet).encode(), manifest)
            _add_bytes(archive, f"metadata/{document.uid}.xml", to_xml(sheet), manifest)
        sheet = folder_sheet(session, folder)
        sheet["owner"] = town_hall
        _add_bytes(archive, "dosar.json", to_json(sheet).encode(), manifest)
        _add_bytes(archive, "dosar.xml", to_xml(sheet, root="folder"), manifest)
        lines = "".join(f"{sha}  {name}\n" for sha, name in manifest)
        archive.writestr(MANIFEST, lines.encode())
    return manifest


def _add_files(archive, storage, document, label, used, manifest) -> None:
    version = document.current
    stem = f"{document.uid[:8]}_{safe_name(version.filename or document.title)}"
    _add_stored(archive, storage, version.sha256, _unique(f"documents/{label}/{stem}", used),
                manifest)
    if version.searchable_sha256:
        base = stem.rsplit(".", 1)[0] if "." in stem else stem
        _add_stored(archive, storage, version.searchable_sha256,
                    _unique(f"documents/{label}/{base}-cautabil.pdf", used), manifest)


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        stem, dot, ext = name.rpartition(".")
        candidate = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def _add_stored(archive: zipfile.ZipFile, storage: LocalStorage, sha256: str, name: str,
                manifest: list) -> None:
    digest = hashlib.sha256()
    with storage.open(sha256) as source, archive.open(name, "w", force_zip64=True) as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
    if digest.hexdigest() != sha256:
        raise ArchiveError(f"Fișierul {name} din arhivă nu mai corespunde sumei sale de "
                           "control (a fost alterat); exportul a fost oprit.")
    manifest.append((sha256, name))


def _add_bytes(archive: zipfile.ZipFile, name: str, data: bytes, manifest: list) -> None:
    archive.writestr(name, data)
    manifest.append((hashlib.sha256(data).hexdigest(), name))
