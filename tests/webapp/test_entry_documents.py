"""Files on a register entry's page: the documents the archive keeps (the desk's scan,
files added on the page, a procedure form's files), their versions and text state,
identified and audited downloads, and who may add or read them."""
import io
import json
import re
from datetime import datetime

import pytest
from PIL import Image
from reportlab.pdfgen import canvas
from sqlalchemy import select

from archive.models import ArchiveDocument, ArchiveFolder, DestructionRecord, DisposalList
from archive.storage import LocalStorage
from connectors.audit import AuditEvent
from connectors.registry.models import NomenclatorFile, RegisterEntry
from engine.models import ProcessInstance

from webapp_testkit import login, open_task_id, post, register_petition


def pdf_bytes(text: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


SCAN = pdf_bytes("Petitie: iluminat public pe strada Lunga")


def registered_entry(app, client) -> int:
    """The desk registers a petition with its scan; the entry's id."""
    assert register_petition(client, scan=(io.BytesIO(SCAN), "petitie.pdf")).status_code == 302
    from webapp.database import db
    with app.app_context():
        entry_id = db.session.execute(select(ProcessInstance.document_id)).scalar_one()
        db.session.remove()
    return entry_id


def add_file(client, entry_id, data, filename, title="", **extra):
    return post(client, f"/arhiva/inregistrari/{entry_id}/documente",
                {"file": (io.BytesIO(data), filename), "title": title, **extra},
                page_url=f"/registratura/{entry_id}")


def document_links(page: str) -> dict[str, str]:
    """title → download link of each document in the «Documente» section."""
    return {title: href for href, title in re.findall(
        r'<a class="document-title" href="([^"]+)">([^<]+)</a>', page)}


def test_the_scan_from_the_desk_and_an_uploaded_document_on_the_entry_page(demo_app):
    client = login(demo_app.test_client(), "registratura")
    entry_id = registered_entry(demo_app, client)
    page = client.get(f"/registratura/{entry_id}").text
    # The desk's scan was kept in the archive when the petition was registered.
    links = document_links(page)
    assert "Petiția scanată" in links and "petitie.pdf" in page
    assert "în așteptare" in page                           # its text comes later (OCR)
    assert client.get(links["Petiția scanată"]).data == SCAN

    login(client, "functionar.relatii")                    # the entry's department
    annex = pdf_bytes("Anexa: fotografii ale stalpilor")
    response = add_file(client, entry_id, annex, "fotografii.pdf", title="Anexa 1 — fotografii")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Documentul «Anexa 1 — fotografii» a fost adăugat" in page
    link = document_links(page)["Anexa 1 — fotografii"]
    assert "fotografii.pdf" in page
    assert client.get(link).data == annex
    # Without a title the file's name is the title.
    add_file(client, entry_id, pdf_bytes("Adresa"), "adresa-politie.pdf")
    assert "adresa-politie.pdf" in document_links(client.get(f"/registratura/{entry_id}").text)
    # The entry's history says who added what.
    assert "a adăugat documentul" in client.get(f"/registratura/{entry_id}").text


def test_a_new_version_keeps_the_old_one_downloadable_and_unchanged(demo_app):
    client = login(demo_app.test_client(), "registratura")
    entry_id = registered_entry(demo_app, client)
    from webapp.database import db
    with demo_app.app_context():
        document_id = db.session.execute(select(ArchiveDocument.id)).scalar_one()
        db.session.remove()
    better = pdf_bytes("Petitie, scanata din nou, lizibila")
    response = post(client, f"/arhiva/documente/{document_id}/versiuni",
                    {f"version-file-{document_id}": (io.BytesIO(better), "petitie-v2.pdf"),
                     "note": "scanare mai clară"}, page_url=f"/registratura/{entry_id}")
    assert response.status_code == 302
    page = client.get(f"/registratura/{entry_id}").text
    assert "Versiunea 2 a documentului «Petiția scanată» a fost păstrată" in page
    assert client.get(document_links(page)["Petiția scanată"]).data == better   # the current
    history = re.search(r'<ol class="version-history".*?</ol>', page, re.S).group(0)
    assert "scanare mai clară" in history and "Maria Popescu" in history
    old = f"/arhiva/documente/{document_id}/versiuni/1/original"
    assert f'href="{old}"' in history
    response = client.get(old)
    assert response.data == SCAN and "petitie.pdf" in response.headers["Content-Disposition"]
    storage = LocalStorage(demo_app.config["STORAGE_DIR"])
    with demo_app.app_context():
        document = db.session.get(ArchiveDocument, document_id)
        assert [v.number for v in document.versions] == [1, 2]
        assert storage.path_for(document.versions[0].sha256).read_bytes() == SCAN  # untouched
        db.session.remove()


def test_a_program_posing_as_a_pdf_is_refused_and_the_title_kept(demo_app):
    client = login(demo_app.test_client(), "registratura")
    entry_id = registered_entry(demo_app, client)
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    response = add_file(client, entry_id, program, "cerere.pdf", title="Cererea semnată")
    assert response.status_code == 422
    html = response.text
    assert "«Fișier»: tipul fișierului nu este permis (se acceptă: PDF, PNG, JPEG, TIFF)." in html
    assert 'value="Cererea semnată"' in html                # what was typed is still there
    assert 'id="doc-file" name="file"' in html and 'aria-invalid="true"' in html
    page = add_file(client, entry_id, b"<html><script>alert(1)</script></html>", "scan.pdf")
    assert page.status_code == 422 and "tipul fișierului nu este permis" in page.text
    no_file = post(client, f"/arhiva/inregistrari/{entry_id}/documente", {"title": "Anexa"},
                   page_url=f"/registratura/{entry_id}")
    assert no_file.status_code == 422
    assert "«Fișier»: alegeți fișierul de încărcat." in no_file.text
    from webapp.database import db
    with demo_app.app_context():
        titles = db.session.execute(select(ArchiveDocument.title)).scalars().all()
        db.session.remove()
    assert titles == ["Petiția scanată"]                   # nothing else was kept


def test_reading_needs_the_entry_and_every_download_is_audited(demo_app):
    client = login(demo_app.test_client(), "registratura")
    entry_id = registered_entry(demo_app, client)
    link = document_links(client.get(f"/registratura/{entry_id}").text)["Petiția scanată"]
    document_id = int(re.search(r"/documente/(\d+)/", link).group(1))

    login(client, "functionar.urbanism")                   # another department
    assert client.get(link).status_code == 403
    assert client.get(f"/arhiva/documente/{document_id}/versiuni/1/miniatura.png"
                      ).status_code == 403
    assert add_file(client, entry_id, SCAN, "x.pdf").status_code == 403

    login(client, "primar")                                # reads every entry, adds nothing
    page = client.get(f"/registratura/{entry_id}").text
    assert "Petiția scanată" in page and "Adaugă un document" not in page
    assert add_file(client, entry_id, SCAN, "x.pdf").status_code == 403
    assert client.get(link).data == SCAN

    login(client, "sef.relatii")
    assert client.get(link).status_code == 200
    from webapp.database import db
    with demo_app.app_context():
        reads = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "archive.document_read").order_by(AuditEvent.id)).scalars().all()
        assert [e.actor for e in reads] == ["primar", "sef.relatii"]
        assert all(e.object_ref == f"entry:{entry_id}" for e in reads)
        assert json.loads(reads[0].after_json)["version"] == 1
        db.session.remove()
    assert "a descărcat documentul" in client.get(f"/registratura/{entry_id}").text


def test_text_state_searchable_pdf_thumbnail_and_a_destroyed_document(demo_app):
    client = login(demo_app.test_client(), "registratura")
    entry_id = registered_entry(demo_app, client)
    add_file(client, entry_id, pdf_bytes("Anexa"), "anexa.pdf", title="Anexa")
    storage = LocalStorage(demo_app.config["STORAGE_DIR"])
    searchable = pdf_bytes("Petitie cu strat de text")
    thumb = io.BytesIO()
    Image.new("RGB", (60, 85), "white").save(thumb, "PNG")
    from webapp.database import db
    with demo_app.app_context():
        scan, annex = db.session.execute(select(ArchiveDocument).order_by(
            ArchiveDocument.id)).scalars().all()
        version = scan.current
        version.text_status, version.text_source, version.pages = "done", "ocr", 1
        version.searchable_sha256 = storage.put(io.BytesIO(searchable))[0]
        version.thumbnail_sha256 = storage.put(io.BytesIO(thumb.getvalue()))[0]
        annex.current.text_status = "failed"
        annex.current.text_error = "pagina nu se poate citi"
        db.session.commit()
        scan_id = scan.id
        db.session.remove()
    page = client.get(f"/registratura/{entry_id}").text
    assert "text extras" in page and "OCR eșuat: pagina nu se poate citi" in page
    assert "1 pagină" in page
    pdf_link = re.search(r'<a class="searchable" href="([^"]+)">PDF căutabil</a>', page).group(1)
    response = client.get(pdf_link)
    assert response.data == searchable and "petitie-cautabil.pdf" in response.headers[
        "Content-Disposition"]
    thumbnail = f"/arhiva/documente/{scan_id}/versiuni/1/miniatura.png"
    assert f'src="{thumbnail}"' in page
    assert client.get(thumbnail).data == thumb.getvalue()

    # The disposal carried out under an approved list: the row stays as the record.
    with demo_app.app_context():
        nomenclator = NomenclatorFile(code="TST-1", department="relatii-publice",
                                      title="Petiții", retention_years=1)
        db.session.add(nomenclator)
        db.session.flush()
        folder = ArchiveFolder(nomenclator_file_id=nomenclator.id, year=2026, status="disposed")
        approved = DisposalList(status="executed", approval_act="PV nr. 7/12.01.2028")
        db.session.add_all([folder, approved])
        db.session.flush()
        db.session.add(DestructionRecord(folder_id=folder.id, list_id=approved.id,
                                         destroyed_by="arhivar", approval_act=approved.approval_act,
                                         metadata_json="{}"))
        db.session.get(RegisterEntry, entry_id).folder_id = folder.id
        db.session.get(ArchiveDocument, scan_id).destroyed_at = datetime(2028, 1, 15, 10, 0)
        db.session.commit()
        db.session.remove()
    page = client.get(f"/registratura/{entry_id}").text
    assert "eliminat la 15.01.2028" in page and "proces-verbal PV nr. 7/12.01.2028" in page
    assert pdf_link not in page and "Petiția scanată" not in document_links(page)
    assert client.get(f"/arhiva/documente/{scan_id}/versiuni/1/original").status_code == 404


def test_a_file_from_a_task_form_joins_the_entrys_documents(demo_app):
    client = login(demo_app.test_client(), "registratura")
    entry_id = registered_entry(demo_app, client)
    login(client, "sef.relatii")
    task_id = open_task_id(client, "Repartizare")
    post(client, f"/sarcini/{task_id}/preia", {}, page_url=f"/sarcini/{task_id}")
    post(client, f"/sarcini/{task_id}/finalizeaza",
         {"assignment_decision": "repartizat", "assigned_clerk": "functionar.relatii"},
         page_url=f"/sarcini/{task_id}")

    login(client, "functionar.relatii")
    task_id = open_task_id(client, "Redactare răspuns", view="mine")
    answer = pdf_bytes("Raspuns pe hartie cu antet")
    response = post(client, f"/sarcini/{task_id}/finalizeaza",
                    {"answer": "Iluminatul va fi reparat în 10 zile.", "outcome": "favorabil",
                     "answer_file": (io.BytesIO(answer), "raspuns-semnat.pdf")},
                    page_url=f"/sarcini/{task_id}")
    assert response.status_code == 302, response.text
    page = client.get(f"/registratura/{entry_id}").text
    links = document_links(page)
    assert "Răspunsul redactat (fișier)" in links and "raspuns-semnat.pdf" in page
    assert client.get(links["Răspunsul redactat (fișier)"]).data == answer
    assert "din formular" in page


def scanned_pdf(line: str) -> bytes:
    """A page as a scanner gives it: a picture of text, no text layer."""
    import img2pdf
    from PIL import ImageDraw, ImageFont
    page = Image.new("L", (1240, 600), 255)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 44)
    ImageDraw.Draw(page).text((80, 120), line, font=font, fill=0)
    picture = io.BytesIO()
    page.save(picture, "JPEG", quality=90, dpi=(150, 150))
    return img2pdf.convert(picture.getvalue())


@pytest.mark.slow
def test_after_ocr_the_page_offers_the_searchable_pdf_and_verify_checks_it(demo_app):
    """The real text extraction job (Tesseract) runs on the desk's scan; the entry page
    then shows its thumbnail and searchable PDF, and the archive check covers them."""
    from connectors.jobs.queue import run_pending
    from webapp.database import db
    scan = scanned_pdf("Cerere iluminat public strada Lunga")
    client = login(demo_app.test_client(), "registratura")
    assert register_petition(client, scan=(io.BytesIO(scan), "scanare.pdf")).status_code == 302
    with demo_app.app_context():
        entry_id = db.session.execute(select(ProcessInstance.document_id)).scalar_one()
        outcomes = run_pending(db.session, kinds=("archive.extract_text",))
        assert [o.status for o in outcomes] == ["done"]
        db.session.remove()
    page = client.get(f"/registratura/{entry_id}").text
    assert "text extras" in page and "1 pagină" in page and "în așteptare" not in page
    pdf_link = re.search(r'<a class="searchable" href="([^"]+)">', page).group(1)
    searchable = client.get(pdf_link).data
    assert searchable.startswith(b"%PDF-") and searchable != scan
    thumbnail = re.search(r'<img class="thumbnail" src="([^"]+)"', page).group(1)
    assert client.get(thumbnail).data.startswith(b"\x89PNG")
    result = demo_app.test_cli_runner().invoke(args=["archive", "verify", "--json"])
    report = json.loads(result.output)
    # original, searchable PDF, text and thumbnail
    assert result.exit_code == 0 and report["checked"] == 4 and report["ok"]
