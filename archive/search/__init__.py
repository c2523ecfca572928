"""Full-text search over register entries and their documents' text, behind one
interface (`base.SearchBackend`) with two backends: SQLite FTS5 in a file of its own
(the embedded default) and Elasticsearch (production). See docs/archive.md, «Căutare».
"""
import threading

from .base import (FACETS, MAX_RESULTS, SearchBackend, SearchDocument, SearchError, SearchHit,
                   SearchQuery, SearchResult)

__all__ = ["FACETS", "MAX_RESULTS", "SearchBackend", "SearchDocument", "SearchError",
           "SearchHit", "SearchQuery", "SearchResult", "backend_from_settings"]

_backends: dict[tuple, SearchBackend] = {}
_lock = threading.Lock()


def backend_from_settings(settings) -> SearchBackend:
    """The backend the settings name, one per process and configuration (it keeps its
    connections: one SQLite connection per thread, or the cluster client's pool)."""
    if settings.search_backend == "elasticsearch":
        key = ("elasticsearch", settings.elasticsearch_url, settings.elasticsearch_index)
    elif settings.search_backend in ("sqlite", "fts5", ""):
        key = ("sqlite", settings.search_path)
    else:
        raise SearchError(f"Motorul de căutare «{settings.search_backend}» nu există "
                          "(sqlite sau elasticsearch).")
    with _lock:
        backend = _backends.get(key)
        if backend is None:
            if key[0] == "elasticsearch":
                from .elastic import ElasticBackend
                backend = ElasticBackend(key[1], key[2])
            else:
                from .fts5 import Fts5Backend
                backend = Fts5Backend(key[1])
            _backends[key] = backend
    return backend
