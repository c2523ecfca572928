"""Archive search: the same behaviour on both backends (SQLite FTS5 in a temporary
file; Elasticsearch through the real client against the local stand-in), the index
kept in step with the register through the job queue, and the search screen."""
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.search import SearchDocument, SearchError, SearchQuery
from archive.search.elastic import ElasticBackend
from archive.search.folding import analyze, query_terms
from archive.search.fts5 import Fts5Backend, date_tokens

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp"))

ENTRIES = [
    SearchDocument(1, "101/05.03.2025", date(2025, 3, 5), "Ion Popescu", "urbanism", "petitie",
                   "URB-1", summary="Cerére pentru certificat de urbanism",
                   titles=["Cerere"], text="Solicit eliberarea certificatului pentru școala "
                   "din satul Valea Mare, str. Școlii nr. 4.", visibility=["urbanism"]),
    SearchDocument(2, "102/06.03.2025", date(2025, 3, 6), "Maria Ionescu", "relatii-publice",
                   "petitie", "RP-1", summary="Sesizarea privind iluminatul public",
                   text="Vă sesizez că pe strada Lungă becurile sunt arse de o lună.",
                   visibility=["relatii-publice"]),
    SearchDocument(3, "URB-7/10.01.2026", date(2026, 1, 10), "SC Construct SRL", "urbanism",
                   "autorizatie-construire", "URB-2", summary="Autorizație de construire",
                   text="Documentația pentru clădirea de lângă şcoala veche (grafie cu sedilă).",
                   visibility=["urbanism"]),
    SearchDocument(4, "7/10.01.2026", date(2026, 1, 10), "Vasile Ionică", "relatii-publice",
                   "cerere", "RP-2", summary="Cerere de informații despre buget",
                   text="Solicit bugetul pe anul 2026 conform Legii 544/2001.",
                   visibility=["relatii-publice"]),
    SearchDocument(5, "8/12.01.2026", date(2026, 1, 12), "Ion Popescu", "relatii-publice",
                   "petitie", "RP-1", cancelled=True, summary="Sesizare înregistrată de două ori",
                   text="Scoala din sat are acoperișul spart.", visibility=["relatii-publice"]),
]




@pytest.fixture
def filled(backend):
    backend.index(ENTRIES)
    return backend


def ids(result) -> list[int]:
    return [hit.entry_id for hit in result.hits]


# --- analysis -----------------------------------------------------------------------------

def test_one_analysis_folds_before_stemming():
    assert analyze("cerére") == analyze("cerere")
    assert analyze("Sesizarea") == analyze("sesizare")
    assert analyze("școala") == analyze("şcoala") == analyze("scoala")   # comma, cedilla, none
    assert analyze("autorizație") == analyze("autorizatie")
    assert query_terms("de la si pentru") == []                         # stop words only


def test_a_date_range_is_covered_by_whole_years_months_and_days():
    tokens = date_tokens(date(2024, 12, 30), date(2026, 2, 2))
    assert tokens == ["xz20241230", "xz20241231", "xy2025", "xm202601",
                      "xz20260201", "xz20260202"]


# --- behaviour on both backends -----------------------------------------------------------

@pytest.mark.parametrize("typed, expected", [
    ("cerere", {1, 4}),               # finds «Cerére» (accent) and «Cerere»
    ("sesizare", {2}),                # finds «Sesizarea»
    ("scoala", {1, 3}),               # finds «școala» and «şcoala» (cedilla)
    ("școala", {1, 3}),
    ("ŞCOALA", {1, 3}),
])
def test_words_are_found_whatever_their_diacritics_and_endings(filled, typed, expected):
    assert set(ids(filled.search(SearchQuery(text=typed)))) == expected


def test_every_word_must_be_found(filled):
    assert ids(filled.search(SearchQuery(text="certificat urbanism"))) == [1]
    assert ids(filled.search(SearchQuery(text="certificat buget"))) == []


def test_metadata_filters_narrow_the_results(filled):
    assert set(ids(filled.search(SearchQuery(department="urbanism")))) == {1, 3}
    assert ids(filled.search(SearchQuery(text="solicit", department="relatii-publice"))) == [4]
    assert ids(filled.search(SearchQuery(document_type="autorizatie-construire"))) == [3]
    assert ids(filled.search(SearchQuery(file_code="RP-2"))) == [4]
    assert set(ids(filled.search(SearchQuery(year=2026)))) == {3, 4}
    assert ids(filled.search(SearchQuery(sender="popescu"))) == [1]
    assert ids(filled.search(SearchQuery(sender="Ion Popescu", text="certificat"))) == [1]
    assert len(ids(filled.search(SearchQuery(sender="de la")))) == 4   # stop words only


def test_date_range_includes_both_ends(filled):
    result = filled.search(SearchQuery(date_from=date(2025, 3, 6), date_to=date(2026, 1, 10)))
    assert set(ids(result)) == {2, 3, 4}
    assert set(ids(filled.search(SearchQuery(date_from=date(2026, 1, 1))))) == {3, 4}
    assert set(ids(filled.search(SearchQuery(date_to=date(2025, 12, 31))))) == {1, 2}


def test_register_number_finds_the_entry_however_it_is_written(filled):
    assert ids(filled.search(SearchQuery(register_number="101/2025"))) == [1]
    assert ids(filled.search(SearchQuery(register_number="101/05.03.2025"))) == [1]
    assert ids(filled.search(SearchQuery(register_number="urb-7"))) == [3]
    assert ids(filled.search(SearchQuery(register_number="7/2026"))) == [4]   # not URB-7
    assert ids(filled.search(SearchQuery(register_number="101/2026"))) == []
    with pytest.raises(SearchError):
        filled.search(SearchQuery(register_number="nu e număr"))


def test_facets_count_the_matching_entries(filled):
    result = filled.search(SearchQuery(text="solicit"))
    assert result.total == 2
    assert dict(result.facets["department"]) == {"urbanism": 1, "relatii-publice": 1}
    assert dict(result.facets["year"]) == {"2025": 1, "2026": 1}
    everything = filled.search(SearchQuery())
    assert everything.facets["department"] == [("relatii-publice", 2), ("urbanism", 2)]
    assert dict(everything.facets["document_type"]) == {
        "petitie": 2, "autorizatie-construire": 1, "cerere": 1}
    assert not everything.facets_approximate


def test_snippets_mark_the_matched_words_and_escape_the_rest(backend):
    backend.index([SearchDocument(
        9, "9/01.02.2026", date(2026, 2, 1), "<script>Ion</script>", "urbanism", "petitie",
        summary="Cerere <b>urgentă</b> pentru școală",
        text="Primăria a primit cererea mea & a mea <i>soră</i> despre Școala nr. 2.",
        visibility=["urbanism"])])
    hit = backend.search(SearchQuery(text="scoala")).hits[0]
    html = " ".join(hit.snippets)
    assert "<mark>Școala</mark>" in html
    assert "&lt;i&gt;soră&lt;/i&gt;" in html and "&amp;" in html and "<i>" not in html
    assert "&lt;b&gt;urgentă&lt;/b&gt;" in html
    cerere = " ".join(backend.search(SearchQuery(text="cerere")).hits[0].snippets)
    assert "<mark>Cerere</mark>" in cerere and "<mark>cererea</mark>" in cerere


def test_a_clerk_finds_only_entries_of_their_department(filled):
    urbanism = filled.search(SearchQuery(text="solicit", allowed_departments={"urbanism"}))
    assert ids(urbanism) == [1]          # not entry 4, of Relații cu publicul
    everything = filled.search(SearchQuery(text="solicit", allowed_departments=None))
    assert set(ids(everything)) == {1, 4}
    assert filled.search(SearchQuery(text="solicit", allowed_departments=set())).total == 0


def test_cancelled_entries_are_left_out_unless_asked_for(filled):
    assert 5 not in ids(filled.search(SearchQuery(text="scoala")))
    assert 5 in ids(filled.search(SearchQuery(text="scoala", include_cancelled=True)))


def test_reindexing_replaces_and_deleting_forgets(filled):
    changed = SearchDocument(**{**ENTRIES[1].__dict__, "summary": "Reclamație despre gunoi",
                                "text": ""})
    filled.index([changed])
    assert ids(filled.search(SearchQuery(text="gunoi"))) == [2]
    assert ids(filled.search(SearchQuery(text="iluminat"))) == []
    assert filled.count() == 5
    filled.delete([2, 999])
    assert filled.search(SearchQuery(text="gunoi")).total == 0 and filled.count() == 4
    filled.clear()
    assert filled.count() == 0


def test_pages_split_the_results(backend):
    backend.index([SearchDocument(100 + i, f"{100 + i}/01.03.2026", date(2026, 3, 1),
                                  "Ana Pop", "taxe", "cerere", summary=f"Certificat fiscal {i}",
                                  visibility=["taxe"]) for i in range(25)])
    first = backend.search(SearchQuery(text="fiscal", size=10))
    third = backend.search(SearchQuery(text="fiscal", size=10, page=3))
    assert (first.total, first.pages, len(first.hits), len(third.hits)) == (25, 3, 10, 5)
    assert not set(ids(first)) & set(ids(third))


def test_fts5_bounds_its_work_on_big_result_sets(tmp_path, monkeypatch):
    """The same limits as at a million entries, made small: past them the count is a
    lower bound, the facets a sample of the newest matches, the order newest first."""
    import archive.search.fts5 as fts5
    backend = Fts5Backend(str(tmp_path / "search.sqlite"))
    backend.index([SearchDocument(i, f"{i}/0{1 + i % 2}.03.2026", date(2026, 3, 1 + i % 2),
                                  "Ana Pop", "taxe" if i % 2 else "urbanism", "cerere",
                                  summary="Certificat fiscal" + " fiscal" * (i == 3),
                                  visibility=["taxe"]) for i in range(1, 11)])
    ranked = backend.search(SearchQuery(text="fiscal"))
    assert (ranked.ranked_by, ranked.total, ranked.total_exact) == ("relevance", 10, True)
    assert ranked.hits[0].entry_id == 3           # says «fiscal» twice
    monkeypatch.setattr(fts5, "MAX_RESULTS", 6)
    monkeypatch.setattr(fts5, "FACET_WINDOW", 4)
    monkeypatch.setattr(fts5, "RANK_DF", 5)
    result = backend.search(SearchQuery(text="fiscal"))
    assert (result.total, result.total_exact, result.ranked_by) == (6, False, "date")
    assert ids(result)[:4] == [10, 9, 8, 7]        # newest first
    assert result.facets_approximate and result.facets_sample == 4
    assert dict(result.facets["department"]) == {"taxe": 2, "urbanism": 2}   # of 10, 9, 8, 7


def test_the_index_survives_reopening(tmp_path):
    path = str(tmp_path / "search.sqlite")
    Fts5Backend(path).index(ENTRIES[:2])
    assert ids(Fts5Backend(path).search(SearchQuery(text="iluminat"))) == [2]


def test_elasticsearch_mapping_uses_the_same_analysis(standin):
    backend = ElasticBackend(standin.url, "dosar-mapping")
    backend.clear()
    index = standin.node.indices["dosar-mapping"]
    analyzer = index.settings["analysis"]["analyzer"]["dosar_ro"]
    assert analyzer["filter"] == ["lowercase", "asciifolding", "dosar_stop", "dosar_stemmer"]
    assert index.mappings["properties"]["text"] == {"type": "text", "analyzer": "dosar_ro"}
    assert index.analyzers["summary"]("Şcoala cerére Sesizarea de la") == analyze(
        "scoala cerere sesizare")
    assert ("PUT", "/dosar-mapping") in standin.node.requests


# --- kept in step with the register -------------------------------------------------------

def search_as(app, query: SearchQuery):
    from archive.indexing import current_backend
    with app.app_context():
        return current_backend().search(query)


def run_jobs(app):
    from connectors.jobs.queue import run_pending
    from webapp.database import db
    with app.app_context():
        outcomes = run_pending(db.session)
        db.session.remove()
    assert all(o.status == "done" for o in outcomes), outcomes
    return outcomes


def test_a_registered_document_becomes_findable_and_changes_follow(demo_app):
    from webapp_testkit import login, register_petition
    run_jobs(demo_app)
    client = login(demo_app.test_client(), "registratura")
    response = register_petition(client, summary="Solicită toaletarea arborilor din parcul "
                                                 "Trandafirilor")
    assert response.status_code == 302
    assert search_as(demo_app, SearchQuery(text="toaletare parc")).total == 0   # not yet
    assert any(o.kind == "archive.index_entry" for o in run_jobs(demo_app))
    found = search_as(demo_app, SearchQuery(text="toaletare parc"))
    assert found.total == 1
    entry_id = found.hits[0].entry_id

    from connectors.registry import cancel_entry
    from connectors.registry.models import RegisterEntry
    from webapp.database import db
    with demo_app.app_context():
        cancel_entry(db.session, db.session.get(RegisterEntry, entry_id), "registratura",
                     "înregistrat din greșeală")
        db.session.commit()
    run_jobs(demo_app)
    assert search_as(demo_app, SearchQuery(text="toaletare parc")).total == 0
    assert search_as(demo_app, SearchQuery(text="toaletare parc",
                                           include_cancelled=True)).hits[0].cancelled


def test_an_entry_no_longer_in_the_register_leaves_the_index(demo_app):
    from archive.indexing import current_backend, index_entry
    from connectors.registry.models import RegisterEntry
    from webapp.database import db
    with demo_app.app_context():
        current_backend().index([SearchDocument(**{**ENTRIES[1].__dict__, "entry_id": 99999}),
                                 ENTRIES[3]])
        assert db.session.get(RegisterEntry, 99999) is None
        index_entry(db.session, {"entry_id": 99999})
    assert search_as(demo_app, SearchQuery(text="iluminat")).total == 0
    assert search_as(demo_app, SearchQuery(text="buget")).total == 1


def test_reindex_all_rebuilds_from_the_register_and_the_stored_text(demo_app, tmp_path):
    import io

    from archive.documents import add_document
    from archive.indexing import current_backend, reindex_all
    from archive.settings import current
    from connectors.registry import register_document
    from webapp.database import db
    with demo_app.app_context():
        entry = register_document(db.session, "general", date(2026, 4, 2), "registratura",
                                  sender_name="Elena Radu", department="urbanism",
                                  summary="Plan urbanistic")
        document = add_document(db.session, current().storage(), entry,
                                io.BytesIO(b"%PDF-1.4 scan"), filename="plan.pdf",
                                content_type="application/pdf", actor="registratura",
                                title="Memoriu tehnic")
        sha, _ = current().storage().put(io.BytesIO("Amplasamentul fântânii publice".encode()))
        document.current.text_sha256, document.current.text_status = sha, "done"
        db.session.commit()
        backend = current_backend()
        count = reindex_all(db.session, backend, batch=2)
        db.session.commit()
        from connectors.audit import AuditEvent
        assert db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "archive.reindexed")).scalar_one().after_json
        db.session.remove()
    assert count == backend.count() >= 1
    hit = search_as(demo_app, SearchQuery(text="fantana")).hits[0]
    assert "<mark>fântânii</mark>" in " ".join(hit.snippets)
    assert hit.titles == ["Memoriu tehnic"]
    assert search_as(demo_app, SearchQuery(text="memoriu")).total == 1


# --- the search screen --------------------------------------------------------------------

def fill_index(app):
    from archive.indexing import current_backend
    with app.app_context():
        current_backend().index(ENTRIES)


def test_search_screen_shows_marked_results_linking_to_the_entry(demo_app):
    from webapp_testkit import login
    fill_index(demo_app)
    client = login(demo_app.test_client(), "registratura")
    page = client.get("/arhiva/?q=scoala")
    assert page.status_code == 200
    assert 'href="/registratura/1"' in page.text and 'href="/registratura/3"' in page.text
    assert "<mark>școala</mark>" in page.text and "<mark>şcoala</mark>" in page.text
    assert "2 înregistrări găsite" in page.text
    # A facet is a link that adds its filter to the search.
    assert "/arhiva/?q=scoala&amp;department=urbanism" in page.text
    narrowed = client.get("/arhiva/?q=scoala&department=urbanism&year=2026")
    assert 'data-entry-id="3"' in narrowed.text and 'data-entry-id="1"' not in narrowed.text


def test_search_screen_shows_a_clerk_only_their_departments_entries(demo_app):
    from webapp_testkit import login
    fill_index(demo_app)
    urbanism = login(demo_app.test_client(), "functionar.urbanism")
    page = urbanism.get("/arhiva/?q=solicit").text
    assert 'data-entry-id="1"' in page and 'data-entry-id="4"' not in page
    desk = login(demo_app.test_client(), "registratura")
    assert 'data-entry-id="4"' in desk.get("/arhiva/?q=solicit").text


def test_search_screen_names_the_bad_field_and_keeps_what_was_typed(demo_app):
    from webapp_testkit import login
    fill_index(demo_app)
    client = login(demo_app.test_client(), "registratura")
    page = client.get("/arhiva/?q=iluminat&from=31.02.2026&number=abc/x&year=20x6")
    assert page.status_code == 422
    assert "«De la» nu este o dată validă" in page.text
    assert "«Număr de înregistrare» nu este un număr de înregistrare" in page.text
    assert "«An» trebuie să fie un an" in page.text
    assert 'value="31.02.2026"' in page.text and 'value="abc/x"' in page.text
    assert 'value="iluminat"' in page.text and 'data-entry-id' not in page.text
    good = client.get("/arhiva/?from=06.03.2025&to=06.03.2025")
    assert good.status_code == 200 and 'data-entry-id="2"' in good.text


def test_search_screen_pages_and_needs_a_login(demo_app):
    from webapp_testkit import login
    from archive.indexing import current_backend
    with demo_app.app_context():
        current_backend().index([SearchDocument(
            200 + i, f"{200 + i}/01.03.2026", date(2026, 3, 1), "Ana Pop", "urbanism", "cerere",
            summary=f"Certificat fiscal {i}", visibility=["urbanism"]) for i in range(45)])
    assert demo_app.test_client().get("/arhiva/?q=fiscal").status_code == 302
    client = login(demo_app.test_client(), "registratura")
    first = client.get("/arhiva/?q=fiscal").text
    assert "45 înregistrări găsite" in first and "Pagina 1 din 3" in first
    assert "/arhiva/?q=fiscal&amp;page=2" in first
    third = client.get("/arhiva/?q=fiscal&page=3").text
    assert third.count('data-entry-id="') == 5


def test_reindex_command_rebuilds_the_index_from_the_register(demo_app):
    from archive.indexing import current_backend
    from connectors.registry import register_document
    from webapp.database import db
    with demo_app.app_context():
        for day in (1, 2, 3):
            register_document(db.session, "general", date(2026, 5, day), "registratura",
                              sender_name="Dan Lazăr", department="urbanism",
                              summary=f"Branșament gaze {day}")
        db.session.commit()
        current_backend().index(ENTRIES)       # stale: not in this register
    result = demo_app.test_cli_runner().invoke(args=["archive", "reindex", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "Indexul de căutare are 3 înregistrări" in result.output
    assert search_as(demo_app, SearchQuery(text="bransament")).total == 3
    assert search_as(demo_app, SearchQuery(text="iluminat")).total == 0
