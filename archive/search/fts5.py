"""The embedded search backend: SQLite FTS5 in a database file of its own.

The index lives beside the main database, whichever that is (SQLite or MariaDB), in
`settings.search_path`, in WAL mode so the web app reads while a worker writes.

Tables:
- `search_fts` — FTS5, contentless (`content=''`): terms and their positions, not the
  text (BM25 needs positions: with `detail=column` a contentless table scores every
  match 0). Its columns hold already analysed terms (`folding.analyze`, joined by
  spaces): `head` (summary and titles), `body` (the documents' text), `sender`, and
  `meta`, the filter tokens (department, type, file, direction, visibility, year,
  month, day, register number keys, cancelled), so every filter is one more term of
  the MATCH expression. Its rowid is -entry_id: FTS5 walks lists forwards, so the
  newest entries come first and a LIMIT stops the walk early.
- `search_doc` — the entry's fields as given, for the result list and the facets;
  `search_text` — the documents' text, zlib-compressed, for snippets.

A contentless table forgets an entry only when told its exact terms again, so
removing one re-analyses the text kept in `search_text` (the analysis is
deterministic; its version is stored and checked on opening).

Big result sets (a word found in most of a million entries) are bounded at every step:
the count stops past MAX_RESULTS (then it is a lower bound); BM25 ranking runs only
when every word of the query is in at most RANK_DF entries (BM25 reads each word's
whole list to weigh it), otherwise the newest come first; facets are counted over the
newest FACET_WINDOW matches (`facets_approximate` when there are more).
"""
import json
import sqlite3
import threading
import zlib
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from . import snippets
from .base import (CONFIDENTIAL, FACETS, MAX_RESULTS, SearchDocument, SearchError, SearchHit, SearchQuery,
                   SearchResult, number_keys_of_label, number_keys_of_query)
from .folding import ANALYZER_VERSION, analyze, query_terms

FACET_WINDOW = 1_000       # facets are counted over the newest matches, at most this many
RANK_DF = 5_000            # words in more entries than this: newest first, not BM25
WEIGHTS = (4.0, 1.0, 2.0, 0.0)          # head, body, sender, meta
TEXT_COLUMNS = "{head body sender}"

SCHEMA = """
CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS search_doc (
    entry_id INTEGER PRIMARY KEY, label TEXT NOT NULL, registered_on TEXT NOT NULL,
    year INTEGER NOT NULL, department TEXT NOT NULL, document_type TEXT NOT NULL,
    file_code TEXT NOT NULL, direction TEXT NOT NULL, cancelled INTEGER NOT NULL,
    sender_name TEXT NOT NULL, summary TEXT NOT NULL, titles TEXT NOT NULL,
    visibility TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS search_doc_year ON search_doc (year);
-- Narrow and covering: counting facets reads this, not the wide rows.
CREATE INDEX IF NOT EXISTS search_doc_facets
    ON search_doc (entry_id, department, document_type, year, file_code);
CREATE TABLE IF NOT EXISTS search_text (entry_id INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    head, body, sender, meta, content='', tokenize='ascii');
"""


def _key(kind: str, value: str) -> str:
    """A filter token: one ASCII word whatever the value (hex of its UTF-8)."""
    return f"x{kind}{value.encode().hex()}"


def _meta_tokens(doc: SearchDocument) -> list[str]:
    day = doc.registered_on
    out = ["xall", f"xy{day.year}", f"xm{day:%Y%m}", f"xz{day:%Y%m%d}"]
    if doc.cancelled:
        out.append("xcancelled")    # few: `… NOT xcancelled` costs little
    for kind, value in (("d", doc.department), ("t", doc.document_type),
                        ("f", doc.file_code), ("r", doc.direction)):
        if value:
            out.append(_key(kind, value))
    out += [_key("v", dept) for dept in sorted(set(doc.visibility)) if dept]
    out += [_key("n", key) for key in number_keys_of_label(doc.label)]
    return out


def _fts_values(doc: SearchDocument) -> tuple[str, str, str, str]:
    head = " ".join(analyze(" ".join([doc.summary, *doc.titles])))
    return (head, " ".join(analyze(doc.text)), " ".join(analyze(doc.sender_name)),
            " ".join(_meta_tokens(doc)))


def date_tokens(first: date, last: date) -> list[str]:
    """Whole years, whole months and single days that exactly cover [first, last]."""
    out, day = [], first
    while day <= last:
        if day.month == 1 and day.day == 1 and date(day.year, 12, 31) <= last:
            out.append(f"xy{day.year}")
            day = date(day.year + 1, 1, 1)
            continue
        next_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if day.day == 1 and next_month - timedelta(days=1) <= last:
            out.append(f"xm{day:%Y%m}")
            day = next_month
            continue
        out.append(f"xz{day:%Y%m%d}")
        day += timedelta(days=1)
    return out


def _either(tokens: list[str]) -> str:
    return "meta : (" + " OR ".join(f'"{t}"' for t in tokens) + ")"


class Fts5Backend:
    name = "sqlite"

    def __init__(self, path: str):
        if not path:
            raise SearchError("Fișierul indexului de căutare nu este configurat.")
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(SCHEMA)
        with self._write() as conn:
            found = conn.execute("SELECT value FROM search_meta WHERE key='analyzer'").fetchone()
            if found is None:
                conn.execute("INSERT INTO search_meta VALUES ('analyzer', ?)", (ANALYZER_VERSION,))
            elif found[0] != ANALYZER_VERSION:
                raise SearchError("Indexul de căutare a fost construit cu o versiune veche a "
                                  "analizei textului; rulați «dosar archive reindex».")

    # --- connections ----------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        """One connection per thread (the web server is threaded)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-131072")      # 128 MiB of pages
            conn.execute("PRAGMA mmap_size=268435456")      # 256 MiB read without copying
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self):
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- writing --------------------------------------------------------------------
    def index(self, docs: list[SearchDocument], *, wait: bool = True) -> None:
        """Visible to searches once it returns (`wait` is for the interface's sake)."""
        with self._write() as conn:
            for doc in docs:
                self._forget(conn, doc.entry_id)
                conn.execute(
                    "INSERT INTO search_doc VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.entry_id, doc.label, doc.registered_on.isoformat(), doc.year,
                     doc.department, doc.document_type, doc.file_code, doc.direction,
                     int(doc.cancelled), doc.sender_name, doc.summary,
                     json.dumps(doc.titles, ensure_ascii=False),
                     json.dumps(sorted(set(doc.visibility)), ensure_ascii=False)))
                conn.execute("INSERT INTO search_text VALUES (?, ?)",
                             (doc.entry_id, zlib.compress(doc.text.encode(), 3)))
                conn.execute("INSERT INTO search_fts (rowid, head, body, sender, meta) "
                             "VALUES (?,?,?,?,?)", (-doc.entry_id, *_fts_values(doc)))

    def delete(self, entry_ids: list[int]) -> None:
        with self._write() as conn:
            for entry_id in entry_ids:
                self._forget(conn, entry_id)

    def _forget(self, conn, entry_id: int) -> None:
        old = self._stored(conn, [entry_id], with_text=True)
        if not old:
            return
        conn.execute("INSERT INTO search_fts (search_fts, rowid, head, body, sender, meta) "
                     "VALUES ('delete', ?,?,?,?,?)", (-entry_id, *_fts_values(old[entry_id])))
        conn.execute("DELETE FROM search_doc WHERE entry_id = ?", (entry_id,))
        conn.execute("DELETE FROM search_text WHERE entry_id = ?", (entry_id,))

    def clear(self) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
            conn.execute("DELETE FROM search_doc")
            conn.execute("DELETE FROM search_text")

    def optimize(self) -> None:
        """Merge the index into one segment: after a full reindex, queries read less."""
        with self._write() as conn:
            conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")

    def count(self) -> int:
        return self._conn().execute("SELECT count(*) FROM search_doc").fetchone()[0]

    # --- reading --------------------------------------------------------------------
    def _stored(self, conn, entry_ids, with_text=False) -> dict[int, SearchDocument]:
        if not entry_ids:
            return {}
        marks = ",".join("?" * len(entry_ids))
        text_col = "t.body" if with_text else "NULL"
        rows = conn.execute(
            f"SELECT d.*, {text_col} FROM search_doc d LEFT JOIN search_text t "
            f"ON t.entry_id = d.entry_id WHERE d.entry_id IN ({marks})", list(entry_ids))
        out = {}
        for (entry_id, label, on, _year, dept, dtype, file_code, direction, cancelled,
             sender, summary, titles, visibility, blob) in rows:
            out[entry_id] = SearchDocument(
                entry_id=entry_id, label=label, registered_on=date.fromisoformat(on),
                sender_name=sender, department=dept, document_type=dtype,
                file_code=file_code, direction=direction, cancelled=bool(cancelled),
                summary=summary, titles=json.loads(titles), visibility=json.loads(visibility),
                text=zlib.decompress(blob).decode() if blob else "")
        return out

    def _expression(self, query: SearchQuery, terms: list[str]) -> tuple[str, str] | None:
        """(the whole MATCH expression, its text part); None when nothing can match."""
        text = [f'{TEXT_COLUMNS} : "{t}"' for t in terms]
        parts = text + [f'sender : "{t}"' for t in query_terms(query.sender)]
        if query.register_number:
            parts.append(f'meta : "{_key("n", number_keys_of_query(query.register_number))}"')
        for kind, value in (("d", query.department), ("t", query.document_type),
                            ("f", query.file_code)):
            if value:
                parts.append(f'meta : "{_key(kind, value)}"')
        if query.year:
            parts.append(f'meta : "xy{int(query.year)}"')
        if query.date_from or query.date_to:
            parts.append(_either(self._date_range(query.date_from, query.date_to)))
        if query.allowed_departments is not None:
            allowed = sorted(d for d in query.allowed_departments if d)
            if not allowed:
                return None
            parts.append(_either([_key("v", d) for d in allowed]))
        expression = " AND ".join(parts) or 'meta : "xall"'
        if not query.include_cancelled:
            expression = f'({expression}) NOT meta : "xcancelled"'
        if query.confidential_departments is not None:
            # Leave out confidential entries unless they are of a department named.
            hidden = f'meta : "{_key("v", CONFIDENTIAL)}"'
            readable = sorted(d for d in query.confidential_departments if d)
            if readable:
                hidden = f'({hidden} NOT {_either([_key("v", d) for d in readable])})'
            expression = f'({expression}) NOT {hidden}'
        return expression, " AND ".join(text)

    def _date_range(self, first: date | None, last: date | None) -> list[str]:
        if first is None or last is None:
            # An open end stops at the oldest or newest year in the index.
            low, high = self._conn().execute(
                "SELECT min(year), max(year) FROM search_doc").fetchone()
            if low is None:
                return ["xnone"]
            first = first or date(low, 1, 1)
            last = last or date(high, 12, 31)
        return date_tokens(first, last) if first <= last else ["xnone"]

    def search(self, query: SearchQuery) -> SearchResult:
        query.check()
        terms = query_terms(query.text)
        expressions = self._expression(query, terms)
        empty = SearchResult(0, [], {name: [] for name in FACETS}, page=query.page,
                             size=query.size)
        if expressions is None or query.offset >= MAX_RESULTS:
            return empty
        expression, text_only = expressions
        conn = self._conn()
        # Rowids are -entry_id: FTS5 walks its lists forwards, newest entry first, and
        # stops at the LIMIT; counting stops past MAX_RESULTS.
        total = self._count(conn, expression, MAX_RESULTS + 1)
        if not total:
            return empty
        ranked = self._by_relevance(conn, expression, text_only, terms)
        if ranked is not None:
            page = ranked[query.offset:query.offset + query.size]
        else:
            page = [(-rowid, 0.0) for (rowid,) in conn.execute(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid "
                "LIMIT ? OFFSET ?", (expression, query.size, query.offset))]
        sample = min(total, FACET_WINDOW)
        facets = self._facets(conn, expression, sample)
        stored = self._stored(conn, [entry_id for entry_id, _ in page], with_text=True)
        hits = [self._hit(stored[entry_id], set(terms), score)
                for entry_id, score in page if entry_id in stored]
        return SearchResult(min(total, MAX_RESULTS), hits, facets,
                            total_exact=total <= MAX_RESULTS,
                            ranked_by="relevance" if ranked is not None else "date",
                            facets_approximate=total > sample, facets_sample=sample,
                            page=query.page, size=query.size)

    @staticmethod
    def _count(conn, expression: str, limit: int) -> int:
        return conn.execute("SELECT count(*) FROM (SELECT rowid FROM search_fts WHERE "
                            "search_fts MATCH ? LIMIT ?)", (expression, limit)).fetchone()[0]

    def _by_relevance(self, conn, expression: str, text_only: str, terms: list[str]):
        """[(entry_id, score)] best first, or None when a word is too common to rank
        by quickly. BM25 counts every list of the query to weigh its words, so it runs
        on the words alone (each in at most RANK_DF entries), and the filters are
        applied by intersecting with the matches of the whole expression."""
        if not terms or any(self._count(conn, f'{TEXT_COLUMNS} : "{t}"', RANK_DF + 1) > RANK_DF
                            for t in terms):
            return None
        wanted = {rowid for (rowid,) in conn.execute(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (expression,))}
        scored = [(score, rowid) for rowid, score in conn.execute(
            "SELECT rowid, bm25(search_fts, ?, ?, ?, ?) FROM search_fts "
            "WHERE search_fts MATCH ?", (*WEIGHTS, text_only)) if rowid in wanted]
        scored.sort()   # BM25 is negative in FTS5: the smaller the better; then newest
        return [(-rowid, -score) for score, rowid in scored[:MAX_RESULTS]]

    def _facets(self, conn, expression: str, sample: int) -> dict[str, list[tuple[str, int]]]:
        """Counts over the `sample` newest matches, in one statement."""
        rows = conn.execute(
            "WITH m AS MATERIALIZED (SELECT d.department AS f0, d.document_type AS f1, "
            "d.year AS f2, d.file_code AS f3 FROM (SELECT rowid AS id FROM search_fts "
            "WHERE search_fts MATCH ? ORDER BY rowid LIMIT ?) r "
            "JOIN search_doc d INDEXED BY search_doc_facets ON d.entry_id = -r.id) "
            + " UNION ALL ".join(f"SELECT {i}, f{i}, count(*) FROM m GROUP BY f{i}"
                                 for i in range(len(FACETS))),
            (expression, sample))
        out = {name: [] for name in FACETS}
        for i, value, count in rows:
            if value not in ("", None):
                out[FACETS[i]].append((str(value), count))
        for values in out.values():
            values.sort(key=lambda kv: (-kv[1], kv[0]))
        return out

    @staticmethod
    def _hit(doc: SearchDocument, terms: set[str], score: float) -> SearchHit:
        return SearchHit(entry_id=doc.entry_id, label=doc.label, registered_on=doc.registered_on,
                         sender_name=doc.sender_name, department=doc.department,
                         document_type=doc.document_type, file_code=doc.file_code,
                         cancelled=doc.cancelled, summary=doc.summary, titles=doc.titles,
                         snippets=hit_snippets(doc.summary, doc.titles, doc.text, terms),
                         score=score)


def hit_snippets(summary: str, titles: list[str], text: str, terms: set[str]) -> list:
    """The marked summary, then up to two marked pieces of the titles and text; the
    text's beginning when the entry matched on other fields only."""
    out = [snippets.mark_all(summary, terms)] if summary else []
    pieces = snippets.fragments(" · ".join(titles), terms, count=1) if titles else []
    pieces += snippets.fragments(text, terms, count=2)
    out += pieces[:2]
    if not out and text:
        out.append(snippets.beginning(text))
    return out
