"""The demo town hall with real things in it, for the authorization tests: entries of
two departments (one of them confidential), their cases and tasks, the desk's scan
kept in the archive, a folder, a scan batch, an absence, a delegation, a disposal list,
a notification — and one logged-in client per role.

Relații cu publicul is the department of the clerk and head who stand for their roles;
Urbanism is "another department"."""
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import select

from webapp_testkit import csrf, login, post

# The demo person standing for each role (webapp/permissions.py ROLES); None: nobody
# logged in (citizens have no staff account).
REPRESENTATIVES = {
    "registrar": "registratura",
    "clerk": "functionar.relatii",
    "head": "sef.relatii",
    "signer": "primar",
    "archivist": "arhivar",
    "analyst": "analist",
    "administrator": "admin",
    "auditor": "auditor",
    "citizen": None,
}
OWN, OTHER = "relatii-publice", "urbanism"


def pdf_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 260), "white").save(out, format="PDF")
    return out.getvalue()


PDF = pdf_bytes()


@dataclass
class Case:
    entry_id: int
    instance_id: int
    task_id: int
    document_id: int
    document_uid: str
    scan_sha256: str


@dataclass
class Town:
    other: Case                    # Urbanism's petition
    own: Case                      # Relații cu publicul's petition
    confidential_other: Case       # Urbanism's confidential petition
    confidential_own: Case         # Relații cu publicul's confidential petition
    folder_id: int = 0
    batch_id: int = 0
    segment_id: int = 0
    absence_id: int = 0
    delegation_id: int = 0
    disposal_list_id: int = 0
    notification_id: int = 0
    clients: dict = field(default_factory=dict)


def register(app, client, department: str, summary: str, *, confidential=False) -> Case:
    """The desk registers a petition with its scan, for `department`."""
    from archive.models import ArchiveDocument
    from connectors.registry.models import RegisterEntry
    from engine.models import HumanTask, ProcessInstance
    from webapp.database import db
    data = {"procedura": "petition", "sender_name": f"Petent {summary.split()[0]}",
            "sender_address": "Str. Lungă nr. 3", "pages": "1", "summary": summary,
            "department": department, "scan": (io.BytesIO(PDF), "petitie.pdf")}
    if confidential:
        data["confidential"] = "1"
    response = post(client, "/registratura/nou", data,
                    page_url="/registratura/nou?procedura=petition")
    assert response.status_code == 302, response.text
    entry_id = int(re.search(r"/registratura/(\d+)/inregistrat", response.location).group(1))
    with app.app_context():
        entry = db.session.get(RegisterEntry, entry_id)
        assert entry.confidential is confidential
        instance = db.session.execute(select(ProcessInstance).where(
            ProcessInstance.document_id == entry_id)).scalar_one()
        task = db.session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalars().first()
        document = db.session.execute(select(ArchiveDocument).where(
            ArchiveDocument.entry_id == entry_id)).scalars().first()
        case = Case(entry_id, instance.id, task.id, document.id, document.uid,
                    document.current.sha256)
        db.session.remove()
    return case


def client_for(app, role: str):
    client = app.test_client()
    username = REPRESENTATIVES[role]
    if username is not None:
        login(client, username)
        client.csrf_token = csrf(client.get("/").text)
    else:
        client.csrf_token = csrf(client.get("/autentificare").text)
    return client


def build_town(app) -> Town:
    """Register the entries, then add the rest straight through the layers below."""
    from archive.models import DisposalList, ScanBatch, ScanSegment
    from archive.nomenclator import folder_for
    from archive.storage import LocalStorage
    from connectors.registry.models import NomenclatorFile
    from engine.models_org import SigningDelegation
    from engine.notifications import notify
    from engine.substitution import record_absence
    from webapp.database import db

    desk = login(app.test_client(), "registratura")
    town = Town(other=register(app, desk, OTHER, "Urbanism: sesizare despre un gard"),
                own=register(app, desk, OWN, "Relații: cerere de audiență la primar"),
                confidential_other=register(app, desk, OTHER, "Confidențial: ancheta "
                                            "socială a familiei Avram", confidential=True),
                confidential_own=register(app, desk, OWN, "Confidențial: plângere "
                                          "disciplinară despre un funcționar",
                                          confidential=True))
    with app.app_context():
        session = db.session
        storage = LocalStorage(app.config["STORAGE_DIR"])
        sha256, size = storage.put(io.BytesIO(PDF))
        batch = ScanBatch(sha256=sha256, filename="lot.pdf", pages=1, status="split",
                          received_by="registratura")
        session.add(batch)
        session.flush()
        segment = ScanSegment(batch_id=batch.id, position=1, first_page=1, last_page=1,
                              sha256=sha256, reason="fără cod de bare")
        session.add(segment)
        nomenclator_file = session.execute(select(NomenclatorFile).where(
            NomenclatorFile.code == "URB-1")).scalar_one()
        folder = folder_for(session, nomenclator_file, date.today().year)
        today = date.today()
        absence = record_absence(session, "functionar.urbanism", "sef.urbanism",
                                 today + timedelta(days=30), today + timedelta(days=31),
                                 "concediu", "sef.urbanism")
        delegation = SigningDelegation(holder="viceprimar", act_reference="Dispoziția nr. 9",
                                       starts_on=today, ends_on=today + timedelta(days=10),
                                       scope="test", created_by="primar")
        session.add(delegation)
        disposal = DisposalList(status="proposed", created_by="arhivar")
        session.add(disposal)
        note = notify(session, kind="reminder", message="Termenul se apropie (Urbanism)",
                      group_code=f"sef-{OTHER}", instance_id=town.other.instance_id)
        session.commit()
        town.folder_id, town.batch_id, town.segment_id = folder.id, batch.id, segment.id
        town.absence_id, town.delegation_id = absence.id, delegation.id
        town.disposal_list_id, town.notification_id = disposal.id, note.id
        session.remove()
    return town
