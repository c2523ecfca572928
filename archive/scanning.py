"""Scan batches: a file of many documents from the scan station, cut apart at our
separator sheets, each document matched to its register entry by the barcode printed
at registration (receipt, label, cover sheet), or left in the manual-matching queue.

The batch file is kept as received, so a separator read where none was, or a page
cut wrongly, never loses anything: the original pages are still there. Each document
(segment) is a PDF of its own: pages taken out of a PDF batch as they are (no
re-encoding), frames of a TIFF batch put into PDF pages losslessly.

Splitting runs as a background job (`archive.split_batch`), in one transaction: a
worker that dies half-way leaves no segment behind, and the job run again finds the
batch as it was; a batch already split is left alone.
"""
import hashlib
import io

import img2pdf
from PIL import Image, ImageSequence
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.audit import record_event
from connectors.db import utcnow
from connectors.jobs.queue import enqueue, handler
from connectors.registry.models import RegisterEntry
from connectors.registry.references import find_entries, parse_reference

from . import settings
from .filenames import safe_filename
from .barcodes import PageCodes, Reading, read_page
from .documents import ArchiveError, add_document
from .models import ArchiveDocument, ScanBatch, ScanSegment
from .pages import PDF, TIFF, UnreadableFile, count_pages, iter_pages
from .storage import LocalStorage

SPLIT_BATCH = "archive.split_batch"     # job kind
READ_DPI = 200                          # pages that are not a plain scan are drawn at
PLAIN_DPI = 200                         # a TIFF frame that does not say its resolution


class DuplicateBatch(ArchiveError):
    """The same file was received before; `batch` is the earlier one."""

    def __init__(self, batch: ScanBatch):
        when = batch.received_at.strftime("%d.%m.%Y %H:%M") if batch.received_at else ""
        super().__init__(f"Acest fișier a fost deja primit: lotul nr. {batch.id} din {when}.")
        self.batch = batch


def sniff_type(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    return None


# --- receiving ---------------------------------------------------------------------------

def receive_batch(session: Session, storage: LocalStorage, data: bytes, filename: str,
                  actor: str | None, source: str = "upload") -> ScanBatch:
    """Keep a scanned batch as received and queue its splitting. Refuses (ArchiveError,
    Romanian) a file that is not a readable PDF or TIFF, or one received before."""
    filename = safe_filename(filename, fallback="lot")
    content_type = sniff_type(data)
    if content_type is None:
        raise ArchiveError(f"«{filename}» nu este un fișier PDF sau TIFF.")
    pages = _check_readable(data, content_type, filename)
    earlier = session.execute(select(ScanBatch).where(
        ScanBatch.sha256 == hashlib.sha256(data).hexdigest(), ScanBatch.status != "failed")
        .order_by(ScanBatch.id)).scalars().first()
    if earlier is not None:
        raise DuplicateBatch(earlier)
    sha256, size = storage.put(io.BytesIO(data))
    batch = ScanBatch(sha256=sha256, filename=(filename or "")[:300], source=source,
                      pages=pages, status="queued", received_by=actor)
    session.add(batch)
    session.flush()
    record_event(session, actor, "archive.batch_received", object_ref=f"scan_batch:{batch.id}",
                 summary=f"Lot scanat «{filename}»: {pages} pagini",
                 after={"sha256": sha256, "size": size, "pages": pages, "source": source})
    enqueue(session, SPLIT_BATCH, {"batch_id": batch.id}, dedupe_key=f"{SPLIT_BATCH}:{batch.id}")
    return batch


def _check_readable(data: bytes, content_type: str, filename: str) -> int:
    """Both readers used later must open the file, so a broken one is refused now."""
    try:
        pages = count_pages(data, content_type)
        if content_type == PDF:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise ArchiveError(f"«{filename}» este un PDF protejat cu parolă.")
            pages = min(pages, len(reader.pages))
        else:
            with Image.open(io.BytesIO(data)) as image:
                for frame in ImageSequence.Iterator(image):
                    frame.load()
    except UnreadableFile as err:
        raise ArchiveError(f"«{filename}»: {err}") from err
    except (PyPdfError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise ArchiveError(f"«{filename}» nu poate fi citit: {err}") from err
    if pages < 1:
        raise ArchiveError(f"«{filename}» nu are nicio pagină.")
    return pages


# --- splitting ---------------------------------------------------------------------------

@handler(SPLIT_BATCH)
def split_batch_job(session: Session, payload: dict) -> None:
    batch = session.get(ScanBatch, payload["batch_id"])
    if batch is not None and batch.status == "queued":
        split_batch(session, settings.current().storage(), batch)


def split_batch(session: Session, storage: LocalStorage, batch: ScanBatch) -> None:
    """Cut the batch at its separator sheets; each piece becomes a segment, matched to
    its register entry when its barcodes name exactly one existing entry."""
    with storage.open(batch.sha256) as stream:
        data = stream.read()
    content_type = sniff_type(data)
    try:
        # A scanned page is read in its own pixels; a page made by a program, drawn.
        pages = [read_page(page.image) for page in iter_pages(
            data, content_type, dpi=READ_DPI, with_text=False, native=True)]
        pieces = cut(pages)
        files = _segment_files(data, content_type, pieces, len(pages))
    except (UnreadableFile, PyPdfError, OSError, ValueError) as err:
        batch.status, batch.error = "failed", f"Lotul nu poate fi citit: {err}"[:500]
        record_event(session, batch.received_by, "archive.batch_failed",
                     object_ref=f"scan_batch:{batch.id}", summary=batch.error)
        return
    done = {segment.position for segment in batch.segments}
    matched = 0
    for position, ((first, last), pdf) in enumerate(zip(pieces, files), start=1):
        if position in done:
            continue
        sha256, _ = storage.put(io.BytesIO(pdf))
        readings = [r for page in pages[first - 1:last] for r in page.readings]
        segment = ScanSegment(batch=batch, position=position, first_page=first, last_page=last,
                              sha256=sha256, status="unmatched",
                              barcodes=_summary(readings))
        session.add(segment)
        session.flush()
        entry, reason = resolve(session, pages[first - 1:last])
        if entry is None:
            segment.reason = reason[:300]
        else:
            _attach(session, storage, segment, entry, batch.received_by, by_hand=False)
            matched += 1
    batch.status, batch.pages, batch.error = "split", len(pages), ""
    separators = sum(1 for page in pages if page.separator)
    record_event(session, batch.received_by, "archive.batch_split",
                 object_ref=f"scan_batch:{batch.id}",
                 summary=f"Lotul «{batch.filename}»: {len(pieces)} documente, {matched} "
                         f"potrivite după codul de bare, {separators} foi separatoare",
                 after={"segments": len(pieces), "matched": matched, "pages": len(pages),
                        "separators": separators})


def cut(pages: list[PageCodes]) -> list[tuple[int, int]]:
    """(first, last) page numbers, 1-based, of each run of pages between separator
    sheets; separators belong to no piece, and nothing between two separators is no piece."""
    pieces, start = [], None
    for number, page in enumerate(pages, start=1):
        if page.separator:
            if start is not None:
                pieces.append((start, number - 1))
            start = None
        elif start is None:
            start = number
    if start is not None:
        pieces.append((start, len(pages)))
    return pieces


def _segment_files(data: bytes, content_type: str, pieces, count: int) -> list[bytes]:
    if content_type == PDF:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) != count:     # a damaged file the two readers see differently
            raise ValueError(f"{count} pagini citite, {len(reader.pages)} pagini de copiat")
        return [_pdf_pages(reader, first, last) for first, last in pieces]
    with Image.open(io.BytesIO(data)) as image:
        frames = [_frame_file(frame) for frame in ImageSequence.Iterator(image)]
    return [img2pdf.convert(frames[first - 1:last]) for first, last in pieces]


def _pdf_pages(reader: PdfReader, first: int, last: int) -> bytes:
    """The pages' own objects (content, images, fonts) copied, nothing re-encoded."""
    writer = PdfWriter()
    for index in range(first - 1, last):
        writer.add_page(reader.pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _frame_file(frame: Image.Image) -> bytes:
    """One TIFF frame as a file img2pdf embeds without decoding: a 1-bit frame as a
    CCITT G4 TIFF (copied into the PDF as it is), any other as PNG (lossless)."""
    dpi = frame.info.get("dpi") or (PLAIN_DPI, PLAIN_DPI)
    dpi = tuple(round(float(d)) or PLAIN_DPI for d in dpi)
    out = io.BytesIO()
    if frame.mode == "1":
        frame.save(out, "TIFF", compression="group4", dpi=dpi)
    else:
        image = frame if frame.mode in ("L", "RGB") else frame.convert("RGB")
        image.save(out, "PNG", dpi=dpi)
    return out.getvalue()


def _summary(readings: list[Reading]) -> str:
    unique = list(dict.fromkeys(str(r) for r in readings))
    return "; ".join(unique)[:500]


# --- matching ----------------------------------------------------------------------------

def resolve(session: Session, pages: list[PageCodes]) -> tuple[RegisterEntry | None, str]:
    """The one live entry the pages' barcodes name, or (None, why not) in Romanian."""
    readings = [r for page in pages for r in page.readings]
    references = list(dict.fromkeys(ref for page in pages for ref in page.references))
    if not readings:
        return None, "niciun cod de bare citit"
    if not references:
        return None, ("codurile de bare citite nu sunt numere de înregistrare: "
                      + ", ".join(dict.fromkeys(r.text for r in readings)))
    entries: dict[int, RegisterEntry] = {}
    for reference in references:
        found = find_entries(session, reference)
        if reference.access_code:
            found = [e for e in found if e.access_code == reference.access_code]
        if not found:
            return None, f"codul {reference} nu există în registru"
        if len(found) > 1:
            return None, (f"codul {reference} se potrivește cu mai multe înregistrări: "
                          + ", ".join(e.label for e in found))
        entries[found[0].id] = found[0]
    if len(entries) > 1:
        labels = ", ".join(e.label for e in entries.values())
        many = "două înregistrări diferite" if len(entries) == 2 else "mai multe înregistrări"
        return None, f"coduri pentru {many}: {labels}"
    entry = next(iter(entries.values()))
    if entry.cancelled:
        return None, f"înregistrarea {entry.label} este anulată"
    return entry, ""


def entry_by_number(session: Session, text: str) -> RegisterEntry:
    """The entry a clerk typed (`1234/22.11.2026`, `1234/2026`, `URB-12/2026`), live;
    ArchiveError with what is wrong otherwise."""
    reference = parse_reference(text, needs_year=True)
    if reference is None:
        raise ArchiveError(f"«{text}» nu este un număr de înregistrare; scrieți-l cu data sau "
                           "cu anul, de exemplu 1234/22.11.2026 sau 1234/2026.")
    found = find_entries(session, reference)
    if not found:
        raise ArchiveError(f"Înregistrarea {text.strip()} nu există în registru.")
    if len(found) > 1:
        raise ArchiveError(f"Numărul {text.strip()} se potrivește cu mai multe înregistrări; "
                           f"scrieți-l cu data, de exemplu {found[0].label}.")
    if found[0].cancelled:
        raise ArchiveError(f"Înregistrarea {found[0].label} este anulată; documentul scanat nu "
                           "se poate atașa la ea.")
    return found[0]


def match_segment(session: Session, storage: LocalStorage, segment: ScanSegment,
                  entry: RegisterEntry, actor: str | None) -> ArchiveDocument:
    """A clerk attaches a segment from the manual-matching queue to `entry`."""
    if segment.status == "matched":
        where = f" la înregistrarea {segment.entry.label}" if segment.entry else ""
        raise ArchiveError(f"Documentul scanat a fost deja atașat{where}.")
    if entry.cancelled:
        raise ArchiveError(f"Înregistrarea {entry.label} este anulată; documentul scanat nu "
                           "se poate atașa la ea.")
    return _attach(session, storage, segment, entry, actor, by_hand=True)


def _attach(session, storage, segment: ScanSegment, entry: RegisterEntry, actor,
            by_hand: bool) -> ArchiveDocument:
    # Conditional: of two clerks matching the same segment at once, one wins.
    claimed = session.execute(
        update(ScanSegment).where(ScanSegment.id == segment.id,
                                  ScanSegment.status == "unmatched")
        .values(status="matched", entry_id=entry.id, reason="", matched_at=utcnow(),
                matched_by=actor if by_hand else None)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        raise ArchiveError("Documentul scanat a fost deja atașat între timp.")
    pages = segment.last_page - segment.first_page + 1
    with storage.open(segment.sha256) as stream:
        document = add_document(
            session, storage, entry, stream, actor=actor, source="scan",
            filename=f"scanare-lot{segment.batch_id}-{segment.position}.pdf",
            content_type=PDF, title=f"Scanare {entry.label}", pages=pages)
    session.execute(update(ScanSegment).where(ScanSegment.id == segment.id)
                    .values(document_id=document.id)
                    .execution_options(synchronize_session=False))
    session.refresh(segment)
    how = "manual" if by_hand else "după codul de bare"
    record_event(session, actor, "archive.segment_matched", object_ref=f"entry:{entry.id}",
                 summary=f"Scanare atașată {how}: lotul {segment.batch_id}, paginile "
                         f"{segment.first_page}–{segment.last_page} ({pages} pagini)",
                 after={"segment": segment.id, "batch": segment.batch_id,
                        "document": document.uid, "by_hand": by_hand,
                        "barcodes": segment.barcodes})
    return document
