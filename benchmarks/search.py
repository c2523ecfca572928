"""Archive search benchmark: index a synthetic town-hall archive into a fresh SQLite
FTS5 file through the search backend itself (not through the job queue), then time a
fixed, seeded mix of queries.

The corpus (`_search_corpus.py`) is generated and indexed in streaming batches, so
memory stays bounded at a million documents. After indexing, the index is merged
(`optimize`, as `dosar archive reindex` does); that time is part of `index_s`.
Queries: 30 warm-up queries, then 300 timed ones — common words, rare words, two-word
queries, words with a department or a date range, register numbers; a third of them
asked by a department's clerk (visibility filter). Each query is a full `search()`:
count, ranking, facets, one page of 20 hits with snippets.

Prints one JSON object: documents, index_docs_per_s, index_s, index_mb,
query_p50_ms, query_p95_ms, query_max_ms, queries, facets_approximate_share (queries
whose facets were counted over the newest matches only), ranked_by_relevance_share
(queries with words ordered by BM25 rather than newest first), backend, peak_rss_mb
(the process's peak resident memory, the memory-mapped index pages included).

    dosar bench search [--docs N] [--quick] [--keep]
"""
import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.search.fts5 import Fts5Backend  # noqa: E402
from benchmarks._search_corpus import Corpus  # noqa: E402

BATCH = 1000
WARM_UP, TIMED = 30, 300


def build(backend: Fts5Backend, corpus: Corpus) -> float:
    start = time.perf_counter()
    batch = []
    for doc in corpus.documents():
        batch.append(doc)
        if len(batch) == BATCH:
            backend.index(batch)
            batch = []
    if batch:
        backend.index(batch)
    backend.optimize()
    return time.perf_counter() - start


def run_queries(backend: Fts5Backend, corpus: Corpus) -> tuple[list[float], int, int]:
    queries = corpus.queries(WARM_UP + TIMED)
    for query in queries[:WARM_UP]:
        backend.search(query)
    times, approximate, by_relevance = [], 0, 0
    for query in queries[WARM_UP:]:
        start = time.perf_counter()
        result = backend.search(query)
        times.append((time.perf_counter() - start) * 1000)
        approximate += result.facets_approximate
        by_relevance += bool(query.text) and result.ranked_by == "relevance"
    return times, approximate, by_relevance


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000, help="documents (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="20,000 documents (CI smoke run)")
    parser.add_argument("--keep", action="store_true", help="keep the index file to look at")
    args = parser.parse_args()
    size = 20_000 if args.quick else args.docs
    folder = Path(tempfile.mkdtemp(prefix="dosar-bench-search-"))
    path = folder / "search.sqlite"
    try:
        backend = Fts5Backend(str(path))
        corpus = Corpus(size)
        index_s = build(backend, corpus)
        count = backend.count()
        times, approximate, by_relevance = run_queries(backend, corpus)
        backend.close()               # folds the write-ahead log into the file
        index_bytes = sum(p.stat().st_size for p in folder.iterdir())
        with_words = sum(1 for q in corpus.queries(WARM_UP + TIMED)[WARM_UP:] if q.text)
        cuts = statistics.quantiles(times, n=100)
        report = {
            "backend": backend.name, "documents": count,
            "index_docs_per_s": round(count / index_s, 1), "index_s": round(index_s, 1),
            "index_mb": round(index_bytes / 2**20, 1),
            "query_p50_ms": round(statistics.median(times), 2),
            "query_p95_ms": round(cuts[94], 2), "query_max_ms": round(max(times), 2),
            "queries": len(times),
            "facets_approximate_share": round(approximate / len(times), 2),
            "ranked_by_relevance_share": round(by_relevance / max(with_words, 1), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        print(json.dumps(report, ensure_ascii=False))
        if args.keep:
            print(f"index kept at {path}", file=sys.stderr)
        if count != size:
            sys.exit(1)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
