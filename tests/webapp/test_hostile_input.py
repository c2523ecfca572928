"""Hostile input through the real screens: decompression bombs refused before decoding,
file names stripped of paths and control characters wherever they are kept or offered
for download, files kept outside the web root, and a hostile script in a deployed
procedure stopped with a clear message while the app goes on serving."""
import io
import re
import struct
import time
import zlib
from pathlib import Path

from sqlalchemy import select

from archive.models import ArchiveDocument, ArchiveVersion, ScanBatch
from engine.models import ProcessInstance

from webapp_testkit import login, post, register_petition

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width=50_000, height=50_000) -> bytes:
    """A 100-byte PNG declaring width × height grey pixels (2.5 GB decoded)."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def tiff_bomb(width=50_000, height=50_000) -> bytes:
    """A little-endian TIFF whose one page declares width × height pixels."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height),
               (279, 4, 1, width * height & 0xFFFFFFFF)]
    ifd_offset = 8 + 16
    header = b"II*\x00" + struct.pack("<I", ifd_offset) + b"\0" * 16
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, count, value) if kind == 4 else
        struct.pack("<HHIHH", tag, kind, count, value, 0) for tag, kind, count, value in entries)
    return header + ifd + struct.pack("<I", 0)


def registered_entry(app, client) -> int:
    assert register_petition(client, scan=(io.BytesIO(PDF), "petitie.pdf")).status_code == 302
    from webapp.database import db
    with app.app_context():
        entry_id = db.session.execute(select(ProcessInstance.document_id)).scalar_one()
        db.session.remove()
    return entry_id


def add_file(client, entry_id, data, filename):
    return post(client, f"/arhiva/inregistrari/{entry_id}/documente",
                {"file": (io.BytesIO(data), filename), "title": ""},
                page_url=f"/registratura/{entry_id}")


def test_the_bombs_really_declare_huge_images():
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None            # only to read the headers in this check
    try:
        for data in (png_bomb(), tiff_bomb()):
            with Image.open(io.BytesIO(data)) as image:
                assert image.size == (50_000, 50_000)
    finally:
        Image.MAX_IMAGE_PIXELS = 120_000_000


def test_decompression_bombs_are_refused_before_decoding_on_every_upload_screen(demo_app):
    client = login(demo_app.test_client(), "registratura")
    entry_id = registered_entry(demo_app, client)
    message = "imaginea declară prea mulți pixeli"
    started = time.monotonic()
    # A document on the entry's page (PNG and TIFF).
    for data, name in ((png_bomb(), "bomba.png"), (tiff_bomb(), "bomba.tif")):
        response = add_file(client, entry_id, data, name)
        assert response.status_code == 422 and message in response.text
    # A scanned batch (TIFF).
    response = post(client, "/arhiva/scanari", {"batch": (io.BytesIO(tiff_bomb()), "lot.tif")},
                    page_url="/arhiva/scanari")
    assert response.status_code == 422 and message in response.text
    # A procedure form's file field (the desk's scan of a petition).
    response = register_petition(client, scan=(io.BytesIO(png_bomb()), "scan.png"))
    assert response.status_code != 302 and message in response.text
    assert time.monotonic() - started < 20
    from webapp.database import db
    with demo_app.app_context():
        assert db.session.scalar(select(ScanBatch.id)) is None
        names = db.session.execute(select(ArchiveVersion.filename)).scalars().all()
        assert not any(n.startswith("bomba") for n in names)
        db.session.remove()
    # A normal image still goes in.
    from PIL import Image
    small = io.BytesIO()
    Image.new("L", (200, 100), 255).save(small, "PNG")
    assert add_file(client, entry_id, small.getvalue(), "poza.png").status_code == 302
    assert client.get("/").status_code == 200


HOSTILE_NAMES = {
    "../../../etc/passwd.pdf": "passwd.pdf",
    # (CR/LF cannot pass a multipart header; the other control characters can)
    "raport\x07\x0b\x1fSet-Cookie: x=1.pdf": "raport___Set-Cookie: x=1.pdf",
    "..": "fisier",
    "a" * 5000 + ".pdf": "a" * 146 + ".pdf",
    "cerere\x00\x1b[31m.pdf": "cerere__[31m.pdf",
}


def test_the_name_rules():
    from archive.filenames import safe_filename
    assert safe_filename("C:\\Windows\\system32\\evil.pdf") == "evil.pdf"
    assert safe_filename("a\r\nb.pdf") == "a__b.pdf"
    assert safe_filename("...hidden") == "hidden"
    assert safe_filename("Cerere înțelegere.pdf") == "Cerere înțelegere.pdf"
    assert safe_filename(None) == safe_filename("") == safe_filename("/") == "fisier"
    assert len(safe_filename("x" * 300)) == 150


def test_file_names_are_sanitised_where_kept_and_in_download_headers(demo_app):
    client = login(demo_app.test_client(), "registratura")
    entry_id = registered_entry(demo_app, client)
    for index, raw in enumerate(HOSTILE_NAMES):
        data = PDF + f"% {index}\n".encode()
        assert add_file(client, entry_id, data, raw).status_code == 302, raw
    # The desk's form upload (kept in the instance's data).
    response = register_petition(client, scan=(io.BytesIO(PDF + b"% desk"), "../../x/\x1b\x08scan.pdf"))
    assert response.status_code == 302
    from webapp.database import db
    with demo_app.app_context():
        kept = {v.filename for v in db.session.execute(select(ArchiveVersion)).scalars()}
        documents = db.session.execute(select(ArchiveDocument)).scalars().all()
        ids = {d.id: d.current.filename for d in documents}
        data_names = [i.workflow_json for i in db.session.execute(select(ProcessInstance)).scalars()]
        db.session.remove()
    for expected in HOSTILE_NAMES.values():
        assert expected in kept
    assert "__scan.pdf" in kept
    for name in kept:
        assert "/" not in name and "\\" not in name and ".." not in name
        assert not re.search(r"[\x00-\x1f\x7f]", name) and len(name) <= 150
    assert not any("../" in text for text in data_names)
    for document_id, name in ids.items():
        response = client.get(f"/arhiva/documente/{document_id}/versiuni/1/original")
        assert response.status_code == 200
        header = response.headers["Content-Disposition"]
        assert "\r" not in header and "\n" not in header and "/" not in header.split("filename")[1]


def test_files_are_stored_outside_the_web_root(demo_app):
    storage = Path(demo_app.config["STORAGE_DIR"]).resolve()
    static = Path(demo_app.static_folder).resolve()
    package = Path(demo_app.root_path).resolve()
    assert not storage.is_relative_to(static) and not storage.is_relative_to(package)
    client = login(demo_app.test_client(), "registratura")
    registered_entry(demo_app, client)
    stored = next(p for p in storage.rglob("*") if p.is_file() and len(p.name) == 64)
    relative = stored.relative_to(storage).as_posix()
    for url in (f"/static/{relative}", f"/static/../{relative}", f"/files/{relative}",
                f"/static/%2e%2e/%2e%2e/{relative}"):
        assert client.get(url).status_code == 404, url


DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="ostil_definitions" targetNamespace="http://dosar.example/bpmn">
  <bpmn:process id="ostil" name="Ostil" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="bucla" name="Calcul ostil">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="bucla" />
    <bpmn:sequenceFlow id="f2" sourceRef="bucla" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_hostile_script_at_the_desk_is_stopped_and_the_app_goes_on(demo_app, tmp_path):
    """A procedure whose first script loops forever, registered at the desk: the clerk
    sees the step named, nothing is registered, and the next requests are served."""
    import shutil
    from engine import sandbox
    from engine.deployment import deploy_folder
    from webapp.database import db
    folder = tmp_path / "ostil"
    shutil.copytree(Path(demo_app.config["PROCESSES_DIR"]) / "petition", folder)
    import json
    meta = json.loads((folder / "procedure.json").read_text())
    meta.update(name="ostil", title="Procedură ostilă", process_id="ostil", libraries=[])
    (folder / "procedure.json").write_text(json.dumps(meta), encoding="utf-8")
    for bpmn in folder.glob("*.bpmn"):
        bpmn.unlink()
    (folder / "ostil.bpmn").write_text(DIAGRAM.format(script="while True:\n    pass"),
                                       encoding="utf-8")
    with demo_app.app_context():
        deploy_folder(db.session, folder)
        db.session.commit()
        db.session.remove()
    before = sandbox.current_limits()
    sandbox.configure(sandbox.ScriptLimits(seconds=0.5))
    try:
        client = login(demo_app.test_client(), "registratura")
        from webapp_testkit import REGISTRATION
        started = time.monotonic()
        response = post(client, "/registratura/nou", {**REGISTRATION, "procedura": "ostil"},
                        page_url="/registratura/nou?procedura=ostil")
        assert time.monotonic() - started < 5
        assert response.status_code in (200, 422)
        assert "Scriptul pasului «Calcul ostil» a fost oprit" in response.text
        assert "timpul permis" in response.text
    finally:
        sandbox.configure(before)
    assert client.get("/").status_code == 200
    assert register_petition(client, scan=(io.BytesIO(PDF), "petitie.pdf")).status_code == 302


def test_dosar_deploy_refuses_hostile_xml_and_scripts_naming_them(tmp_path, monkeypatch):
    """There is no web screen for procedures: they are deployed with `dosar deploy`.
    An entity bomb, an XXE diagram and a diagram whose script imports `os` are refused
    there, naming the file or element, and nothing is published."""
    import shutil
    from click.testing import CliRunner
    from webapp.cli import main
    monkeypatch.setenv("DOSAR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DOSAR_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    root = Path(__file__).resolve().parents[2]
    laughs = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY a{i} "{("&a" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                        for i in range(1, 10)) + ']><d>&a9;</d>')
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    cases = {"laughs.bpmn": laughs, "xxe.dmn": xxe,
             "ostil.bpmn": DIAGRAM.format(script="import os\nx = os.listdir('/')")}
    for name, text in cases.items():
        folder = tmp_path / name.replace(".", "_")
        shutil.copytree(root / "tests" / "engine" / "procedures" / "loop", folder)
        (folder / name).write_text(text, encoding="utf-8")
        if name == "ostil.bpmn":            # the procedure's own process is the hostile one
            (folder / "loop.bpmn").unlink()
            (folder / "procedure.json").write_text(
                '{"name": "ostil", "title": "Ostil", "process_id": "ostil"}', encoding="utf-8")
        started = time.monotonic()
        result = runner.invoke(main, ["deploy", str(folder)])
        assert time.monotonic() - started < 10
        assert result.exit_code != 0, result.output
        if name == "ostil.bpmn":
            assert "nu pot importa" in result.output and "Calcul ostil (bucla)" in result.output
        else:
            assert "DOCTYPE" in result.output and f"fișierul {name}" in result.output
        assert "root:" not in result.output
    ok = runner.invoke(main, ["deploy", str(root / "tests" / "engine" / "procedures" / "loop")])
    assert ok.exit_code == 0 and "publicată" in ok.output


def test_the_archive_never_decodes_a_bomb_nor_renders_a_giant_page():
    """Behind the screens (scan folder, OCR, thumbnails) the archive's page reader
    refuses an image whose any page declares too many pixels, even just over the limit
    where Pillow would only warn, and renders a 200-inch PDF page within the limit."""
    import pytest
    from PIL import Image
    from reportlab.pdfgen import canvas
    from archive.pages import UnreadableFile, count_pages, iter_pages
    with pytest.raises(UnreadableFile, match="declară 12000 × 12000 pixeli"):
        count_pages(tiff_bomb(12_000, 12_000), "image/tiff")     # 144 MP: Pillow only warns
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(14_400, 14_400))
    page.drawString(72, 72, "Plan")
    page.save()
    started = time.monotonic()
    rendered = next(iter_pages(out.getvalue(), "application/pdf", dpi=300, with_text=False))
    width, height = rendered.image.size
    assert width * height <= Image.MAX_IMAGE_PIXELS and width > 5000
    assert rendered.dpi < 300 and time.monotonic() - started < 30
