"""The production search backend: an Elasticsearch cluster, through the official client.

One index (`settings.elasticsearch_index`), one document per register entry, `_id` =
the entry's id. Text fields go through the `dosar_ro` analyzer, the same chain as
`folding.py`: standard tokenizer, lowercase, asciifolding, our Romanian stop list
(already folded) and the Snowball Romanian stemmer, so both backends find the same
entries for the same words. Filters are keyword/date/boolean fields; facets are
terms aggregations (exact counts); snippets come from the highlighter.
"""
from datetime import date

from elasticsearch import Elasticsearch, helpers
from markupsafe import Markup, escape

from .base import (CONFIDENTIAL, FACETS, MAX_RESULTS, SearchDocument, SearchHit, SearchQuery, SearchResult,
                   number_keys_of_label, number_keys_of_query)
from .folding import STOP_WORDS, query_terms

ANALYZER = "dosar_ro"
TEXT = {"type": "text", "analyzer": ANALYZER}
KEYWORD = {"type": "keyword"}

SETTINGS = {
    "index": {"max_result_window": MAX_RESULTS},
    "analysis": {
        "filter": {
            "dosar_stop": {"type": "stop", "stopwords": sorted(STOP_WORDS)},
            "dosar_stemmer": {"type": "stemmer", "language": "romanian"},
        },
        "analyzer": {
            ANALYZER: {"type": "custom", "tokenizer": "standard",
                       "filter": ["lowercase", "asciifolding", "dosar_stop", "dosar_stemmer"]},
        },
    },
}

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "entry_id": {"type": "long"},
        "label": KEYWORD,
        "number_keys": KEYWORD,          # see base.number_keys_of_label
        "registered_on": {"type": "date", "format": "yyyy-MM-dd"},
        "year": {"type": "integer"},
        "sender_name": TEXT,
        "department": KEYWORD,
        "document_type": KEYWORD,
        "file_code": KEYWORD,
        "direction": KEYWORD,
        "cancelled": {"type": "boolean"},
        "summary": TEXT,
        "titles": TEXT,
        "text": TEXT,
        "visibility": KEYWORD,
    },
}

# The summary and the titles say what the document is about; the text is long.
TEXT_FIELDS = ["summary^4", "titles^4", "sender_name^2", "text"]
HIGHLIGHT = {
    "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
    "fields": {
        "summary": {"number_of_fragments": 0},
        "titles": {"number_of_fragments": 1, "fragment_size": 160},
        "text": {"number_of_fragments": 2, "fragment_size": 160, "no_match_size": 200},
    },
}


def _source(doc: SearchDocument) -> dict:
    return {
        "entry_id": doc.entry_id, "label": doc.label,
        "number_keys": number_keys_of_label(doc.label),
        "registered_on": doc.registered_on.isoformat(), "year": doc.year,
        "sender_name": doc.sender_name, "department": doc.department,
        "document_type": doc.document_type, "file_code": doc.file_code,
        "direction": doc.direction, "cancelled": doc.cancelled, "summary": doc.summary,
        "titles": doc.titles, "text": doc.text, "visibility": sorted(set(doc.visibility)),
    }


class ElasticBackend:
    name = "elasticsearch"

    def __init__(self, url: str, index: str, client: Elasticsearch | None = None):
        self.client = client or Elasticsearch(url, request_timeout=30)
        self.index_name = index
        self._ready = False

    def ensure_index(self) -> None:
        if self._ready:
            return
        if not self.client.indices.exists(index=self.index_name):
            self.client.indices.create(index=self.index_name, settings=SETTINGS,
                                       mappings=MAPPINGS)
        self._ready = True

    # --- writing --------------------------------------------------------------------
    def index(self, docs: list[SearchDocument], *, wait: bool = True) -> None:
        """`wait`: return once the entries are searchable (refresh=wait_for)."""
        if not docs:
            return
        self.ensure_index()
        actions = ({"_op_type": "index", "_index": self.index_name, "_id": str(doc.entry_id),
                    "_source": _source(doc)} for doc in docs)
        helpers.bulk(self.client, actions, refresh="wait_for" if wait else False)

    def delete(self, entry_ids: list[int]) -> None:
        if not entry_ids:
            return
        self.ensure_index()
        actions = ({"_op_type": "delete", "_index": self.index_name, "_id": str(i)}
                   for i in entry_ids)
        # An id that is not in the index is already what we want.
        helpers.bulk(self.client, actions, refresh="wait_for", ignore_status=(404,))

    def clear(self) -> None:
        self.client.indices.delete(index=self.index_name, ignore_unavailable=True)
        self._ready = False
        self.ensure_index()

    def optimize(self) -> None:
        """After a full reindex: make everything searchable now."""
        self.ensure_index()
        self.client.indices.refresh(index=self.index_name)

    def count(self) -> int:
        self.ensure_index()
        return self.client.count(index=self.index_name)["count"]

    # --- reading --------------------------------------------------------------------
    def _filters(self, query: SearchQuery) -> list[dict] | None:
        filters = []
        if query_terms(query.sender):     # stop words alone filter nothing (as in FTS5)
            filters.append({"match": {"sender_name": {"query": query.sender,
                                                      "operator": "and"}}})
        if query.register_number:
            filters.append({"term": {"number_keys": number_keys_of_query(query.register_number)}})
        for name, value in (("department", query.department),
                            ("document_type", query.document_type),
                            ("file_code", query.file_code)):
            if value:
                filters.append({"term": {name: value}})
        if query.year:
            filters.append({"term": {"year": int(query.year)}})
        if query.date_from or query.date_to:
            bounds = {}
            if query.date_from:
                bounds["gte"] = query.date_from.isoformat()
            if query.date_to:
                bounds["lte"] = query.date_to.isoformat()
            filters.append({"range": {"registered_on": bounds}})
        if not query.include_cancelled:
            filters.append({"term": {"cancelled": False}})
        if query.allowed_departments is not None:
            allowed = sorted(d for d in query.allowed_departments if d)
            if not allowed:
                return None
            filters.append({"terms": {"visibility": allowed}})
        if query.confidential_departments is not None:
            # Leave out confidential entries unless they are of a department named.
            readable = sorted(d for d in query.confidential_departments if d)
            hidden = {"bool": {"filter": [{"term": {"visibility": CONFIDENTIAL}}],
                               "must_not": [{"terms": {"visibility": readable}}]
                               if readable else []}}
            filters.append({"bool": {"must_not": [hidden]}})
        return filters

    def search(self, query: SearchQuery) -> SearchResult:
        query.check()
        empty = SearchResult(0, [], {name: [] for name in FACETS}, page=query.page,
                             size=query.size)
        filters = self._filters(query)
        if filters is None or query.offset >= MAX_RESULTS:
            return empty
        self.ensure_index()
        terms = query_terms(query.text)
        must = [{"multi_match": {"query": query.text, "fields": TEXT_FIELDS,
                                 "type": "cross_fields", "operator": "and"}}] if terms else []
        response = self.client.search(
            index=self.index_name,
            query={"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
            sort=[{"_score": "desc"}, {"entry_id": "desc"}],
            from_=query.offset, size=min(query.size, MAX_RESULTS - query.offset),
            track_total_hits=True, source_excludes=["text"],
            aggs={name: {"terms": {"field": name, "size": 50}} for name in FACETS},
            highlight=HIGHLIGHT if terms else None)
        hits = [self._hit(hit) for hit in response["hits"]["hits"]]
        total = response["hits"]["total"]
        facets = {name: [(str(bucket["key"]), bucket["doc_count"])
                         for bucket in response["aggregations"][name]["buckets"]]
                  for name in FACETS}
        return SearchResult(min(total["value"], MAX_RESULTS), hits, facets,
                            total_exact=total["relation"] == "eq"
                            and total["value"] <= MAX_RESULTS,
                            ranked_by="relevance" if terms else "date",
                            page=query.page, size=query.size)

    @staticmethod
    def _hit(hit: dict) -> SearchHit:
        source, marked = hit["_source"], hit.get("highlight", {})
        summary = source.get("summary", "")
        out = [Markup(marked["summary"][0])] if "summary" in marked else (
            [Markup(escape(summary))] if summary else [])
        pieces = [Markup(f) for field in ("titles", "text") for f in marked.get(field, [])
                  if "<mark>" in f]
        out += pieces[:2]
        if not out and marked.get("text"):
            out.append(Markup(marked["text"][0]))
        return SearchHit(
            entry_id=int(source["entry_id"]), label=source["label"],
            registered_on=date.fromisoformat(source["registered_on"]),
            sender_name=source.get("sender_name", ""), department=source.get("department", ""),
            document_type=source.get("document_type", ""), file_code=source.get("file_code", ""),
            cancelled=bool(source.get("cancelled")), summary=summary,
            titles=list(source.get("titles", [])), snippets=out,
            score=float(hit.get("_score") or 0.0))
