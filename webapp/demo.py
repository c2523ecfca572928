"""The demo town hall: departments, one user per role, registers, procedures.

Loading is idempotent: running `dosar demo` again keeps existing data.
"""
from datetime import date
from pathlib import Path

from sqlalchemy import select

from connectors.registry.models import NomenclatorFile, Register
from engine.deployment import deploy_folder
from engine.models_org import SigningDelegation
from webapp.auth.models import Department, User, UserGroup
from webapp.auth.passwords import hash_password
from webapp.database import db

DEMO_PASSWORD = "demo1234"

DEPARTMENTS = {
    "registratura": "Registratura",
    "relatii-publice": "Relații cu publicul",
    "urbanism": "Urbanism",
    "taxe": "Taxe și impozite",
    "stare-civila": "Stare civilă",
    "comert": "Comerț și autorizări",
    "secretar": "Secretar general",
    "primar": "Primar",
}

# username, full name, department, groups, role shown to the person trying the demo
USERS = [
    ("registratura", "Maria Popescu", "registratura", ["registratura"], "registratură"),
    ("primar", "Ion Ionescu", "primar", ["primar"], "primar (semnează)"),
    ("secretar", "Elena Marin", "secretar",
     ["secretar", "sef-secretar", "dept-secretar", "comisie-arhiva"],
     "secretar general (președinte al comisiei de arhivă)"),
    ("arhivar", "Doina Stoica", "secretar", ["arhiva"], "arhivar"),
    ("sef.relatii", "Andrei Stan", "relatii-publice", ["sef-relatii-publice"],
     "șef Relații cu publicul"),
    ("functionar.relatii", "Ioana Dumitru", "relatii-publice", ["dept-relatii-publice"],
     "funcționar Relații cu publicul"),
    ("functionar2.relatii", "Mihai Georgescu", "relatii-publice", ["dept-relatii-publice"],
     "funcționar Relații cu publicul"),
    ("sef.urbanism", "Cristina Pop", "urbanism", ["sef-urbanism"], "arhitect-șef (Urbanism)"),
    ("functionar.urbanism", "Radu Constantin", "urbanism", ["dept-urbanism"],
     "funcționar Urbanism"),
    ("sef.taxe", "Gabriela Niculescu", "taxe", ["sef-taxe"], "șef Taxe și impozite"),
    ("functionar.taxe", "Victor Ene", "taxe", ["dept-taxe"], "funcționar Taxe și impozite"),
    ("sef.stare-civila", "Ana Munteanu", "stare-civila", ["sef-stare-civila"],
     "șef Stare civilă"),
    ("functionar.stare-civila", "Daniel Lazăr", "stare-civila", ["dept-stare-civila"],
     "funcționar Stare civilă"),
    ("sef.comert", "Alina Vasilescu", "comert", ["sef-comert"], "șef Comerț și autorizări"),
    ("functionar.comert", "Bogdan Tudor", "comert", ["dept-comert"],
     "funcționar Comerț și autorizări"),
    ("viceprimar", "Florin Radu", "primar", ["viceprimar"], "viceprimar (semnează)"),
    ("admin", "Administrator", None, ["admin"], "administrator"),
    ("analist", "Ana Vlad", "secretar", ["analist"], "analist (publică procedurile)"),
    ("auditor", "Sorin Matei", None, ["auditor"], "auditor (citește jurnalul de audit)"),
]

# code, name, prefix, kind, department (a series of its own)
REGISTERS = [
    ("general", "Registrul general de intrare-ieșire", "", "in_out", None),
    ("intern", "Registrul documentelor interne", "INT-", "internal", None),
    ("urbanism", "Registrul Urbanism", "URB-", "department", "urbanism"),
]

# code, department, title, retention in years (None = permanent)
NOMENCLATOR = [
    ("RP-1", "relatii-publice", "Petiții, sesizări și reclamații", 5),
    ("RP-2", "relatii-publice", "Solicitări de informații de interes public (Legea 544/2001)", 3),
    ("RP-3", "relatii-publice", "Corespondență cu alte autorități", 3),
    ("URB-1", "urbanism", "Certificate de urbanism", 30),
    ("URB-2", "urbanism", "Autorizații de construire și desființare", None),
    ("TX-1", "taxe", "Certificate de atestare fiscală", 5),
    ("SC-1", "stare-civila", "Registre de stare civilă", None),
    ("COM-1", "comert", "Acorduri de funcționare", 10),
    ("SG-1", "secretar", "Dispoziții ale primarului", None),
]


def load_demo(processes_dir: Path) -> list[tuple[str, str, str]]:
    session = db.session
    for code, name in DEPARTMENTS.items():
        if session.get(Department, code) is None:
            session.add(Department(code=code, name=name))
    for code, name, prefix, kind, department in REGISTERS:
        if session.execute(select(Register).where(Register.code == code)).scalar_one_or_none() is None:
            session.add(Register(code=code, name=name, prefix=prefix, kind=kind,
                                 department=department))
    for code, department, title, years in NOMENCLATOR:
        if session.execute(select(NomenclatorFile).where(
                NomenclatorFile.code == code)).scalar_one_or_none() is None:
            session.add(NomenclatorFile(code=code, department=department, title=title,
                                        retention_years=years))
    session.flush()
    password_hash = hash_password(DEMO_PASSWORD)
    for username, full_name, department, groups, _ in USERS:
        if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            continue
        session.add(User(username=username, full_name=full_name, department_code=department,
                         password_hash=password_hash,
                         memberships=[UserGroup(group_code=g) for g in groups]))
    session.commit()
    if session.execute(select(SigningDelegation)).first() is None:
        # The general secretary signs for the mayor this year (Dispoziția nr. 1).
        year = date.today().year
        session.add(SigningDelegation(holder="secretar", act_reference=f"Dispoziția nr. 1/{year}",
                                      starts_on=date(year, 1, 1), ends_on=date(year, 12, 31),
                                      scope="corespondență curentă", created_by="demo"))
        session.commit()
    for folder in sorted(p for p in processes_dir.iterdir() if (p / "procedure.json").exists()):
        deploy_folder(session, folder, actor="demo")
        session.commit()
    return [(u, n, role) for u, n, _, _, role in USERS]
