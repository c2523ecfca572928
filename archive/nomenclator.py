"""The archival nomenclator and its yearly folders.

Every archived register entry goes into the folder (*dosar*) of its nomenclator file
for the entry's year: `RP-1/2026`. Folders are open during the year and closed at
year end; a closed folder takes no more documents (its contents are what the
retention term and, one day, the disposal list speak about).

The nomenclator itself is kept by the archivist, one file at a time or by importing
a CSV (`cod;compartiment;titlu;termen`). A retention term is never shortened for a
file whose folders already hold documents: those documents were filed under the
longer term, and shortening it would make them disposable earlier than promised.
"""
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.registry.models import NomenclatorFile, RegisterEntry
from connectors.registry.numbering import RegistryError
from connectors.registry.signals import entry_changed

from .documents import ArchiveError
from .models import ArchiveFolder

COLUMNS = ("cod", "compartiment", "titlu", "termen")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
MAX_RETENTION_YEARS = 200


# ---- folders ------------------------------------------------------------------------

def folder_for(session: Session, nomenclator_file: NomenclatorFile, year: int) -> ArchiveFolder:
    """The file's folder for `year`, created open when missing."""
    query = select(ArchiveFolder).where(ArchiveFolder.nomenclator_file_id == nomenclator_file.id,
                                        ArchiveFolder.year == year)
    folder = session.execute(query).scalar_one_or_none()
    if folder is not None:
        return folder
    folder = ArchiveFolder(nomenclator_file_id=nomenclator_file.id, year=year, status="open",
                           legal_hold=False, hold_reason="")
    folder.nomenclator_file = nomenclator_file
    if session.get_bind().dialect.name == "sqlite":
        session.add(folder)      # writers hold the database lock: nobody can race us
        session.flush()
    else:
        try:
            # Two clerks archiving the first documents of a year at once: one insert
            # wins, the other takes the winner's folder.
            with session.begin_nested():
                session.add(folder)
        except IntegrityError:
            return session.execute(query).scalar_one()
    record_event(session, None, "archive.folder_opened", object_ref=f"folder:{folder.id}",
                 summary=f"Dosarul {folder.label} a fost deschis.")
    return folder


def file_into_folder(session: Session, entry: RegisterEntry, actor: str | None = None) -> ArchiveFolder:
    """Put an archived entry into its folder of the year; refuse a closed one."""
    nomenclator_file = session.execute(select(NomenclatorFile).where(
        NomenclatorFile.code == entry.file_code)).scalar_one_or_none()
    if nomenclator_file is None:
        raise RegistryError(f"dosarul «{entry.file_code}» nu există în nomenclatorul arhivistic")
    if entry.folder_id is not None:
        previous = session.get(ArchiveFolder, entry.folder_id)
        if previous is not None and previous.nomenclator_file_id == nomenclator_file.id \
                and previous.year == entry.year:
            _refuse_unless_open(previous, entry)
            return previous
        if previous is not None and previous.status != "open":
            raise RegistryError(f"Documentul {entry.label} este deja în dosarul {previous.label}, "
                                "care este închis; nu mai poate fi mutat în alt dosar.")
    folder = folder_for(session, nomenclator_file, entry.year)
    _refuse_unless_open(folder, entry)
    entry.folder_id = folder.id
    record_event(session, actor, "archive.filed", object_ref=f"entry:{entry.id}",
                 summary=f"Clasat în dosarul {folder.label} ({nomenclator_file.title}).",
                 after={"folder": folder.label, "folder_id": folder.id})
    return folder


def _refuse_unless_open(folder: ArchiveFolder, entry: RegisterEntry) -> None:
    if folder.status == "closed":
        raise RegistryError(
            f"Dosarul {folder.label} este închis; documentul {entry.label} nu mai poate fi "
            f"arhivat în el (dosarele anului {folder.year} s-au închis la sfârșitul anului). "
            "Alegeți alt dosar al compartimentului sau anunțați arhivarul.")
    if folder.status == "disposed":
        raise RegistryError(
            f"Dosarul {folder.label} a fost eliminat (distrus) după expirarea termenului de "
            f"păstrare; documentul {entry.label} nu poate fi arhivat în el.")


@entry_changed.connect
def _on_entry_changed(sender, session=None, entry_id=None, reason=None, actor=None, **_):
    if reason != "archived" or session is None:
        return
    entry = session.get(RegisterEntry, entry_id)
    if entry is not None and entry.file_code:
        file_into_folder(session, entry, actor)


@dataclass
class YearClosing:
    year: int
    closed: list[ArchiveFolder]
    unarchived: int         # entries of the year not archived yet (cases still open)


def unarchived_count(session: Session, year: int) -> int:
    return session.execute(select(func.count(RegisterEntry.id)).where(
        RegisterEntry.year == year, RegisterEntry.cancelled.is_(False),
        RegisterEntry.archived_on.is_(None))).scalar_one()


def close_year(session: Session, year: int, actor: str, today: date | None = None) -> YearClosing:
    """Close every open folder of `year` and of the years before it."""
    today = today or date.today()
    if year >= today.year:
        raise ArchiveError(f"Anul {year} nu s-a încheiat; dosarele lui se închid începând "
                           f"cu 1 ianuarie {year + 1}.")
    folders = session.execute(select(ArchiveFolder).where(
        ArchiveFolder.status == "open", ArchiveFolder.year <= year)
        .order_by(ArchiveFolder.year, ArchiveFolder.id)).scalars().all()
    for folder in folders:
        folder.status, folder.closed_on, folder.closed_by = "closed", today, actor
        record_event(session, actor, "archive.folder_closed", object_ref=f"folder:{folder.id}",
                     summary=f"Dosarul {folder.label} a fost închis la sfârșitul anului.",
                     before={"status": "open"}, after={"status": "closed",
                                                       "closed_on": today.isoformat()})
    closing = YearClosing(year, list(folders), unarchived_count(session, year))
    record_event(session, actor, "archive.year_closed", object_ref=f"year:{year}",
                 summary=f"Închiderea anului {year}: {len(folders)} dosare închise; "
                         f"{closing.unarchived} documente din {year} încă nearhivate.",
                 after={"folders": [f.label for f in folders]})
    return closing


# ---- the nomenclator itself -----------------------------------------------------------

def parse_retention(text: str) -> int | None:
    """`P` → None (permanent); a whole number of years → that number; else ValueError."""
    text = (text or "").strip()
    if text.upper() == "P":
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_RETENTION_YEARS:
        raise ValueError(text)
    return int(text)


def retention_text(years: int | None) -> str:
    if years is None:
        return "permanent (P)"
    return "1 an" if years == 1 else f"{years} ani"


def check_fields(code: str, department: str, title: str, term: str,
                 departments: set[str] | None = None) -> tuple[dict, dict[str, str]]:
    """Clean a file's fields; returns (values, errors by column name)."""
    code, department, title, term = (str(v or "").strip() for v in (code, department, title, term))
    errors = {}
    if not code:
        errors["cod"] = "lipsește"
    elif len(code) > 50 or not CODE.match(code):
        errors["cod"] = (f"„{code[:60]}” nu este un indicativ valid (litere, cifre, „-”, „.”, "
                         "„/”, cel mult 50 de caractere)")
    if not department:
        errors["compartiment"] = "lipsește"
    elif len(department) > 100:
        errors["compartiment"] = "are mai mult de 100 de caractere"
    elif departments is not None and department not in departments:
        errors["compartiment"] = f"„{department}” nu este un compartiment al primăriei"
    if not title:
        errors["titlu"] = "lipsește"
    elif len(title) > 300:
        errors["titlu"] = "are mai mult de 300 de caractere"
    years = None
    try:
        years = parse_retention(term)
    except ValueError:
        errors["termen"] = (f"„{term[:30]}” nu este P sau un număr de ani (1–{MAX_RETENTION_YEARS})"
                            if term else "lipsește (P sau un număr de ani)")
    return {"code": code, "department": department, "title": title,
            "retention_years": years}, errors


def shortening_refusal(session: Session, nomenclator_file: NomenclatorFile,
                       years: int | None) -> str | None:
    """Why the file's retention may not become `years`, or None if it may."""
    old = nomenclator_file.retention_years
    shorter = years is not None and (old is None or years < old)
    if not shorter or nomenclator_file.id is None:
        return None
    filled = session.execute(
        select(ArchiveFolder.year).join(RegisterEntry, RegisterEntry.folder_id == ArchiveFolder.id)
        .where(ArchiveFolder.nomenclator_file_id == nomenclator_file.id,
               ArchiveFolder.status != "disposed").distinct()
        .order_by(ArchiveFolder.year)).scalars().all()
    if not filled:
        return None
    return (f"dosarul {nomenclator_file.code} are deja documente arhivate "
            f"({', '.join(map(str, filled))}) cu termenul {retention_text(old)}; termenul nu "
            f"poate fi scurtat la {retention_text(years)} (creați un indicativ nou pentru "
            "documentele de acum înainte)")


def save_file(session: Session, actor: str, values: dict,
              nomenclator_file: NomenclatorFile | None = None,
              active: bool | None = None) -> NomenclatorFile:
    """Create or change one file (fields already checked by `check_fields`)."""
    if nomenclator_file is None:
        if session.execute(select(NomenclatorFile.id).where(
                NomenclatorFile.code == values["code"])).first():
            raise ArchiveError(f"Indicativul {values['code']} există deja în nomenclator.")
        nomenclator_file = NomenclatorFile(active=True if active is None else active, **values)
        session.add(nomenclator_file)
        session.flush()
        record_event(session, actor, "nomenclator.file_created",
                     object_ref=f"nomenclator:{nomenclator_file.code}",
                     summary=f"{nomenclator_file.code} — {nomenclator_file.title} "
                             f"({nomenclator_file.retention_label})", after=_fields(nomenclator_file))
        return nomenclator_file
    refusal = shortening_refusal(session, nomenclator_file, values["retention_years"])
    if refusal:
        raise ArchiveError(refusal[0].upper() + refusal[1:] + ".")
    if values["code"] != nomenclator_file.code:
        raise ArchiveError("Indicativul unui dosar nu se schimbă (documentele îl poartă); "
                           "creați un dosar nou și dezactivați-l pe acesta.")
    before = _fields(nomenclator_file)
    nomenclator_file.department = values["department"]
    nomenclator_file.title = values["title"]
    nomenclator_file.retention_years = values["retention_years"]
    if active is not None:
        nomenclator_file.active = active
    after = _fields(nomenclator_file)
    if after != before:
        record_event(session, actor, "nomenclator.file_changed",
                     object_ref=f"nomenclator:{nomenclator_file.code}",
                     summary=f"{nomenclator_file.code} — {nomenclator_file.title}",
                     before=before, after=after)
    return nomenclator_file


def _fields(f: NomenclatorFile) -> dict:
    return {"code": f.code, "department": f.department, "title": f.title,
            "retention": f.retention_label, "active": bool(f.active)}


class NomenclatorImportError(ArchiveError):
    """Every problem of an import, each naming its line and column."""

    def __init__(self, errors: list[str]):
        super().__init__("Importul nu a fost făcut; corectați fișierul:\n" + "\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def decode_csv(data: bytes) -> str:
    """The uploaded file's text: UTF-8, with or without the BOM spreadsheets add."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise NomenclatorImportError([
            f"fișierul nu este în codificarea UTF-8 (octetul {err.start + 1}); salvați-l "
            "din foaia de calcul ca „CSV UTF-8”"]) from err


def import_nomenclator(session: Session, text: str, actor: str,
                       departments: set[str] | None = None) -> ImportResult:
    """Import `cod;compartiment;titlu;termen` rows (or comma-separated; header optional).
    Every row is checked first; one wrong row and nothing is imported."""
    rows, errors = _read_rows(text)
    checked, seen = [], {}
    for line, cells in rows:
        if len(cells) != len(COLUMNS):
            errors.append(f"linia {line}: are {len(cells)} coloane, se așteaptă "
                          f"{len(COLUMNS)} ({';'.join(COLUMNS)})")
            continue
        values, problems = check_fields(*cells, departments=departments)
        errors.extend(f"linia {line}, {column}: {message}" for column, message in problems.items())
        if problems:
            continue
        if values["code"] in seen:
            errors.append(f"linia {line}, cod: „{values['code']}” apare de două ori în fișier "
                          f"(și pe linia {seen[values['code']]})")
            continue
        seen[values["code"]] = line
        existing = session.execute(select(NomenclatorFile).where(
            NomenclatorFile.code == values["code"])).scalar_one_or_none()
        if existing is not None:
            refusal = shortening_refusal(session, existing, values["retention_years"])
            if refusal:
                errors.append(f"linia {line}, termen: {refusal}")
                continue
        checked.append((values, existing))
    if not rows and not errors:
        errors.append("fișierul nu conține niciun dosar (cod;compartiment;titlu;termen)")
    if errors:
        raise NomenclatorImportError(errors)
    result = ImportResult()
    for values, existing in checked:
        before = None if existing is None else _fields(existing)
        saved = save_file(session, actor, values, existing)
        bucket = (result.created if existing is None else
                  result.unchanged if _fields(saved) == before else result.updated)
        bucket.append(saved.code)
    record_event(session, actor, "nomenclator.imported", object_ref="nomenclator:*",
                 summary=f"Import nomenclator: {len(result.created)} dosare noi, "
                         f"{len(result.updated)} modificate, {len(result.unchanged)} neschimbate.",
                 after={"created": result.created, "updated": result.updated})
    return result


def _read_rows(text: str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """(line number, cells) of every non-empty row, without the header."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    first = next((l for l in lines if l.strip()), "")
    delimiter = ";" if ";" in first or "," not in first else ","
    rows, errors = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if not rows and [c.strip().lower() for c in cells][:1] == ["cod"]:
                continue      # the header
            rows.append((line, [c.strip() for c in cells]))
    except csv.Error as err:
        errors.append(f"linia {reader.line_num}: rând CSV greșit ({err})")
    return rows, errors
