"""What every search backend takes and gives back.

The unit of search is a register entry: its register fields, the text of the current
version of each of its documents and their titles. `visibility` lists the departments
whose people may find it; the Registratura, the mayor, the secretary and the archivist
search with `allowed_departments=None` (everything). A confidential entry also carries
CONFIDENTIAL in its `visibility`: a query with `confidential_departments` set finds it
only when one of those departments is in its visibility.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from markupsafe import Markup

from connectors.registry.references import parse_reference

FACETS = ("department", "document_type", "year", "file_code")
CONFIDENTIAL = "!confidential"       # in `visibility`: not for the register's overseers
MAX_RESULTS = 10_000     # results reachable by paging (Elasticsearch's max_result_window)
MAX_PAGE_SIZE = 100


class SearchError(Exception):
    """A query the index cannot answer as asked; the message is for the user."""


@dataclass
class SearchDocument:
    entry_id: int
    label: str                       # 1234/22.11.2026, URB-12/03.02.2026
    registered_on: date
    sender_name: str = ""
    department: str = ""
    document_type: str = ""
    file_code: str = ""              # the nomenclator file (indicativ dosar)
    direction: str = "in"
    cancelled: bool = False
    summary: str = ""
    titles: list[str] = field(default_factory=list)
    text: str = ""                   # the documents' text, one after another
    visibility: list[str] = field(default_factory=list)

    @property
    def year(self) -> int:
        return self.registered_on.year


@dataclass
class SearchQuery:
    text: str = ""
    register_number: str = ""        # 123, 123/2026, 123/05.03.2026, URB-12/2026
    date_from: date | None = None
    date_to: date | None = None
    sender: str = ""                 # every word of it in the sender's name
    department: str = ""
    document_type: str = ""
    file_code: str = ""
    year: int | None = None
    include_cancelled: bool = False
    allowed_departments: frozenset[str] | set[str] | None = None   # None: everything
    # Confidential entries found only in these departments (None: wherever allowed).
    confidential_departments: frozenset[str] | set[str] | None = None
    page: int = 1
    size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def check(self) -> None:
        """Refuse what no backend can answer (the web form checks first, by field)."""
        if self.page < 1 or not 1 <= self.size <= MAX_PAGE_SIZE:
            raise SearchError("Pagina cerută nu există.")
        if self.register_number and number_keys_of_query(self.register_number) is None:
            raise SearchError(f"«{self.register_number}» nu este un număr de înregistrare.")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise SearchError("Data de început este după data de sfârșit.")


@dataclass
class SearchHit:
    entry_id: int
    label: str
    registered_on: date
    sender_name: str
    department: str
    document_type: str
    file_code: str
    cancelled: bool
    summary: str
    titles: list[str]
    snippets: list[Markup]           # HTML: escaped text, <mark> around matched words
    score: float


@dataclass
class SearchResult:
    total: int
    hits: list[SearchHit]
    # facet name → [(value, count)], most frequent first
    facets: dict[str, list[tuple[str, int]]]
    # False when there were more than MAX_RESULTS matches and `total` is that bound
    total_exact: bool = True
    ranked_by: str = "relevance"     # relevance / date (newest first)
    # True when the counts were taken over the newest matches only (see fts5.py)
    facets_approximate: bool = False
    facets_sample: int = 0
    page: int = 1
    size: int = 20

    @property
    def pages(self) -> int:
        reachable = min(self.total, MAX_RESULTS)
        return max((reachable + self.size - 1) // self.size, 1)


class SearchBackend(Protocol):
    name: str

    def index(self, docs: list[SearchDocument], *, wait: bool = True) -> None:
        """Add or replace these entries; with `wait`, visible to searches on return
        (a bulk reindex passes False and calls `optimize()` at the end)."""

    def delete(self, entry_ids: list[int]) -> None:
        """Forget these entries; unknown ids are ignored."""

    def search(self, query: SearchQuery) -> SearchResult: ...

    def count(self) -> int:
        """Entries in the index."""

    def clear(self) -> None:
        """Forget everything (before a full reindex)."""

    def optimize(self) -> None:
        """After many writes: merge (FTS5) or refresh (Elasticsearch)."""


# --- register numbers -----------------------------------------------------------------

def number_keys_of_query(text: str) -> str | None:
    """The one key an entry must carry to have this number (None: not a number)."""
    parsed = parse_reference(text)
    if parsed is None:
        return None
    prefix, number, year, day = parsed.prefix, parsed.number, parsed.year, parsed.day
    if day:
        return f"{prefix}|{number}|{day.isoformat()}"
    return f"{prefix}|{number}|{year}" if year else f"{prefix}|{number}"


def number_keys_of_label(label: str) -> list[str]:
    """Every way a person may ask for this entry's number: bare, with year, with day."""
    parsed = parse_reference(label)
    if parsed is None:
        return []
    prefix, number, year, day = parsed.prefix, parsed.number, parsed.year, parsed.day
    keys = [f"{prefix}|{number}"]
    if year:
        keys.append(f"{prefix}|{number}|{year}")
    if day:
        keys.append(f"{prefix}|{number}|{day.isoformat()}")
    return keys
