"""A small town hall for the nomenclator, retention and export tests: the general
register, a few nomenclator files, entries registered and archived on given days the
way the circuit's archiving step does it, and documents kept on them."""
import io
from datetime import date
from types import SimpleNamespace

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import webapp  # noqa: F401  (every table on the shared metadata)
import archive.nomenclator  # noqa: F401  (files archived entries into their folders)
from archive.documents import add_document
from archive.models import ArchiveFolder
from archive.storage import LocalStorage
from connectors.db import Base
from connectors.registry.models import NomenclatorFile, Register, RegisterEntry
from connectors.registry.numbering import register_document
from connectors.registry.service import archive_entry_operation

FILES = [
    ("RP-1", "relatii-publice", "Petiții, sesizări și reclamații", 5),
    ("RP-2", "relatii-publice", "Solicitări de informații de interes public", 3),
    ("URB-2", "urbanism", "Autorizații de construire", None),
]


def open_session(database_url: str) -> Session:
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    session = Session(engine)
    session.add(Register(code="general", name="Registrul general", prefix="", kind="in_out"))
    for code, department, title, years in FILES:
        session.add(NomenclatorFile(code=code, department=department, title=title,
                                    retention_years=years))
    session.commit()
    return session


def close_session(session: Session) -> None:
    engine = session.get_bind()
    session.close()
    engine.dispose()


def register(session, on: date, **fields) -> RegisterEntry:
    values = {"sender_name": "Maria Popescu", "summary": "Solicită repararea iluminatului.",
              "department": "relatii-publice", "document_type": "petitie", **fields}
    return register_document(session, "general", on, "registratura", **values)


def archive_entry(session, entry: RegisterEntry, file_code: str, on: date,
                  actor: str = "ion") -> dict:
    """The circuit's archiving step (registry.archive_entry) on `entry`."""
    context = SimpleNamespace(session=session, today=on, actor=actor)
    return archive_entry_operation(context, {"registration": {"entry_id": entry.id},
                                             "file_code": file_code})


def archived(session, file_code: str, on: date, **fields) -> RegisterEntry:
    entry = register(session, on, **fields)
    archive_entry(session, entry, file_code, on)
    session.flush()
    return entry


def keep(session, storage: LocalStorage, entry: RegisterEntry, content: bytes,
         filename: str = "cerere.pdf", content_type: str = "application/pdf", **extra):
    document = add_document(session, storage, entry, io.BytesIO(content), filename=filename,
                            content_type=content_type, actor="registratura")
    for key, value in extra.items():
        setattr(document, key, value)
    session.flush()
    return document


def folder(session, code: str, year: int) -> ArchiveFolder:
    from sqlalchemy import select
    return session.execute(select(ArchiveFolder).join(NomenclatorFile).where(
        NomenclatorFile.code == code, ArchiveFolder.year == year)).scalar_one()
