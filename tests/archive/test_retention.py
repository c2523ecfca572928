"""Retention and disposal: nothing is destroyed without the commission's approval, a
legal hold always wins, permanent files never reach a list, and executing a list
deletes the stored files (except those another folder still uses) while keeping a
record of everything destroyed and of the act that allowed it."""
import json
from datetime import date

import pytest
from sqlalchemy import select

from archive.documents import ArchiveError
from archive.models import ArchiveDocument, DestructionRecord, DisposalList
from archive.nomenclator import close_year
from archive.retention import (DisposalRefused, decide, disposal_candidates, execute_disposal,
                               lift_hold, place_hold, propose_disposal)
from archive.storage import LocalStorage
from connectors.audit import AuditEvent
from connectors.jobs.models import BackgroundJob
from retention_testkit import archived, close_session, folder, keep, open_session

TODAY = date(2026, 2, 2)
APPROVAL = "PV nr. 12/15.01.2026"
# The core rules run on both databases; their variations on SQLite only (quicker).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def session(database_url):
    s = open_session(database_url)
    yield s
    close_session(s)


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "files")


@pytest.fixture
def town(session, storage):
    """RP-1 (5 years) of 2019 and 2020, RP-2 (3 years) of 2024, URB-2 (permanent) of 2019,
    all closed; RP-1 of 2026 open. On 2 February 2026 only RP-1/2019 and RP-1/2020 have
    run out their term (1 January 2025 and 2026)."""
    docs = {}
    for code, on, name in [("RP-1", date(2019, 4, 1), "rp1-2019"),
                           ("RP-1", date(2020, 9, 7), "rp1-2020"),
                           ("RP-2", date(2024, 3, 5), "rp2-2024"),
                           ("URB-2", date(2019, 6, 3), "urb2-2019")]:
        entry = archived(session, code, on, department=code.startswith("URB")
                         and "urbanism" or "relatii-publice")
        docs[name] = keep(session, storage, entry, f"%PDF-1.4 {name}".encode(),
                          filename=f"{name}.pdf")
    # The same scan kept on a 2019 petition and on a 2020 one: one stored file.
    shared_entry = archived(session, "RP-1", date(2019, 10, 1))
    docs["shared-2019"] = keep(session, storage, shared_entry, b"%PDF-1.4 same scan")
    other_entry = archived(session, "RP-2", date(2024, 11, 4))
    docs["shared-2024"] = keep(session, storage, other_entry, b"%PDF-1.4 same scan")
    # A derived file (searchable PDF) of the 2019 document.
    derived, _ = storage.put(__import__("io").BytesIO(b"%PDF-1.4 searchable rp1-2019"))
    docs["rp1-2019"].current.searchable_sha256 = derived
    session.commit()
    close_year(session, 2025, "arhivar", today=date(2026, 1, 5))
    archived(session, "RP-1", date(2026, 1, 20))
    session.commit()
    return docs


def files_of(document):
    return set(document.current.stored_files().values())


def approved_list(session, *labels):
    folders = [folder(session, *label.split("/")) for label in labels]
    disposal = propose_disposal(session, [f.id for f in folders], "arhivar", today=TODAY)
    decide(session, disposal, "secretar", True, APPROVAL, "Conform nomenclatorului.")
    session.commit()
    return disposal


def test_expired_closed_folders_are_candidates_permanent_and_recent_ones_never(session, town):
    assert [f.label for f in disposal_candidates(session, TODAY)] == ["RP-1/2019", "RP-1/2020"]
    assert [f.label for f in disposal_candidates(session, date(2025, 12, 31))] == ["RP-1/2019"]
    # Fifty years on, everything temporary has expired; the permanent file still never shows.
    later = [f.label for f in disposal_candidates(session, date(2076, 1, 1))]
    assert "URB-2/2019" not in later and "RP-2/2024" in later


def test_a_proposal_names_every_folder_that_may_not_be_destroyed_and_why(session, town):
    place_hold(session, folder(session, "RP-1", 2020), "secretar",
               "Dosarul nr. 345/2025 al Tribunalului Cluj")
    session.commit()
    ids = [folder(session, *x).id for x in [("RP-1", 2020), ("URB-2", 2019), ("RP-1", 2026),
                                            ("RP-2", 2024), ("RP-1", 2019)]]
    with pytest.raises(DisposalRefused) as refused:
        propose_disposal(session, ids, "arhivar", today=TODAY)
    assert set(refused.value.reasons) == {
        "dosarul URB-2/2019 se păstrează permanent",
        "termenul de păstrare al dosarului RP-2/2024 expiră abia la 01.01.2028",
        "dosarul RP-1/2020 este sub păstrare legală (Dosarul nr. 345/2025 al Tribunalului Cluj)",
        "dosarul RP-1/2026 este încă deschis",
    }
    session.rollback()
    assert session.execute(select(DisposalList)).first() is None
    # A held folder is not even offered.
    assert "RP-1/2020" not in [f.label for f in disposal_candidates(session, TODAY)]


@sqlite_only
def test_a_folder_on_a_pending_list_is_neither_offered_nor_proposed_twice(session, town):
    first = propose_disposal(session, [folder(session, "RP-1", 2019).id], "arhivar", today=TODAY)
    session.commit()
    assert [f.label for f in disposal_candidates(session, TODAY)] == ["RP-1/2020"]
    with pytest.raises(DisposalRefused, match=f"deja pe lista de eliminare nr. {first.id}"):
        propose_disposal(session, [folder(session, "RP-1", 2019).id], "arhivar", today=TODAY)
    session.rollback()
    decide(session, first, "secretar", False, note="Mai trebuie verificat cu juristul.")
    session.commit()
    assert [f.label for f in disposal_candidates(session, TODAY)] == ["RP-1/2019", "RP-1/2020"]


@sqlite_only
def test_the_commission_decides_not_the_proposer_and_approval_needs_the_act(session, town):
    disposal = propose_disposal(session, [folder(session, "RP-1", 2019).id], "arhivar",
                                today=TODAY)
    with pytest.raises(ArchiveError, match="Cine a propus lista nu o poate și aproba"):
        decide(session, disposal, "arhivar", True, APPROVAL)
    with pytest.raises(ArchiveError, match="Aprobarea cere actul comisiei"):
        decide(session, disposal, "secretar", True, "  ")
    with pytest.raises(ArchiveError, match="Respingerea cere un motiv"):
        decide(session, disposal, "secretar", False)
    assert disposal.status == "proposed"
    decide(session, disposal, "secretar", True, APPROVAL, "")
    session.commit()
    assert (disposal.status, disposal.approval_act, disposal.decided_by) == (
        "approved", APPROVAL, "secretar")
    with pytest.raises(ArchiveError, match="nu mai așteaptă o decizie"):
        decide(session, disposal, "altcineva", False, note="prea târziu")
    event = session.execute(select(AuditEvent).where(
        AuditEvent.action == "disposal.approved")).scalar_one()
    assert APPROVAL in event.summary and event.actor == "secretar"


def test_without_approval_nothing_is_destroyed(session, storage, town):
    disposal = propose_disposal(session, [folder(session, "RP-1", 2019).id], "arhivar",
                                today=TODAY)
    session.commit()
    for decision in ("proposed", "rejected"):
        if decision == "rejected":
            decide(session, disposal, "secretar", False, note="Nu.")
            session.commit()
        with pytest.raises(ArchiveError, match="nu este aprobată de comisia de arhivă; nimic "
                                               "nu a fost eliminat"):
            execute_disposal(session, storage, disposal, "arhivar", today=TODAY)
        session.rollback()
        session.commit()
        assert all(storage.exists(sha) for sha in files_of(town["rp1-2019"]))
        assert folder(session, "RP-1", 2019).status == "closed"
        assert session.execute(select(DestructionRecord)).first() is None
        assert session.get(ArchiveDocument, town["rp1-2019"].id).destroyed_at is None


def test_executing_an_approved_list_destroys_files_but_keeps_the_record(session, storage, town):
    doomed = files_of(town["rp1-2019"]) | files_of(town["rp1-2020"])
    assert len(files_of(town["rp1-2019"])) == 2          # original + searchable PDF
    shared = files_of(town["shared-2019"])
    disposal = approved_list(session, "RP-1/2019", "RP-1/2020")

    result = execute_disposal(session, storage, disposal, "arhivar", today=TODAY,
                              town_hall="Primăria Comunei Exemplu")
    assert all(storage.exists(sha) for sha in doomed)     # nothing goes before the commit
    session.commit()

    assert result.destroyed == ["RP-1/2019", "RP-1/2020"] and result.skipped == []
    assert not any(storage.exists(sha) for sha in doomed)
    assert all(storage.exists(sha) for sha in shared)     # RP-2/2024 still keeps that scan
    assert result.files_shared == shared
    assert all(storage.exists(sha) for sha in files_of(town["urb2-2019"]))
    for name in ("rp1-2019", "rp1-2020", "shared-2019"):
        assert session.get(ArchiveDocument, town[name].id).destroyed_at is not None
    assert session.get(ArchiveDocument, town["shared-2024"].id).destroyed_at is None
    rp1 = folder(session, "RP-1", 2019)
    assert (rp1.status, rp1.disposed_on) == ("disposed", TODAY)
    assert disposal.status == "executed" and disposal.executed_by == "arhivar"

    records = {r.folder_id: r for r in session.execute(select(DestructionRecord)).scalars()}
    record = records[rp1.id]
    assert (record.approval_act, record.destroyed_by, record.list_id) == (
        APPROVAL, "arhivar", disposal.id)
    kept = json.loads(record.metadata_json)
    assert kept["approval_act"] == APPROVAL and kept["approved_by"] == "secretar"
    assert kept["folder"]["folder"] == "RP-1/2019"
    assert kept["nomenclator_file"] == {"code": "RP-1", "department": "relatii-publice",
                                        "title": "Petiții, sesizări și reclamații",
                                        "retention": "5"}
    assert sorted(e["label"] for e in kept["entries"]) == ["1/01.04.2019", "3/01.10.2019"]
    assert {e["sender_name"] for e in kept["entries"]} == {"Maria Popescu"}
    sheets = {d["uid"]: d for d in kept["documents"]}
    sheet = sheets[town["rp1-2019"].uid]
    assert sheet["owner"] == "Primăria Comunei Exemplu"
    assert set(sheet["versions"][0]["files"].values()) == files_of(town["rp1-2019"])
    assert kept["files_kept_shared"] == sorted(shared)
    # The search index is asked to forget the destroyed documents' text.
    reindexed = session.execute(select(BackgroundJob.payload_json).where(
        BackgroundJob.kind == "archive.index_entry")).scalars().all()
    assert f'{{"entry_id": {town["rp1-2019"].entry_id}}}' in reindexed
    # A disposed folder takes no new documents.
    assert [f.label for f in disposal_candidates(session, TODAY)] == []


@sqlite_only
def test_a_rolled_back_execution_deletes_nothing(session, storage, town):
    disposal = approved_list(session, "RP-1/2019")
    execute_disposal(session, storage, disposal, "arhivar", today=TODAY)
    session.rollback()
    session.commit()
    assert all(storage.exists(sha) for sha in files_of(town["rp1-2019"]))
    assert folder(session, "RP-1", 2019).status == "closed"


def test_a_legal_hold_placed_after_approval_stops_that_folder(session, storage, town):
    disposal = approved_list(session, "RP-1/2019", "RP-1/2020")
    place_hold(session, folder(session, "RP-1", 2020), "secretar", "Control al Curții de Conturi")
    session.commit()
    result = execute_disposal(session, storage, disposal, "arhivar", today=TODAY)
    session.commit()
    assert result.destroyed == ["RP-1/2019"]
    assert result.skipped == [("RP-1/2020", "dosarul RP-1/2020 este sub păstrare legală "
                                            "(Control al Curții de Conturi)")]
    held = folder(session, "RP-1", 2020)
    assert held.status == "closed" and held.disposed_on is None
    assert all(storage.exists(sha) for sha in files_of(town["rp1-2020"]))
    assert session.get(ArchiveDocument, town["rp1-2020"].id).destroyed_at is None
    assert not any(storage.exists(sha) for sha in files_of(town["rp1-2019"]))
    assert [r.folder_id for r in session.execute(select(DestructionRecord)).scalars()] == [
        folder(session, "RP-1", 2019).id]
    executed = session.execute(select(AuditEvent).where(
        AuditEvent.action == "disposal.executed")).scalar_one()
    assert "RP-1/2020 este sub păstrare legală" in executed.summary

    # Lifting the hold (with a reason) brings it back among the candidates.
    with pytest.raises(ArchiveError, match="cere un motiv"):
        lift_hold(session, held, "secretar", "")
    lift_hold(session, held, "secretar", "Controlul s-a încheiat.")
    session.commit()
    assert [f.label for f in disposal_candidates(session, TODAY)] == ["RP-1/2020"]


@sqlite_only
def test_a_hold_needs_a_reason_and_is_recorded(session, town):
    rp1 = folder(session, "RP-1", 2019)
    with pytest.raises(ArchiveError, match="cere un motiv"):
        place_hold(session, rp1, "secretar", "   ")
    place_hold(session, rp1, "secretar", "Litigiu în curs")
    session.commit()
    assert (rp1.legal_hold, rp1.hold_reason, rp1.hold_by) == (True, "Litigiu în curs", "secretar")
    event = session.execute(select(AuditEvent).where(
        AuditEvent.action == "archive.hold_placed")).scalar_one()
    assert event.object_ref == f"folder:{rp1.id}" and "Litigiu în curs" in event.summary


@sqlite_only
def test_a_scan_batch_goes_with_its_documents_only_when_all_of_them_are_destroyed(
        session, storage, town):
    import io
    from archive.models import ScanBatch, ScanSegment
    from archive.verify import verify_archive

    def batch(name, *documents):
        sha, _ = storage.put(io.BytesIO(f"%PDF-1.4 batch {name}".encode()))
        row = ScanBatch(sha256=sha, filename=f"{name}.pdf", status="split", pages=len(documents))
        session.add(row)
        session.flush()
        for position, document in enumerate(documents, 1):
            session.add(ScanSegment(batch_id=row.id, position=position, first_page=position,
                                    last_page=position, sha256=document.current.sha256,
                                    status="matched", entry_id=document.entry_id,
                                    document_id=document.id))
        return row
    # One batch holds only RP-1/2019 pages; another also a page of the kept RP-2/2024.
    only_doomed = batch("only-doomed", town["rp1-2019"], town["rp1-2020"])
    mixed = batch("mixed", town["rp1-2019"], town["rp2-2024"])
    session.commit()

    execute_disposal(session, storage, approved_list(session, "RP-1/2019", "RP-1/2020"),
                     "arhivar", today=TODAY)
    session.commit()

    assert not storage.exists(only_doomed.sha256) and only_doomed.status == "disposed"
    assert storage.exists(mixed.sha256) and mixed.status == "split"
    report = verify_archive(session, storage)            # nothing reported missing
    assert report.missing == [] and report.changed == []
