"""The nomenclator's yearly folders: archiving files an entry into the folder of its
year, a closed folder takes nothing more, the year is closed at its end, and the
nomenclator is imported from a CSV that is either right as a whole or not imported."""
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.documents import ArchiveError
from archive.models import ArchiveFolder
from archive.nomenclator import (NomenclatorImportError, close_year, decode_csv,
                                 import_nomenclator, save_file, check_fields)
from connectors.audit import AuditEvent
from connectors.registry.models import NomenclatorFile, RegisterEntry
from connectors.registry.numbering import RegistryError
from retention_testkit import (archive_entry, archived, close_session, folder, keep,
                               open_session, register)


# The core rules run on both databases; their variations on SQLite only (quicker).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def session(database_url):
    s = open_session(database_url)
    yield s
    close_session(s)


def events(session, action):
    return session.execute(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.id)).scalars().all()


def test_archiving_files_the_entry_into_its_nomenclator_file_of_the_year(session):
    first = archived(session, "RP-1", date(2026, 3, 2))
    second = archived(session, "RP-1", date(2026, 5, 4))
    old = register(session, date(2025, 12, 30))
    archive_entry(session, old, "RP-1", date(2026, 1, 8))   # answered after New Year
    session.commit()

    rp1_2026, rp1_2025 = folder(session, "RP-1", 2026), folder(session, "RP-1", 2025)
    assert (rp1_2026.label, rp1_2026.status) == ("RP-1/2026", "open")
    assert first.folder_id == second.folder_id == rp1_2026.id
    assert old.folder_id == rp1_2025.id          # the entry's own year, not the archiving day
    assert session.execute(select(ArchiveFolder)).scalars().all().__len__() == 2
    filed = events(session, "archive.filed")
    assert [e.object_ref for e in filed] == [f"entry:{first.id}", f"entry:{second.id}",
                                             f"entry:{old.id}"]
    assert "RP-1/2026" in filed[0].summary and filed[0].actor == "ion"   # who archived it


def test_a_closed_folder_refuses_documents_with_a_message_naming_it(session):
    archived(session, "RP-1", date(2025, 6, 2))
    late = register(session, date(2025, 12, 29))
    session.commit()
    closing = close_year(session, 2025, "arhivar", today=date(2026, 1, 12))
    session.commit()
    assert [f.label for f in closing.closed] == ["RP-1/2025"]
    assert closing.unarchived == 1                 # the archivist is told what is still open

    with pytest.raises(RegistryError, match=r"Dosarul RP-1/2025 este închis; documentul "
                                            r"2/29\.12\.2025 nu mai poate fi arhivat"):
        archive_entry(session, late, "RP-1", date(2026, 1, 20))
    session.rollback()
    late = session.get(RegisterEntry, late.id)
    assert (late.file_code, late.archived_on, late.folder_id) == ("", None, None)


@sqlite_only
def test_closing_a_year_closes_it_and_the_years_before_not_the_current_one(session):
    for year in (2024, 2025, 2026):
        archived(session, "RP-2", date(year, 2, 3))
    session.commit()
    with pytest.raises(ArchiveError, match="Anul 2026 nu s-a încheiat"):
        close_year(session, 2026, "arhivar", today=date(2026, 11, 30))
    close_year(session, 2025, "arhivar", today=date(2026, 1, 12))
    session.commit()
    states = {f.label: (f.status, f.closed_on, f.closed_by)
              for f in session.execute(select(ArchiveFolder)).scalars()}
    assert states == {"RP-2/2024": ("closed", date(2026, 1, 12), "arhivar"),
                      "RP-2/2025": ("closed", date(2026, 1, 12), "arhivar"),
                      "RP-2/2026": ("open", None, None)}
    assert len(events(session, "archive.folder_closed")) == 2
    assert "2 dosare închise" in events(session, "archive.year_closed")[0].summary
    assert archived(session, "RP-2", date(2026, 3, 1)).folder_id == folder(session, "RP-2", 2026).id


@sqlite_only
def test_the_petition_circuit_files_the_answered_petition_into_its_folder(session):
    """The real petition procedure, from the desk to the Arhivare step, on the engine."""
    from engine import runtime
    from engine.deployment import deploy_folder
    from engine.errors import EngineError
    from engine.models import HumanTask
    from engine.runtime import Actor

    deploy_folder(session, Path(__file__).resolve().parents[2] / "processes" / "petition")
    session.commit()
    people = {"reg": Actor("registratura", frozenset({"registratura"})),
              "head": Actor("sef.rp", frozenset({"sef-relatii-publice"})),
              "clerk": Actor("ion", frozenset({"dept-relatii-publice"})),
              "mayor": Actor("primar", frozenset({"primar"}))}

    def walk_to_archiving(registered_on):
        instance = runtime.start_instance(session, "petition", {
            "sender_name": "Ana Pop", "summary": "Iluminat stradal",
            "department": "relatii-publice"}, people["reg"], today=registered_on)
        session.commit()
        for who, data in [("head", {"assignment_decision": "repartizat", "assigned_clerk": "ion"}),
                          ("clerk", {"answer": "Se repară.", "outcome": "favorabil"}),
                          ("head", {"endorsement": "avizat"}),
                          ("mayor", {"signature": "semnat"}),
                          ("reg", {"dispatch_channel": "email",
                                   "dispatch_date": registered_on.isoformat()})]:
            complete(instance, who, data, registered_on)
        return instance

    def open_task(instance):
        return session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalar_one()

    def complete(instance, who, data, on):
        runtime.complete_task(session, open_task(instance).id, people[who], data, today=on)
        session.commit()

    petition = walk_to_archiving(date(2026, 3, 2))
    assert open_task(petition).title == "Arhivare"
    complete(petition, "clerk", {"file_code": "RP-1"}, date(2026, 3, 20))
    entry = session.get(RegisterEntry, petition.document_id)
    assert (entry.file_code, entry.archived_on) == ("RP-1", date(2026, 3, 20))
    assert entry.folder_id == folder(session, "RP-1", 2026).id

    late = walk_to_archiving(date(2026, 12, 21))
    close_year(session, 2026, "arhivar", today=date(2027, 1, 4))
    session.commit()
    task = open_task(late)
    with pytest.raises(EngineError, match="Dosarul RP-1/2026 este închis"):
        runtime.complete_task(session, task.id, people["clerk"], {"file_code": "RP-1"},
                              today=date(2027, 1, 5))
    session.rollback()
    assert open_task(late).title == "Arhivare"       # the clerk can choose another file
    assert session.get(RegisterEntry, late.document_id).folder_id is None


# ---- the nomenclator's CSV --------------------------------------------------------------

GOOD = ("\ufeffcod;compartiment;titlu;termen\n"
        "RP-1;relatii-publice;Petiții și sesizări;10\n"
        "TX-1;taxe;Certificate de atestare fiscală;5\n"
        "\n"
        "SG-1;secretar;Dispoziții ale primarului;p\n")


@sqlite_only
def test_a_csv_with_bom_and_header_creates_and_updates_files(session):
    result = import_nomenclator(session, decode_csv(GOOD.encode("utf-8")), "arhivar")
    session.commit()
    assert (result.created, result.updated) == (["TX-1", "SG-1"], ["RP-1"])
    files = {f.code: (f.department, f.title, f.retention_label)
             for f in session.execute(select(NomenclatorFile)).scalars()}
    assert files["RP-1"] == ("relatii-publice", "Petiții și sesizări", "10")   # lengthened
    assert files["SG-1"] == ("secretar", "Dispoziții ale primarului", "P")
    assert files["TX-1"] == ("taxe", "Certificate de atestare fiscală", "5")
    changed = events(session, "nomenclator.file_changed")
    assert [e.object_ref for e in changed] == ["nomenclator:RP-1"]
    assert '"retention": "5"' in changed[0].before_json

    # Comma-separated, no header, UTF-8 without BOM.
    again = import_nomenclator(session, "COM-1,comert,Acorduri de funcționare,10\n", "arhivar")
    assert again.created == ["COM-1"]


def test_every_wrong_row_is_reported_with_its_line_and_column_and_nothing_is_imported(session):
    text = ("cod;compartiment;titlu;termen\n"
            "AB-1;taxe;Bune;3\n"
            "AB-2;taxe;Termen greșit;zece\n"
            ";taxe;Fără cod;5\n"
            "AB-3;taxe;Doar trei coloane\n"
            "AB-1;taxe;Din nou;P\n"
            "AB-4;taxe;Zero ani;0\n")
    with pytest.raises(NomenclatorImportError) as refused:
        import_nomenclator(session, text, "arhivar")
    assert refused.value.errors == [
        "linia 3, termen: „zece” nu este P sau un număr de ani (1–200)",
        "linia 4, cod: lipsește",
        "linia 5: are 3 coloane, se așteaptă 4 (cod;compartiment;titlu;termen)",
        "linia 6, cod: „AB-1” apare de două ori în fișier (și pe linia 2)",
        "linia 7, termen: „0” nu este P sau un număr de ani (1–200)",
    ]
    session.rollback()
    codes = session.execute(select(NomenclatorFile.code)).scalars().all()
    assert not [c for c in codes if c.startswith("AB")]
    assert not events(session, "nomenclator.imported")


@sqlite_only
def test_departments_are_checked_when_the_town_hall_gives_its_list(session):
    with pytest.raises(NomenclatorImportError) as refused:
        import_nomenclator(session, "X-1;contabilitate;Facturi;10\n", "arhivar",
                           departments={"taxe", "urbanism"})
    assert refused.value.errors == [
        "linia 1, compartiment: „contabilitate” nu este un compartiment al primăriei"]


@sqlite_only
def test_a_file_that_holds_documents_keeps_its_retention_term_whoever_asks(session, tmp_path):
    from archive.storage import LocalStorage
    entry = archived(session, "RP-1", date(2024, 5, 6))
    keep(session, LocalStorage(tmp_path), entry, b"%PDF-1.4 petitie")
    session.commit()
    with pytest.raises(NomenclatorImportError) as refused:
        import_nomenclator(session, "RP-1;relatii-publice;Petiții;3\n", "arhivar")
    assert refused.value.errors == [
        "linia 1, termen: dosarul RP-1 are deja documente arhivate (2024) cu termenul 5 ani; "
        "termenul nu poate fi scurtat la 3 ani (creați un indicativ nou pentru documentele "
        "de acum înainte)"]
    rp1 = session.execute(select(NomenclatorFile).where(NomenclatorFile.code == "RP-1")).scalar_one()
    values, errors = check_fields("RP-1", "relatii-publice", "Petiții", "3")
    assert errors == {}
    with pytest.raises(ArchiveError, match="nu poate fi scurtat"):
        save_file(session, "arhivar", values, rp1)
    values, _ = check_fields("RP-1", "relatii-publice", "Petiții", "P")
    save_file(session, "arhivar", values, rp1)          # longer is always allowed
    assert rp1.retention_years is None
    # A file with no documents yet may still be corrected downwards.
    rp2 = session.execute(select(NomenclatorFile).where(NomenclatorFile.code == "RP-2")).scalar_one()
    import_nomenclator(session, "RP-2;relatii-publice;Informații publice;1\n", "arhivar")
    assert rp2.retention_years == 1


def test_a_file_that_is_not_utf8_is_refused_with_advice():
    with pytest.raises(NomenclatorImportError, match="UTF-8"):
        decode_csv("RP-9;taxe;Petiţii şi sesizări;5\n".encode("cp1250"))   # an old Excel
