"""A local stand-in for an Elasticsearch node, for testing `archive/search/elastic.py`
through the real `elasticsearch` client. No Elasticsearch server can run here.

It is a small threaded HTTP server that answers exactly the REST calls our backend
makes, with the request and response shapes of Elasticsearch 9: index exists (HEAD),
create with settings and mappings, delete, `_bulk` (NDJSON index/delete actions),
`_search` (bool with must/filter/must_not/should, multi_match cross_fields and
best_fields, match, term, terms, range, match_all; sort by _score and fields;
from/size; track_total_hits; `_source_excludes`; terms aggregations; highlight with
pre/post tags, html encoder, fragment_size, number_of_fragments, no_match_size),
`_count`, `_delete_by_query`, `_refresh`. Every answer carries
`X-Elastic-Product: Elasticsearch`, which the client checks.

Text fields are analysed as the mapping says, and the analyzer is read from the
index settings: it must be a custom analyzer with the standard tokenizer and
filters among lowercase, asciifolding, stop (with its own list) and the Romanian
stemmer — the stand-in refuses anything else (400), rather than pretend. Its
tokenizer is our `folding.TOKEN` (letters and digits), close to but not the same as
Lucene's UAX#29 tokenizer; scores are BM25-like, not Lucene's exact numbers.
Anything it does not know answers 400 `parsing_exception`, like a real node would
for a malformed request.
"""
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import snowballstemmer
from markupsafe import escape

from archive.search import snippets
from archive.search.folding import TOKEN, fold, nfc

JSON_TYPE = "application/vnd.elasticsearch+json;compatible-with=9"


class Refused(Exception):
    def __init__(self, status: int, kind: str, reason: str):
        super().__init__(reason)
        self.status, self.kind, self.reason = status, kind, reason


class Analyzer:
    """A custom analyzer from index settings, applied with our equivalents."""

    KNOWN = {"lowercase", "asciifolding", "stop", "stemmer", "snowball"}

    def __init__(self, name: str, analysis: dict):
        spec = analysis.get("analyzer", {}).get(name)
        if spec is None:
            raise Refused(400, "mapper_parsing_exception", f"analyzer [{name}] has not been configured in mappings")
        if spec.get("type") != "custom" or spec.get("tokenizer") != "standard":
            raise Refused(400, "illegal_argument_exception", f"stand-in: analyzer [{name}] unsupported")
        self.steps = []
        for filter_name in spec.get("filter", []):
            custom = analysis.get("filter", {}).get(filter_name)
            kind = custom["type"] if custom else filter_name
            if kind not in self.KNOWN:
                raise Refused(400, "illegal_argument_exception", f"stand-in: filter [{filter_name}] unsupported")
            if kind == "stop":
                self.steps.append(("stop", frozenset((custom or {}).get("stopwords", []))))
            elif kind in ("stemmer", "snowball"):
                language = (custom or {}).get("language", "").lower()
                if language != "romanian":
                    raise Refused(400, "illegal_argument_exception", f"stand-in: stemmer [{language}] unsupported")
                self.steps.append(("stem", snowballstemmer.stemmer("romanian")))
            else:
                self.steps.append((kind, None))

    def __call__(self, text: str) -> list[str]:
        out = []
        for token in TOKEN.findall(nfc(text)):
            for kind, arg in self.steps:
                if kind == "lowercase":
                    token = token.lower()
                elif kind == "asciifolding":
                    token = fold(token)
                elif kind == "stop" and token in arg:
                    token = ""
                    break
                elif kind == "stem":
                    token = arg.stemWord(token)
            if token:
                out.append(token)
        return out


class Index:
    def __init__(self, name: str, settings: dict, mappings: dict):
        self.name, self.settings, self.mappings = name, settings, mappings
        self.docs: dict[str, dict] = {}
        self.versions: dict[str, int] = {}
        analysis = settings.get("analysis") or settings.get("index", {}).get("analysis", {})
        self.fields = mappings.get("properties", {})
        self.analyzers = {f: Analyzer(spec["analyzer"], analysis) for f, spec in self.fields.items()
                          if spec.get("type") == "text" and "analyzer" in spec}
        window = (settings.get("index", {}).get("max_result_window")
                  or settings.get("max_result_window") or 10000)
        self.max_window = int(window)
        self.lock = threading.Lock()

    def check_source(self, source: dict) -> None:
        if self.mappings.get("dynamic") == "strict":
            for key in source:
                if key not in self.fields:
                    raise Refused(400, "strict_dynamic_mapping_exception",
                                  f"mapping set to strict, dynamic introduction of [{key}] within [_doc] is not allowed")

    def analyze(self, field: str, value) -> list[str]:
        values = value if isinstance(value, list) else [value]
        analyzer = self.analyzers.get(field)
        if analyzer is None:
            return [str(v) for v in values]
        return [t for v in values if v is not None for t in analyzer(str(v))]

    def field_value(self, doc: dict, field: str):
        value = doc.get(field)
        return value if isinstance(value, list) else ([] if value is None else [value])


# --- queries ------------------------------------------------------------------------------

def _field_boost(spec: str) -> tuple[str, float]:
    name, _, boost = spec.partition("^")
    return name, float(boost or 1.0)


class Searcher:
    """Evaluates a query on one index: matching ids, scores, highlight terms."""

    def __init__(self, index: Index):
        self.index = index
        self.docs = index.docs
        self.n = max(len(self.docs), 1)
        self.term_cache: dict[tuple[str, str], list[str]] = {}
        self.highlight_terms: dict[str, set[str]] = {}

    def terms_of(self, doc_id: str, field: str) -> list[str]:
        key = (doc_id, field)
        if key not in self.term_cache:
            self.term_cache[key] = self.index.analyze(field, self.docs[doc_id].get(field))
        return self.term_cache[key]

    def bm25(self, field: str, term: str, doc_id: str) -> float:
        terms = self.terms_of(doc_id, field)
        tf = terms.count(term)
        if not tf:
            return 0.0
        df = sum(1 for d in self.docs if term in self.terms_of(d, field))
        lengths = [len(self.terms_of(d, field)) for d in self.docs]
        average = sum(lengths) / max(len(lengths), 1) or 1.0
        idf = math.log(1 + (self.n - df + 0.5) / (df + 0.5))
        return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(terms) / average))

    def run(self, query: dict) -> dict[str, float]:
        """doc id → score of the documents the query matches."""
        if len(query) != 1:
            raise Refused(400, "parsing_exception", "query malformed, must have exactly one key")
        (kind, body), = query.items()
        method = getattr(self, f"q_{kind}", None)
        if method is None:
            raise Refused(400, "parsing_exception", f"unknown query [{kind}]")
        return method(body)

    def q_match_all(self, body) -> dict[str, float]:
        return {d: 1.0 for d in self.docs}

    def q_bool(self, body: dict) -> dict[str, float]:
        unknown = set(body) - {"must", "filter", "must_not", "should", "minimum_should_match"}
        if unknown:
            raise Refused(400, "parsing_exception", f"[bool] query does not support {sorted(unknown)}")
        listed = {k: (v if isinstance(v, list) else [v]) for k, v in body.items()
                  if k != "minimum_should_match"}
        scores = {d: 0.0 for d in self.docs}
        for clause in listed.get("must", []):
            found = self.run(clause)
            scores = {d: s + found[d] for d, s in scores.items() if d in found}
        for clause in listed.get("filter", []):
            found = self.run(clause)
            scores = {d: s for d, s in scores.items() if d in found}
        for clause in listed.get("must_not", []):
            found = self.run(clause)
            scores = {d: s for d, s in scores.items() if d not in found}
        should = listed.get("should", [])
        if should:
            results = [self.run(c) for c in should]
            need = body.get("minimum_should_match",
                            0 if listed.get("must") or listed.get("filter") else 1)
            kept = {}
            for d, s in scores.items():
                hits = [r[d] for r in results if d in r]
                if len(hits) >= int(need):
                    kept[d] = s + sum(hits)
            scores = kept
        if not listed.get("must") and not should:
            scores = {d: 0.0 for d in scores}     # filter context only: no score
        return scores

    def _text_match(self, fields: list[str], text: str, operator: str, cross: bool):
        specs = [_field_boost(f) for f in fields]
        for name, _ in specs:
            if name not in self.index.fields:
                raise Refused(400, "query_shard_exception", f"no mapping found for field [{name}]")
        analyzer_field = next((n for n, _ in specs if n in self.index.analyzers), specs[0][0])
        terms = list(dict.fromkeys(self.index.analyze(analyzer_field, text)))
        for name, _ in specs:
            self.highlight_terms.setdefault(name, set()).update(terms)
        out = {}
        for d in self.docs:
            per_term = []
            for term in terms:
                best = max((boost * self.bm25(name, term, d) for name, boost in specs), default=0)
                present = any(term in self.terms_of(d, name) for name, _ in specs)
                per_term.append((present, best))
            if not terms:
                continue
            if not cross:
                # best_fields: the query must match within one field
                fits = [all(t in self.terms_of(d, n) for t in terms) if operator == "and"
                        else any(t in self.terms_of(d, n) for t in terms) for n, _ in specs]
                if not any(fits):
                    continue
            elif operator == "and" and not all(p for p, _ in per_term):
                continue
            elif operator == "or" and not any(p for p, _ in per_term):
                continue
            out[d] = sum(score for _, score in per_term)
        return out

    def q_multi_match(self, body: dict) -> dict[str, float]:
        kind = body.get("type", "best_fields")
        if kind not in ("best_fields", "cross_fields"):
            raise Refused(400, "parsing_exception", f"stand-in: multi_match type [{kind}] unsupported")
        return self._text_match(body["fields"], body["query"], body.get("operator", "or").lower(),
                                kind == "cross_fields")

    def q_match(self, body: dict) -> dict[str, float]:
        (field, spec), = body.items()
        spec = spec if isinstance(spec, dict) else {"query": spec}
        return self._text_match([field], str(spec["query"]), spec.get("operator", "or").lower(), True)

    def _typed(self, field: str, value):
        kind = self.index.fields.get(field, {}).get("type")
        if kind is None:
            return None, value
        if kind == "boolean" and isinstance(value, str):
            return kind, value == "true"
        if kind in ("integer", "long") and value is not None:
            return kind, int(value)
        return kind, value

    def q_term(self, body: dict) -> dict[str, float]:
        (field, spec), = body.items()
        value = spec["value"] if isinstance(spec, dict) else spec
        return self.q_terms({field: [value]})

    def q_terms(self, body: dict) -> dict[str, float]:
        (field, values), = body.items()
        kind, _ = self._typed(field, None)
        if kind is None:
            return {}
        wanted = {self._typed(field, v)[1] for v in values}
        if kind == "text":
            wanted = {t for v in values for t in self.index.analyze(field, v)}
            return {d: 1.0 for d in self.docs if wanted & set(self.terms_of(d, field))}
        return {d: 1.0 for d, doc in self.docs.items()
                if wanted & set(self.index.field_value(doc, field))}

    def q_range(self, body: dict) -> dict[str, float]:
        (field, bounds), = body.items()
        unknown = set(bounds) - {"gte", "gt", "lte", "lt", "format"}
        if unknown:
            raise Refused(400, "parsing_exception", f"[range] query does not support {sorted(unknown)}")
        out = {}
        for d, doc in self.docs.items():
            for value in self.index.field_value(doc, field):
                if (("gte" not in bounds or value >= bounds["gte"]) and
                        ("gt" not in bounds or value > bounds["gt"]) and
                        ("lte" not in bounds or value <= bounds["lte"]) and
                        ("lt" not in bounds or value < bounds["lt"])):
                    out[d] = 1.0
        return out


def _sort(index: Index, scores: dict[str, float], sort) -> list[str]:
    keys = sort or [{"_score": "desc"}]
    ids = list(scores)
    for spec in reversed(keys):
        if isinstance(spec, str):
            spec = {spec: "desc" if spec == "_score" else "asc"}
        (field, order), = spec.items()
        order = order["order"] if isinstance(order, dict) else order
        if field == "_score":
            ids.sort(key=lambda d: scores[d], reverse=order == "desc")
        else:
            if field not in index.fields:
                raise Refused(400, "query_shard_exception", f"No mapping found for [{field}] in order to sort on")
            ids.sort(key=lambda d: (index.field_value(index.docs[d], field) or [None])[0],
                     reverse=order == "desc")
    return ids


def _highlight(index: Index, searcher: Searcher, doc: dict, spec: dict) -> dict:
    if spec.get("encoder", "default") != "html" or spec.get("pre_tags") != ["<mark>"]:
        raise Refused(400, "parsing_exception", "stand-in: only html encoder with <mark> tags")
    out = {}
    for field, options in spec.get("fields", {}).items():
        terms = searcher.highlight_terms.get(field, set())
        values = index.field_value(doc, field)
        text = " ".join(str(v) for v in values)
        count = options.get("number_of_fragments", 5)
        if count == 0:
            marked = [snippets.mark_all(text, terms, limit=10**9)] if terms else []
            marked = [m for m in marked if "<mark>" in m]
        else:
            marked = snippets.fragments(text, terms, size=options.get("fragment_size", 100),
                                        count=count)
        if not marked and options.get("no_match_size") and text:
            marked = [str(escape(text[:options["no_match_size"]]))]
        if marked:
            out[field] = [str(m) for m in marked]
    return out


def _aggregations(index: Index, ids: list[str], aggs: dict) -> dict:
    out = {}
    for name, spec in aggs.items():
        if set(spec) != {"terms"}:
            raise Refused(400, "parsing_exception", f"stand-in: aggregation [{name}] unsupported")
        field, size = spec["terms"]["field"], spec["terms"].get("size", 10)
        counts: dict = {}
        for d in ids:
            for value in set(index.field_value(index.docs[d], field)):
                counts[value] = counts.get(value, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        buckets = [{"key": k, "doc_count": c} for k, c in ordered[:size]]
        out[name] = {"doc_count_error_upper_bound": 0,
                     "sum_other_doc_count": sum(c for _, c in ordered[size:]),
                     "buckets": buckets}
    return out


class Node:
    """The cluster's state: indices by name."""

    def __init__(self):
        self.indices: dict[str, Index] = {}
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []     # (method, path) seen, for tests

    def get(self, name: str) -> Index:
        index = self.indices.get(name)
        if index is None:
            raise Refused(404, "index_not_found_exception", f"no such index [{name}]")
        return index

    def create(self, name: str, body: dict) -> dict:
        if name in self.indices:
            raise Refused(400, "resource_already_exists_exception", f"index [{name}] already exists")
        self.indices[name] = Index(name, body.get("settings", {}), body.get("mappings", {}))
        return {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def bulk(self, default_index: str | None, lines: list[str]) -> dict:
        items, errors, i = [], False, 0
        while i < len(lines):
            action = json.loads(lines[i])
            (op, meta), = action.items()
            name = meta.get("_index", default_index)
            doc_id = str(meta["_id"])
            index = self.get(name)
            if op in ("index", "create"):
                source = json.loads(lines[i + 1])
                i += 2
                try:
                    index.check_source(source)
                except Refused as err:
                    errors = True
                    items.append({op: {"_index": name, "_id": doc_id, "status": err.status,
                                       "error": {"type": err.kind, "reason": err.reason}}})
                    continue
                created = doc_id not in index.docs
                index.docs[doc_id] = source
                index.versions[doc_id] = index.versions.get(doc_id, 0) + 1
                items.append({op: {"_index": name, "_id": doc_id, "_version": index.versions[doc_id],
                                   "result": "created" if created else "updated",
                                   "status": 201 if created else 200,
                                   "_shards": {"total": 1, "successful": 1, "failed": 0}}})
            elif op == "delete":
                i += 1
                found = index.docs.pop(doc_id, None) is not None
                errors = errors or not found
                items.append({op: {"_index": name, "_id": doc_id,
                                   "result": "deleted" if found else "not_found",
                                   "status": 200 if found else 404}})
            else:
                raise Refused(400, "illegal_argument_exception", f"Malformed action/metadata line [{op}]")
        return {"took": 1, "errors": errors, "items": items}

    def search(self, index: Index, body: dict, params: dict) -> dict:
        searcher = Searcher(index)
        scores = searcher.run(body.get("query", {"match_all": {}}))
        ids = _sort(index, scores, body.get("sort"))
        start, size = int(body.get("from", 0)), int(body.get("size", 10))
        if start + size > index.max_window:
            raise Refused(400, "illegal_argument_exception",
                          f"Result window is too large, from + size must be less than or equal to: [{index.max_window}]")
        excludes = set(params.get("_source_excludes", [""])[0].split(",")) - {""}
        hits = []
        for d in ids[start:start + size]:
            doc = index.docs[d]
            hit = {"_index": index.name, "_id": d, "_score": scores[d],
                   "_source": {k: v for k, v in doc.items() if k not in excludes}}
            if body.get("highlight"):
                marked = _highlight(index, searcher, doc, body["highlight"])
                if marked:
                    hit["highlight"] = marked
            if body.get("sort"):
                hit["sort"] = [scores[d] if (next(iter(s)) if isinstance(s, dict) else s) == "_score"
                               else (index.field_value(doc, next(iter(s)))[:1] or [None])[0]
                               for s in body["sort"]]
            hits.append(hit)
        track = body.get("track_total_hits", 10000)
        total = {"value": len(ids), "relation": "eq"}
        if track is not True and isinstance(track, int) and len(ids) > track:
            total = {"value": track, "relation": "gte"}
        out = {"took": 1, "timed_out": False,
               "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
               "hits": {"total": total, "max_score": max(scores.values(), default=None),
                        "hits": hits}}
        if body.get("aggs") or body.get("aggregations"):
            out["aggregations"] = _aggregations(index, ids, body.get("aggs") or body["aggregations"])
        return out


class Handler(BaseHTTPRequestHandler):
    node: Node
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: dict | None, head_only=False) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head_only:
            self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        parts = [unquote(p) for p in url.path.split("/") if p]
        raw = self._body() if method != "HEAD" else b""
        self.node.requests.append((method, url.path))
        try:
            with self.node.lock:
                status, payload = self._route(method, parts, params, raw)
        except Refused as err:
            status, payload = err.status, {"error": {"type": err.kind, "reason": err.reason,
                                                     "root_cause": [{"type": err.kind, "reason": err.reason}]},
                                           "status": err.status}
        except (KeyError, ValueError, TypeError) as err:
            status, payload = 400, {"error": {"type": "parsing_exception", "reason": repr(err)},
                                    "status": 400}
        self._send(status, payload if method != "HEAD" else None, head_only=method == "HEAD")

    def _route(self, method, parts, params, raw):
        node = self.node
        body = json.loads(raw) if raw and parts[-1:] != ["_bulk"] else {}
        if not parts:
            return 200, {"name": "standin", "cluster_name": "dosar-test",
                         "version": {"number": "9.0.0", "build_flavor": "default"},
                         "tagline": "You Know, for Search"}
        if parts == ["_bulk"] or parts[-1] == "_bulk":
            lines = [line for line in raw.decode().split("\n") if line.strip()]
            return 200, node.bulk(parts[0] if len(parts) == 2 else None, lines)
        name = parts[0]
        if len(parts) == 1:
            if method == "HEAD":
                return (200 if name in node.indices else 404), None
            if method == "PUT":
                return 200, node.create(name, body)
            if method == "DELETE":
                if name not in node.indices and params.get("ignore_unavailable") == ["true"]:
                    return 200, {"acknowledged": True}
                node.get(name)
                del node.indices[name]
                return 200, {"acknowledged": True}
        index = node.get(name)
        action = parts[1] if len(parts) > 1 else ""
        if action == "_search":
            return 200, node.search(index, body, params)
        if action == "_count":
            searcher = Searcher(index)
            matched = searcher.run(body.get("query", {"match_all": {}}))
            return 200, {"count": len(matched), "_shards": {"total": 1, "successful": 1,
                                                            "skipped": 0, "failed": 0}}
        if action == "_delete_by_query":
            matched = Searcher(index).run(body["query"])
            for d in matched:
                del index.docs[d]
            return 200, {"took": 1, "timed_out": False, "total": len(matched),
                         "deleted": len(matched), "failures": []}
        if action == "_refresh":
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        raise Refused(400, "illegal_argument_exception", f"stand-in: no handler for {method} /{'/'.join(parts)}")

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("HEAD")


class StandIn:
    """`with StandIn() as node: …node.url…` — a node on a free local port."""

    def __init__(self):
        self.node = Node()
        handler = type("BoundHandler", (Handler,), {"node": self.node})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "StandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
