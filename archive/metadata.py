"""The metadata sheet of an archived electronic document (Legea 135/2007): owner,
issuer, rights holder, history, type, classification, format, keywords, where the
paper original is, the unique identifier, issue date, archiving date and retention
term — as a dict, as JSON and as XML (in a namespace of our own).

The same sheet goes into an exported folder and into the destruction record, so what
is kept of a destroyed document is what the archive showed of it while it existed.
"""
import json
import xml.etree.ElementTree as ET
from datetime import date, datetime

from sqlalchemy import column, or_, select, table
from sqlalchemy.orm import Session

from connectors.audit import AuditEvent
from connectors.registry.models import NomenclatorFile, RegisterEntry

from .models import ArchiveDocument, ArchiveFolder
from .nomenclator import retention_text

NAMESPACE = "urn:dosar:arhiva:metadate:1"
ET.register_namespace("", NAMESPACE)

# The engine's instance table, by name (the archive does not import the engine): the
# steps of an entry's procedure belong to its history too.
_INSTANCE = table("process_instance", column("id"), column("document_id"))

# The law's names for the sheet's fields, as the archivist reads them.
LABELS = {
    "uid": "Identificator unic",
    "title": "Titlu",
    "owner": "Proprietar (creator)",
    "issuer": "Emitent",
    "rights_holder": "Deținătorul drepturilor",
    "type": "Tip document",
    "classification": "Clasificare (nomenclator)",
    "format": "Format",
    "keywords": "Cuvinte cheie",
    "paper_location": "Localizarea originalului pe hârtie",
    "issue_date": "Data emiterii",
    "archiving_date": "Data arhivării",
    "retention": "Termen de păstrare",
    "register": "Înregistrare",
    "history": "Istoric",
    "versions": "Versiuni",
    "destroyed_at": "Eliminat la",
}


def _day(value) -> str | None:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    return value.isoformat() if isinstance(value, date) else None


def history(session: Session, entry_id: int) -> list[dict]:
    """Who did what when to the entry, from the audit trail, oldest first."""
    instances = select(_INSTANCE.c.id).where(_INSTANCE.c.document_id == entry_id)
    condition = AuditEvent.object_ref == f"entry:{entry_id}"
    if "process_instance" in (AuditEvent.metadata.tables or {}):
        condition = or_(condition, AuditEvent.instance_id.in_(instances))
    events = session.execute(select(AuditEvent).where(condition)
                             .order_by(AuditEvent.at, AuditEvent.id)).scalars()
    return [{"at": _day(e.at), "actor": e.actor or "", "action": e.action,
             "summary": e.summary or ""} for e in events]


def _retention(nomenclator_file: NomenclatorFile | None, folder: ArchiveFolder | None) -> dict:
    if nomenclator_file is None:
        return {"term": "", "years": None, "disposable_from": None}
    return {"term": nomenclator_file.retention_label,
            "text": retention_text(nomenclator_file.retention_years),
            "years": nomenclator_file.retention_years,
            "disposable_from": _day(folder.disposable_from) if folder else None}


def metadata_sheet(session: Session, document: ArchiveDocument, town_hall: str,
                   *, with_history: bool = True) -> dict:
    """The sheet of one document, as plain JSON-ready values."""
    entry: RegisterEntry = document.entry
    folder = session.get(ArchiveFolder, entry.folder_id) if entry.folder_id else None
    nomenclator_file = folder.nomenclator_file if folder is not None else (
        session.execute(select(NomenclatorFile).where(NomenclatorFile.code == entry.file_code))
        .scalar_one_or_none() if entry.file_code else None)
    current = document.current
    incoming = entry.direction == "in" and bool(entry.sender_name)
    return {
        "uid": document.uid,
        "title": document.title,
        "owner": town_hall,
        "issuer": entry.sender_name if incoming else town_hall,
        "rights_holder": town_hall,
        "type": entry.document_type or "",
        "classification": {
            "file_code": nomenclator_file.code if nomenclator_file else entry.file_code,
            "file_title": nomenclator_file.title if nomenclator_file else "",
            "department": (nomenclator_file.department if nomenclator_file else "")
            or entry.department,
            "folder": folder.label if folder else "",
        },
        "format": {"content_type": current.content_type, "version": current.number,
                   "filename": current.filename, "size": current.size,
                   "pages": current.pages, "sha256": current.sha256},
        "keywords": [k.strip() for k in (document.keywords or "").split(",") if k.strip()],
        "paper_location": document.paper_location or "",
        "issue_date": _day(entry.sender_date if incoming and entry.sender_date
                           else entry.registered_on),
        "archiving_date": _day(entry.archived_on),
        "retention": _retention(nomenclator_file, folder),
        "register": {"number": entry.label, "registered_on": _day(entry.registered_on),
                     "direction": entry.direction, "summary": entry.summary or ""},
        "history": history(session, entry.id) if with_history else [],
        "versions": [{"number": v.number, "sha256": v.sha256, "content_type": v.content_type,
                      "filename": v.filename, "size": v.size, "created_at": _day(v.created_at),
                      "created_by": v.created_by or "", "files": v.stored_files()}
                     for v in document.versions],
        "destroyed_at": _day(document.destroyed_at),
    }


def to_json(sheet: dict) -> str:
    return json.dumps(sheet, ensure_ascii=False, indent=2, sort_keys=False)


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _add(parent: ET.Element, name: str, value) -> None:
    """A value as an element: dicts nest, lists repeat a singular child, None is empty."""
    element = ET.SubElement(parent, _q(name))
    if isinstance(value, dict):
        for key, inner in value.items():
            _add(element, key, inner)
    elif isinstance(value, list):
        child = {"history": "event", "versions": "version", "keywords": "keyword",
                 "entries": "entry", "documents": "document"}.get(name, "item")
        for inner in value:
            _add(element, child, inner)
    elif value is not None:
        element.text = str(value).lower() if isinstance(value, bool) else str(value)


def to_element(sheet: dict, root: str = "document") -> ET.Element:
    element = ET.Element(_q(root))
    for key, value in sheet.items():
        _add(element, key, value)
    return element


def to_xml(sheet: dict, root: str = "document") -> bytes:
    element = to_element(sheet, root)
    ET.indent(element)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def folder_sheet(session: Session, folder: ArchiveFolder) -> dict:
    """The folder's own description: its file, year, state and what it holds."""
    f = folder.nomenclator_file
    entries = session.execute(select(RegisterEntry).where(RegisterEntry.folder_id == folder.id)
                              .order_by(RegisterEntry.registered_on, RegisterEntry.id)).scalars().all()
    documents = {}
    if entries:
        for d in session.execute(select(ArchiveDocument).where(
                ArchiveDocument.entry_id.in_([e.id for e in entries]))
                .order_by(ArchiveDocument.id)).scalars():
            documents.setdefault(d.entry_id, []).append(d.uid)
    return {
        "folder": folder.label,
        "year": folder.year,
        "file_code": f.code, "file_title": f.title, "department": f.department,
        "retention": _retention(f, folder),
        "status": folder.status,
        "closed_on": _day(folder.closed_on), "closed_by": folder.closed_by or "",
        "legal_hold": bool(folder.legal_hold), "hold_reason": folder.hold_reason or "",
        "disposed_on": _day(folder.disposed_on),
        "entries": [{"number": e.label, "registered_on": _day(e.registered_on),
                     "direction": e.direction, "document_type": e.document_type,
                     "sender": e.sender_name, "summary": e.summary or "",
                     "archived_on": _day(e.archived_on), "documents": documents.get(e.id, [])}
                    for e in entries],
    }
