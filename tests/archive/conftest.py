"""The search backends both archive search test modules run against: the embedded
FTS5 index and Elasticsearch's client talking to the local stand-in."""
import itertools
import sys
from pathlib import Path

import pytest

from archive.search.elastic import ElasticBackend
from archive.search.fts5 import Fts5Backend

sys.path.insert(0, str(Path(__file__).resolve().parent))

from elastic_standin import StandIn  # noqa: E402

INDEX_NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def standin():
    with StandIn() as node:
        yield node


@pytest.fixture(params=["sqlite", "elasticsearch"])
def backend(request, tmp_path):
    if request.param == "sqlite":
        found = Fts5Backend(str(tmp_path / "search.sqlite"))
        yield found
        found.close()
    else:
        node = request.getfixturevalue("standin")
        found = ElasticBackend(node.url, f"dosar-test-{next(INDEX_NUMBERS)}")
        found.clear()
        yield found
