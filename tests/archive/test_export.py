"""A folder exported as a ZIP: every current file (and its searchable PDF), each
document's metadata sheet in JSON and XML, the folder's own description, and a
sha256sum manifest that checks every file in it."""
import hashlib
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from datetime import date

import pytest

from archive.documents import ArchiveError, add_version
from archive.export import MANIFEST, export_folder, export_name
from archive.metadata import NAMESPACE, metadata_sheet, to_xml
from archive.storage import LocalStorage
from retention_testkit import archived, close_session, folder, keep, open_session

TOWN_HALL = "Primăria Comunei Exemplu"
NS = {"m": NAMESPACE}


@pytest.fixture
def session(database_url):
    s = open_session(database_url)
    yield s
    close_session(s)


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "files")


@pytest.fixture
def rp1(session, storage):
    """RP-1/2026 with two petitions; the first has two documents (one replaced once and
    with a searchable PDF), the second one scan."""
    first = archived(session, "RP-1", date(2026, 3, 2), sender_date=date(2026, 2, 27),
                     summary="Iluminat public pe strada Florilor")
    request = keep(session, storage, first, b"%PDF-1.4 cerere v1", filename="cerere ștampilată.pdf",
                   keywords="iluminat, strada Florilor", paper_location="Arhiva, raft 3, cutia 12")
    add_version(session, storage, request, io.BytesIO(b"%PDF-1.4 cerere v2"),
                filename="cerere ștampilată.pdf", content_type="application/pdf",
                actor="registratura", note="scanare mai clară")
    searchable, _ = storage.put(io.BytesIO(b"%PDF-1.4 cerere v2 cu text"))
    request.current.searchable_sha256 = searchable
    answer = keep(session, storage, first, b"%PDF-1.4 raspuns", filename="raspuns.pdf",
                  title="Răspuns")
    second = archived(session, "RP-1", date(2026, 4, 6), sender_name="Ion Vasile")
    scan = keep(session, storage, second, b"\x89PNG scan", filename="scan.png",
                content_type="image/png")
    session.commit()
    return {"first": first, "second": second, "request": request, "answer": answer, "scan": scan}


def export(session, storage, tmp_path, label=("RP-1", 2026)):
    path = tmp_path / export_name(folder(session, *label))
    with path.open("wb") as out:
        export_folder(session, storage, folder(session, *label), TOWN_HALL, out)
    return zipfile.ZipFile(path)


def test_the_zip_holds_the_files_the_sheets_and_a_manifest_that_checks_them(session, storage,
                                                                            tmp_path, rp1):
    request, answer, scan = rp1["request"], rp1["answer"], rp1["scan"]
    with export(session, storage, tmp_path) as zf:
        names = zf.namelist()
        u = lambda d: d.uid[:8]      # noqa: E731
        assert sorted(n for n in names if n.startswith("documents/")) == sorted([
            f"documents/1-02.03.2026/{u(request)}_cerere_stampilata.pdf",
            f"documents/1-02.03.2026/{u(request)}_cerere_stampilata-cautabil.pdf",
            f"documents/1-02.03.2026/{u(answer)}_raspuns.pdf",
            f"documents/2-06.04.2026/{u(scan)}_scan.png"])
        # Only the current version goes in; the searchable PDF beside it.
        assert zf.read(f"documents/1-02.03.2026/{u(request)}_cerere_stampilata.pdf") \
            == b"%PDF-1.4 cerere v2"
        for d in (request, answer, scan):
            assert f"metadata/{d.uid}.json" in names and f"metadata/{d.uid}.xml" in names
        assert {"dosar.json", "dosar.xml", MANIFEST} <= set(names)

        manifest = [line.split("  ", 1) for line in zf.read(MANIFEST).decode().splitlines()]
        listed = {name: sha for sha, name in manifest}
        assert set(listed) == set(names) - {MANIFEST}       # every file, and only those
        for name, sha in listed.items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == sha, name

        sheet = json.loads(zf.read(f"metadata/{request.uid}.json"))
        assert sheet["uid"] == request.uid
        assert sheet["owner"] == TOWN_HALL and sheet["issuer"] == "Maria Popescu"
        assert sheet["classification"] == {"file_code": "RP-1", "file_title":
                                           "Petiții, sesizări și reclamații",
                                           "department": "relatii-publice", "folder": "RP-1/2026"}
        assert sheet["format"]["version"] == 2 and sheet["format"]["content_type"] == "application/pdf"
        assert sheet["keywords"] == ["iluminat", "strada Florilor"]
        assert sheet["paper_location"] == "Arhiva, raft 3, cutia 12"
        assert (sheet["issue_date"], sheet["archiving_date"]) == ("2026-02-27", "2026-03-02")
        assert sheet["retention"]["term"] == "5" and sheet["retention"]["disposable_from"] == "2032-01-01"
        actions = [e["action"] for e in sheet["history"]]
        assert actions.count("archive.document_added") == 2 and "archive.filed" in actions
        assert "archive.version_added" in actions

        root = ET.fromstring(zf.read(f"metadata/{request.uid}.xml"))
        assert root.tag == f"{{{NAMESPACE}}}document"
        assert root.findtext("m:uid", namespaces=NS) == request.uid
        assert root.findtext("m:classification/m:file_code", namespaces=NS) == "RP-1"
        assert [k.text for k in root.findall("m:keywords/m:keyword", NS)] == [
            "iluminat", "strada Florilor"]
        assert len(root.findall("m:versions/m:version", NS)) == 2

        folder_xml = ET.fromstring(zf.read("dosar.xml"))
        assert folder_xml.findtext("m:folder", namespaces=NS) == "RP-1/2026"
        assert [e.findtext("m:number", namespaces=NS)
                for e in folder_xml.findall("m:entries/m:entry", NS)] == ["1/02.03.2026",
                                                                          "2/06.04.2026"]
        assert json.loads(zf.read("dosar.json"))["owner"] == TOWN_HALL


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_stored_file_that_changed_stops_the_export(session, storage, tmp_path, rp1):
    path = storage.path_for(rp1["scan"].current.sha256)
    path.chmod(0o644)
    path.write_bytes(b"\x89PNG altered")
    with pytest.raises(ArchiveError, match="a fost alterat"):
        export(session, storage, tmp_path)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_outgoing_document_is_issued_by_the_town_hall_and_xml_escapes_text(session, storage):
    entry = archived(session, "RP-2", date(2026, 5, 5), direction="out",
                     sender_name="", summary="Răspuns <urgent> & „complet”")
    doc = keep(session, storage, entry, b"%PDF-1.4 out", title='Adresă "ieșire" <1>')
    session.commit()
    sheet = metadata_sheet(session, doc, TOWN_HALL)
    assert sheet["issuer"] == TOWN_HALL and sheet["issue_date"] == "2026-05-05"
    root = ET.fromstring(to_xml(sheet))
    assert root.findtext("m:title", namespaces=NS) == 'Adresă "ieșire" <1>'
    assert root.findtext("m:register/m:summary", namespaces=NS) == "Răspuns <urgent> & „complet”"
