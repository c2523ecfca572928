"""The nomenclator, folder and disposal screens as the demo town hall's people use
them: a clerk reads but cannot propose or approve, the archivist proposes and
executes, the commission (the general secretary) approves with its act, and a legal
hold or a missing approval keeps every file where it is."""
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from archive.documents import add_document
from archive.metadata import NAMESPACE
from archive.models import ArchiveFolder, DisposalList
from archive.nomenclator import close_year
from archive.storage import LocalStorage
from connectors.registry.models import NomenclatorFile
from connectors.registry.numbering import register_document
from connectors.registry.service import archive_entry_operation
from webapp.auth.models import User, UserGroup
from webapp.database import db
from webapp_testkit import csrf, login

# The screens act on today's date; the 2019 folder of RP-1 (5 years) expired on 1.1.2025.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def town(demo_app):
    """Two archived 2019 petitions in RP-1/2019 (closed), one with a scan; a 2019
    disposition in SG-1 (permanent)."""
    with demo_app.app_context():
        session, storage = db.session, LocalStorage(demo_app.config["STORAGE_DIR"])
        found = {}
        for name, code, department in [("petition", "RP-1", "relatii-publice"),
                                       ("second", "RP-1", "relatii-publice"),
                                       ("disposition", "SG-1", "secretar")]:
            entry = register_document(session, "general", date(2019, 4, 1), "registratura",
                                      sender_name="Maria Popescu", department=department,
                                      summary=f"Document {name}", document_type="petitie")
            archive_entry_operation(SimpleNamespace(session=session, today=date(2019, 5, 2),
                                                    actor="ion"),
                                    {"registration": {"entry_id": entry.id}, "file_code": code})
            document = add_document(session, storage, entry, io.BytesIO(f"%PDF {name}".encode()),
                                    filename=f"{name}.pdf", content_type="application/pdf",
                                    actor="registratura")
            found[name] = SimpleNamespace(entry_id=entry.id, uid=document.uid,
                                          sha256=document.current.sha256)
        close_year(session, 2019, "arhivar", today=date(2020, 1, 10))
        session.commit()
        for code in ("RP-1", "SG-1"):
            found[code] = session.execute(select(ArchiveFolder.id).join(NomenclatorFile).where(
                NomenclatorFile.code == code)).scalar_one()
        found["storage"] = storage
    return found


def as_user(app, username):
    return login(app.test_client(), username)


def send(client, url, data, page="/arhiva/nomenclator", **kwargs):
    return client.post(url, data={**data, "csrf_token": csrf(client.get(page).text)}, **kwargs)


def list_ids(app, status):
    with app.app_context():
        return db.session.execute(select(DisposalList.id).where(
            DisposalList.status == status)).scalars().all()


def test_the_disposal_steps_each_need_their_own_people(demo_app, town):
    storage, rp1 = town["storage"], town["RP-1"]
    clerk = as_user(demo_app, "functionar.relatii")
    assert clerk.get("/arhiva/eliminare").status_code == 403
    assert send(clerk, "/arhiva/eliminare/propune", {"dosar": rp1}).status_code == 403

    archivist = as_user(demo_app, "arhivar")
    page = archivist.get("/arhiva/eliminare").text
    assert 'data-folder="RP-1/2019"' in page
    assert "SG-1/2019" not in page                     # permanent: never on a list
    assert send(archivist, "/arhiva/eliminare/propune", {"dosar": rp1},
                page="/arhiva/eliminare").status_code == 302
    [list_id] = list_ids(demo_app, "proposed")
    decision = {"decizie": "aproba", "act": "PV nr. 12/15.01.2026", "nota": ""}
    assert send(archivist, f"/arhiva/eliminare/{list_id}/decizie", decision).status_code == 403
    assert send(clerk, f"/arhiva/eliminare/{list_id}/decizie", decision).status_code == 403

    secretary = as_user(demo_app, "secretar")           # sits on the archive commission
    refused = send(secretary, f"/arhiva/eliminare/{list_id}/decizie",
                   {"decizie": "aproba", "act": "", "nota": "Verificat."},
                   page="/arhiva/eliminare")
    assert refused.status_code == 422
    assert "Aprobarea cere actul comisiei" in refused.text
    assert 'value="Verificat."' in refused.text          # what was typed comes back
    # Nothing is executed before the approval.
    assert send(archivist, f"/arhiva/eliminare/{list_id}/executa", {"confirm": "1"}).status_code == 422
    assert storage.exists(town["petition"].sha256)

    assert send(secretary, f"/arhiva/eliminare/{list_id}/decizie", decision,
                page="/arhiva/eliminare").status_code == 302
    assert list_ids(demo_app, "approved") == [list_id]
    for person in (clerk, secretary):
        assert send(person, f"/arhiva/eliminare/{list_id}/executa",
                    {"confirm": "1"}).status_code == 403
    unconfirmed = send(archivist, f"/arhiva/eliminare/{list_id}/executa", {})
    assert unconfirmed.status_code == 422 and storage.exists(town["petition"].sha256)

    done = send(archivist, f"/arhiva/eliminare/{list_id}/executa", {"confirm": "1"},
                follow_redirects=True)
    assert done.status_code == 200
    assert "Dosare eliminate: 1; documente: 2; fișiere șterse: 2." in done.text
    assert not storage.exists(town["petition"].sha256)
    assert not storage.exists(town["second"].sha256)
    assert storage.exists(town["disposition"].sha256)
    record = re.search(r'<tr data-record="\d+">.*?</tr>', done.text, re.S).group(0)
    assert "RP-1/2019" in record and "PV nr. 12/15.01.2026" in record and "Doina Stoica" in record
    # The commission can read what happened; the metadata sheet stays.
    assert "PV nr. 12/15.01.2026" in secretary.get("/arhiva/eliminare").text
    sheet = secretary.get(f"/arhiva/documente/{town['petition'].uid}").text
    assert "au fost eliminate" in sheet


def test_the_proposer_cannot_approve_their_own_list(demo_app, town):
    with demo_app.app_context():
        archivist = db.session.execute(select(User).where(User.username == "arhivar")).scalar_one()
        archivist.memberships.append(UserGroup(group_code="comisie-arhiva"))
        db.session.commit()
    client = as_user(demo_app, "arhivar")
    send(client, "/arhiva/eliminare/propune", {"dosar": town["RP-1"]}, page="/arhiva/eliminare")
    [list_id] = list_ids(demo_app, "proposed")
    page = client.get("/arhiva/eliminare").text
    assert "Ați propus această listă; decide alt membru al comisiei." in page
    response = send(client, f"/arhiva/eliminare/{list_id}/decizie",
                    {"decizie": "aproba", "act": "PV nr. 1/2026"})
    assert response.status_code == 422
    assert "Cine a propus lista nu o poate și aproba" in response.text
    assert list_ids(demo_app, "proposed") == [list_id]


def test_a_legal_hold_keeps_a_folder_off_the_list_and_out_of_an_approved_one(demo_app, town):
    rp1, storage = town["RP-1"], town["storage"]
    archivist, secretary = as_user(demo_app, "arhivar"), as_user(demo_app, "secretar")
    send(archivist, "/arhiva/eliminare/propune", {"dosar": rp1}, page="/arhiva/eliminare")
    [list_id] = list_ids(demo_app, "proposed")
    send(secretary, f"/arhiva/eliminare/{list_id}/decizie",
         {"decizie": "aproba", "act": "PV nr. 3/10.01.2026"})

    clerk = as_user(demo_app, "functionar.relatii")
    hold_url = f"/arhiva/dosare/{rp1}/pastrare-legala"
    assert send(clerk, hold_url, {"actiune": "pune", "motiv": "x"}).status_code == 403
    missing = send(secretary, hold_url, {"actiune": "pune", "motiv": " "},
                   page=f"/arhiva/dosare/{rp1}")
    assert missing.status_code == 422 and "cere un motiv" in missing.text
    assert send(secretary, hold_url, {"actiune": "pune", "motiv": "Dosar 345/2025 Tribunalul Cluj"}
                ).status_code == 302
    assert "păstrare legală" in archivist.get(f"/arhiva/dosare/{rp1}").text

    done = send(archivist, f"/arhiva/eliminare/{list_id}/executa", {"confirm": "1"},
                follow_redirects=True)
    assert "Dosare eliminate: 0;" in done.text
    assert "RP-1/2019 nu a fost eliminat: dosarul RP-1/2019 este sub păstrare legală" in done.text
    assert storage.exists(town["petition"].sha256)
    # Not offered again while held.
    assert 'data-folder="RP-1/2019"' not in archivist.get("/arhiva/eliminare").text
    assert send(archivist, hold_url, {"actiune": "ridica", "motiv": "Hotărâre definitivă"}
                ).status_code == 302
    assert 'data-folder="RP-1/2019"' in archivist.get("/arhiva/eliminare").text


def test_folders_of_a_year_their_entries_and_the_zip_export(demo_app, town):
    rp1 = town["RP-1"]
    clerk = as_user(demo_app, "functionar.relatii")
    year = clerk.get("/arhiva/dosare?an=2019").text
    row = re.search(r'<tr data-folder="RP-1/2019">.*?</tr>', year, re.S).group(0)
    assert '<td class="count">2</td>' in row and "închis" in row
    assert "Închiderea anului" not in year                 # only the archivist closes
    assert clerk.get("/arhiva/dosare?an=doua-mii").status_code == 400
    folder = clerk.get(f"/arhiva/dosare/{rp1}").text
    assert f'href="/registratura/{town["petition"].entry_id}"' in folder
    assert f'href="/arhiva/documente/{town["petition"].uid}"' in folder
    assert "Export ZIP" not in folder
    assert clerk.get(f"/arhiva/dosare/{rp1}/export.zip").status_code == 403
    other = as_user(demo_app, "functionar.urbanism").get(f"/arhiva/dosare/{rp1}").text
    assert "Încă 2 documente ale altor compartimente." in other
    assert town["petition"].uid not in other

    response = as_user(demo_app, "arhivar").get(f"/arhiva/dosare/{rp1}/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "dosar-RP-1-2019.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        lines = zf.read("manifest-sha256.txt").decode().splitlines()
        assert len(lines) == len(zf.namelist()) - 1 == 2 + 4 + 2
        for line in lines:
            sha, name = line.split("  ", 1)
            assert hashlib.sha256(zf.read(name)).hexdigest() == sha
        assert json.loads(zf.read("dosar.json"))["owner"] == "Primăria demonstrativă"


def test_the_metadata_sheet_is_for_whoever_may_read_the_entry(demo_app, town):
    uid = town["petition"].uid
    clerk = as_user(demo_app, "functionar.relatii")
    page = clerk.get(f"/arhiva/documente/{uid}").text
    assert uid in page and "RP-1 — Petiții, sesizări și reclamații" in page
    assert "Maria Popescu" in page and "5 ani" in page
    sheet = json.loads(clerk.get(f"/arhiva/documente/{uid}.json").data)
    assert sheet["classification"]["folder"] == "RP-1/2019"
    root = ET.fromstring(clerk.get(f"/arhiva/documente/{uid}.xml").data)
    assert root.findtext(f"{{{NAMESPACE}}}uid") == uid
    outsider = as_user(demo_app, "functionar.urbanism")
    for suffix in ("", ".json", ".xml"):
        assert outsider.get(f"/arhiva/documente/{uid}{suffix}").status_code == 403
    assert clerk.get("/arhiva/documente/nu-exista").status_code == 404


def test_the_nomenclator_is_read_by_all_and_kept_by_the_archivist(demo_app, town):
    clerk = as_user(demo_app, "functionar.relatii")
    page = clerk.get("/arhiva/nomenclator").text
    assert 'data-code="RP-1"' in page and "Import din CSV" not in page
    upload = {"fisier": (io.BytesIO(b"RP-9;relatii-publice;Audiente;3\n"), "n.csv")}
    assert send(clerk, "/arhiva/nomenclator/import", upload).status_code == 403

    archivist = as_user(demo_app, "arhivar")
    bad = send(archivist, "/arhiva/nomenclator/import", {"fisier": (io.BytesIO(
        "cod;compartiment;titlu;termen\nRP-9;relatii-publice;Audiențe;zece\n"
        "RP-10;nicaieri;Altceva;3\n".encode("utf-8-sig")), "n.csv")})
    assert bad.status_code == 422
    assert "linia 2, termen: „zece” nu este P sau un număr de ani" in bad.text
    assert "linia 3, compartiment: „nicaieri” nu este un compartiment al primăriei" in bad.text
    assert 'data-code="RP-9"' not in archivist.get("/arhiva/nomenclator").text
    good = send(archivist, "/arhiva/nomenclator/import", {"fisier": (io.BytesIO(
        "RP-9,relatii-publice,Audiențe,3\n".encode()), "n.csv")}, follow_redirects=True)
    assert "Dosare noi: 1;" in good.text and 'data-code="RP-9"' in good.text

    with demo_app.app_context():
        rp1 = db.session.execute(select(NomenclatorFile).where(
            NomenclatorFile.code == "RP-1")).scalar_one().id
    shorter = send(archivist, "/arhiva/nomenclator", {
        "id": rp1, "cod": "RP-1", "compartiment": "relatii-publice", "titlu": "Petiții noi",
        "termen": "3", "activ": "1"})
    assert shorter.status_code == 422
    assert "nu poate fi scurtat la 3 ani" in shorter.text
    assert 'value="Petiții noi"' in shorter.text
    added = send(archivist, "/arhiva/nomenclator", {
        "cod": "RP-11", "compartiment": "relatii-publice", "titlu": "Sesizări online",
        "termen": "P"}, follow_redirects=True)
    assert "Dosarul RP-11 a fost salvat" in added.text


def test_closing_a_year_on_the_screen_and_from_the_command_line(demo_app, town, tmp_path):
    with demo_app.app_context():
        entry = register_document(db.session, "general", date(2024, 6, 3), "registratura",
                                  sender_name="Ion Pop", department="relatii-publice")
        archive_entry_operation(SimpleNamespace(session=db.session, today=date(2024, 6, 9),
                                                actor="ion"),
                                {"registration": {"entry_id": entry.id}, "file_code": "RP-2"})
        db.session.commit()
    clerk, archivist = as_user(demo_app, "functionar.relatii"), as_user(demo_app, "arhivar")
    assert send(clerk, "/arhiva/dosare/inchidere-an", {"an": "2024", "confirm": "1"}).status_code == 403
    unconfirmed = send(archivist, "/arhiva/dosare/inchidere-an", {"an": "2024"},
                       page="/arhiva/dosare?an=2024")
    assert unconfirmed.status_code == 422 and "Bifați confirmarea" in unconfirmed.text
    done = send(archivist, "/arhiva/dosare/inchidere-an", {"an": "2024", "confirm": "1"},
                page="/arhiva/dosare?an=2024", follow_redirects=True)
    assert "Anul 2024 a fost închis. Dosare închise: 1." in done.text
    assert re.search(r'data-folder="RP-2/2024">.*?închis', done.text, re.S)

    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["archive", "close-year", str(date.today().year)])
    assert result.exit_code != 0 and "nu s-a încheiat" in result.output
    csv_file = tmp_path / "nomenclator.csv"
    csv_file.write_text("cod;compartiment;titlu;termen\nTX-9;taxe;Restituiri;10\nTX-10;taxe;X;y\n",
                        encoding="utf-8")
    result = runner.invoke(args=["archive", "import-nomenclator", str(csv_file)])
    assert result.exit_code != 0 and "linia 3, termen: „y”" in result.output
    csv_file.write_text("TX-9;taxe;Restituiri;10\n", encoding="utf-8")
    result = runner.invoke(args=["archive", "import-nomenclator", str(csv_file), "--by", "arhivar"])
    assert result.exit_code == 0 and "Dosare noi: 1;" in result.output


def test_the_archive_menu_offers_each_person_what_they_may_open(demo_app):
    client = demo_app.test_client()
    menu = re.compile(r'<nav class="tabs archive-menu".*?</nav>', re.S)

    def links(username):
        login(client, username)
        html = menu.search(client.get("/arhiva/").text).group(0)
        return re.findall(r'href="(/arhiva/[^"]*)"', html)
    assert links("arhivar") == ["/arhiva/", "/arhiva/scanari", "/arhiva/nomenclator",
                                "/arhiva/dosare", "/arhiva/eliminare"]
    assert links("registratura") == ["/arhiva/", "/arhiva/scanari", "/arhiva/nomenclator",
                                     "/arhiva/dosare"]
    assert links("functionar.urbanism") == ["/arhiva/", "/arhiva/nomenclator", "/arhiva/dosare"]
