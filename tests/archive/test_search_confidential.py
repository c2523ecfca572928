"""Confidential entries in the archive search, on both backends: those who see the whole
register do not find them (not even by their words), their department and
administrators do; re-indexing and deleting them keeps the index whole."""
from datetime import date

from archive.search import SearchDocument, SearchQuery
from archive.search.base import CONFIDENTIAL

SOCIAL = SearchDocument(
    11, "201/02.03.2026", date(2026, 3, 2), "Elena Avram", "asistenta-sociala",
    "asistenta-sociala", summary="Ancheta socială pentru alocația copilului",
    text="Familia Avram locuiește într-o cameră; copilul are nevoie de sprijin.",
    visibility=["asistenta-sociala", CONFIDENTIAL])
LIGHTS = SearchDocument(
    12, "202/02.03.2026", date(2026, 3, 2), "Ion Avram", "relatii-publice", "petitie",
    summary="Sesizare despre iluminatul public de lângă școala copilului",
    text="Becurile sunt arse.", visibility=["relatii-publice"])


def found(backend, text="", allowed=None, confidential=None, **more) -> set[int]:
    result = backend.search(SearchQuery(text=text, allowed_departments=allowed,
                                        confidential_departments=confidential, **more))
    return {hit.entry_id for hit in result.hits}


def test_overseers_do_not_find_a_confidential_entry_its_department_does(backend):
    backend.index([SOCIAL, LIGHTS])
    # The Registratura, the mayor, the archivist: the whole register, no confidential.
    assert found(backend, "Avram copilului", confidential=frozenset()) == {12}
    assert found(backend, confidential=frozenset()) == {12}
    assert found(backend, sender="Elena", confidential=frozenset()) == set()
    assert found(backend, department="asistenta-sociala", confidential=frozenset()) == set()
    # An overseer who also works in the department (the secretary in theirs) finds it.
    assert found(backend, "Avram copilului",
                 confidential=frozenset({"asistenta-sociala"})) == {11, 12}
    # The department's clerk and head: their department's entries, confidential or not.
    mine = frozenset({"asistenta-sociala"})
    assert found(backend, "Avram", allowed=mine, confidential=mine) == {11}
    # Administrators: everything.
    assert found(backend, "Avram copilului") == {11, 12}


def test_reindexing_and_deleting_a_confidential_entry_keeps_the_index_whole(backend):
    backend.index([SOCIAL, LIGHTS])
    backend.index([SOCIAL])              # replaced, not doubled
    assert backend.count() == 2
    assert found(backend, "ancheta", confidential=frozenset()) == set()
    assert found(backend, "ancheta") == {11}
    backend.delete([11])
    assert backend.count() == 1
    assert found(backend, "ancheta") == set()
    assert found(backend, "Avram", confidential=frozenset()) == {12}
