"""OCR benchmark: Tesseract alone vs. our whole text-extraction job, same pages.

A reproducible Romanian letter (DejaVu Sans, so ș ț ă â î are real glyphs) is drawn
with reportlab, rasterised at 300 dpi and kept as an image-only PDF of grey JPEG pages,
as a scanner makes it. Then, alternately (raw, pipeline, raw, pipeline…, so that noise
on the machine hits both):

- tesseract_raw_s: the tesseract program run directly on the page images rendered
  beforehand (one run per page, same languages, OMP_THREAD_LIMIT=1, PDF and text out,
  exactly what the job asks of it);
- pipeline_s: the whole job for a new document holding that PDF: store it, run the
  `archive.extract_text` job from the queue (read, OCR, searchable PDF merged, text,
  thumbnail, stored, written on the version), on a temporary SQLite database.

Prints one JSON object with the medians, overhead_ratio = pipeline / raw (target
≤ 1.10), the rounds and the languages; beside the wall times, the CPU seconds of both
(this process and its Tesseract children), which other work on the machine does not
inflate. The job hands Tesseract a scan page's own JPEG (nothing re-encoded), the raw
measure the rendered grey pixels: both give Tesseract the same page at 300 dpi.
Exits 1 if the job did not produce a searchable PDF whose text has the letter's words.

    dosar bench ocr [--pages 6] [--quick] [--rounds 3]
"""
import argparse
import io
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import img2pdf  # noqa: E402
import pypdfium2 as pdfium  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

DPI = 300
FONT, FONT_FILE = "DejaVuSans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TARGET = 1.10
EXPECTED = ("Primăria", "ședința", "învățământ")   # on every page; must come back

HEADER = ["ROMÂNIA", "JUDEȚUL CLUJ", "Primăria comunei Sânmartin", "Nr. 4127 / 14.03.2026",
          "Privind: ședința comisiei pentru învățământ și cultură"]
SENTENCES = [
    "Vă comunicăm că cererea dumneavoastră a fost analizată în ședința comisiei.",
    "Consiliul local a aprobat finanțarea lucrărilor de reabilitare a școlii gimnaziale.",
    "Pentru învățământul preuniversitar s-au alocat fonduri din bugetul local.",
    "Documentele se depun la registratură, în zilele lucrătoare, între orele 8 și 16.",
    "Certificatul de urbanism se eliberează în termen de cincisprezece zile.",
    "Vă rugăm să vă prezentați cu actul de identitate și cu dovada plății taxei.",
    "Împotriva prezentei dispoziții se poate face contestație în treizeci de zile.",
    "Hotărârea a fost adoptată cu unanimitate de voturi de consilierii prezenți.",
    "Străzile Mihai Viteazu și Avram Iancu vor fi asfaltate până la sfârșitul anului.",
    "Taxa pentru eliberarea autorizației de funcționare este de cincizeci de lei.",
]


def letter_pdf(pages: int, seed: int = 2026) -> bytes:
    """The letter as a born-digital PDF (the text the scanner will see)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_FILE))
    rng = random.Random(seed)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    for number in range(1, pages + 1):
        c.setFont(FONT, 11)
        y = A4[1] - 60
        for line in HEADER:
            c.drawString(60, y, line)
            y -= 16
        y -= 20
        while y > 90:
            c.drawString(60, y, rng.choice(SENTENCES))
            y -= 17
        c.drawString(A4[0] / 2 - 20, 50, f"Pagina {number} din {pages}")
        c.showPage()
    c.save()
    return out.getvalue()


def scan_pdf(born_digital: bytes) -> bytes:
    """Every page rasterised at 300 dpi, grey, JPEG: an image-only PDF like a scanner's."""
    pdf = pdfium.PdfDocument(born_digital)
    jpegs = []
    for page in pdf:
        image = page.render(scale=DPI / 72, grayscale=True).to_pil()
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=85, dpi=(DPI, DPI))
        jpegs.append(buf.getvalue())
    pdf.close()
    return img2pdf.convert(jpegs)


def render_pages(scan: bytes, folder: Path) -> list[Path]:
    """The page images Tesseract gets in the raw measure, rendered once beforehand."""
    pdf = pdfium.PdfDocument(scan)
    paths = []
    for index, page in enumerate(pdf):
        path = folder / f"page-{index + 1}.pgm"
        page.render(scale=DPI / 72, grayscale=True).to_pil().save(path)
        paths.append(path)
    pdf.close()
    return paths


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (Tesseract runs): unlike
    wall time, not inflated when other work shares the machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def raw_tesseract(images: list[Path], languages: str, folder: Path) -> tuple[float, float]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    start, cpu = time.perf_counter(), cpu_seconds()
    for image in images:
        subprocess.run(["tesseract", str(image), str(folder / image.stem), "-l", languages,
                        "--dpi", str(DPI), "pdf", "txt"], env=env, check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, cpu_seconds() - cpu


class Pipeline:
    """A temporary town hall (SQLite + file storage) with one register entry."""

    def __init__(self, folder: Path):
        from webapp import create_app
        from webapp.migrations import upgrade
        self.app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'dosar.db'}",
            "DATA_DIR": str(folder), "STORAGE_DIR": str(folder / "files"),
            "SEARCH_PATH": str(folder / "search.sqlite"), "SECRET_KEY": "bench",
            "SCAN_INBOX_DIR": str(folder / "scanari")})
        with self.app.app_context():
            upgrade()
            from connectors.registry.models import Register
            from connectors.registry.numbering import register_document
            from webapp.database import db
            db.session.add(Register(code="RG", name="Registrul general", kind="in_out"))
            db.session.flush()
            self.entry_id = register_document(db.session, "RG", date(2026, 3, 14), "bench",
                                              summary="Scrisoare scanată").id
            db.session.commit()
            db.session.remove()

    def run(self, scan: bytes) -> tuple[float, float, dict]:
        from archive import settings
        from archive.documents import EXTRACT_TEXT, add_document
        from connectors.jobs.queue import run_pending
        from connectors.registry.models import RegisterEntry
        from webapp.database import db
        with self.app.app_context():
            session = db.session
            start, cpu = time.perf_counter(), cpu_seconds()
            entry = session.get(RegisterEntry, self.entry_id)
            document = add_document(session, settings.current().storage(), entry,
                                    io.BytesIO(scan), filename="scrisoare.pdf",
                                    content_type="application/pdf", actor="bench")
            session.commit()
            version_id = document.current.id
            outcomes = run_pending(session, worker="bench", kinds=(EXTRACT_TEXT,))
            elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            result = self.check(session, version_id, outcomes)
            db.session.remove()
        return elapsed, cpu, result

    @staticmethod
    def check(session, version_id, outcomes) -> dict:
        from archive import settings
        from archive.models import ArchiveVersion
        version = session.get(ArchiveVersion, version_id)
        storage = settings.current().storage()
        ok = [o.status for o in outcomes] == ["done"] and version.text_status == "done"
        text, searchable = "", b""
        if ok:
            with storage.open(version.text_sha256) as f:
                text = f.read().decode("utf-8")
            with storage.open(version.searchable_sha256) as f:
                searchable = f.read()
            layer = pdfium.PdfDocument(searchable)
            selectable = " ".join(p.get_textpage().get_text_range() for p in layer)
            ok = (all(w in text and w in selectable for w in EXPECTED)
                  and len(layer) == version.pages)
            layer.close()
        return {"ok": ok, "pages": version.pages, "text_source": version.text_source,
                "characters": len(text), "searchable_pdf_bytes": len(searchable),
                "error": version.text_error or "; ".join(o.error for o in outcomes if o.error)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, help="pages of the letter (default 6; quick 2)")
    parser.add_argument("--quick", action="store_true", help="2 pages, 2 rounds")
    parser.add_argument("--rounds", type=int, help="raw/pipeline pairs (default 3; quick 2)")
    parser.add_argument("--languages", default=os.environ.get("DOSAR_OCR_LANGUAGES", "ron+eng"))
    args = parser.parse_args()
    pages = args.pages or (2 if args.quick else 6)
    rounds = max(2, args.rounds or (2 if args.quick else 3))

    folder = Path(tempfile.mkdtemp(prefix="dosar-bench-ocr-"))
    try:
        scan = scan_pdf(letter_pdf(pages))
        images = render_pages(scan, folder)
        pipeline = Pipeline(folder)
        from archive import settings
        from dataclasses import replace
        settings.configure(replace(settings.current(), ocr_languages=args.languages))
        raw_times, pipeline_times, raw_cpu, pipeline_cpu, result = [], [], [], [], {}
        for _ in range(rounds):
            elapsed, cpu = raw_tesseract(images, args.languages, folder)
            raw_times.append(elapsed)
            raw_cpu.append(cpu)
            elapsed, cpu, result = pipeline.run(scan)
            pipeline_times.append(elapsed)
            pipeline_cpu.append(cpu)
            if not result["ok"]:
                break
        raw, full = statistics.median(raw_times), statistics.median(pipeline_times)
        cpu_raw, cpu_full = statistics.median(raw_cpu), statistics.median(pipeline_cpu)
        report = {
            "pages": pages, "tesseract_raw_s": round(raw, 3), "pipeline_s": round(full, 3),
            "overhead_ratio": round(full / raw, 3), "target_ratio": TARGET,
            "within_target": full / raw <= TARGET, "rounds": len(pipeline_times),
            "languages": args.languages, "dpi": DPI,
            "raw_rounds_s": [round(t, 3) for t in raw_times],
            "pipeline_rounds_s": [round(t, 3) for t in pipeline_times],
            "raw_cpu_s": round(cpu_raw, 3), "pipeline_cpu_s": round(cpu_full, 3),
            "cpu_overhead_ratio": round(cpu_full / cpu_raw, 3),
            "per_page_s": round(full / pages, 3), "scan_pdf_bytes": len(scan),
            "searchable_pdf_bytes": result.get("searchable_pdf_bytes"),
            "text_characters": result.get("characters"), "text_ok": result.get("ok"),
            "tesseract": _tesseract_version(),
        }
        if result.get("error"):
            report["error"] = result["error"]
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0 if result.get("ok") else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _tesseract_version() -> str:
    import pytesseract
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError:
        return "missing"


if __name__ == "__main__":
    sys.exit(main())
