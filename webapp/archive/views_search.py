"""Archive search (/arhiva/): one box for words, filters for the register's fields,
results with the matched words marked, facets that narrow the search, pages.

Everybody logged in may search; each finds only the entries they may read (the
register's visibility rule, `webapp.registry.access`: confidential entries only in
their department). Bad filter values come back
with a message naming the field and the form as typed; nothing is searched then.
`dosar archive reindex` rebuilds the whole index.
"""
import time
from dataclasses import dataclass, field
from datetime import date, datetime

import click
from flask import render_template, request
from flask_babel import format_number, gettext as _
from sqlalchemy import select

from archive import settings as archive_settings
from archive.indexing import current_backend, reindex_all
from archive.search import MAX_RESULTS, SearchError, SearchQuery
from archive.search.base import number_keys_of_query
from connectors.registry.models import NomenclatorFile
from webapp.auth.models import Department
from webapp.auth.session import login_required
from webapp.database import db
from webapp.registry.access import search_scope
from webapp.registry.views import document_type_titles

from . import bp
from .cli import archive_cli

PAGE_SIZE = 20
MAX_PAGE = MAX_RESULTS // PAGE_SIZE
FIELDS = ("q", "number", "from", "to", "sender", "department", "type", "file", "year",
          "cancelled")


def _day(text: str) -> date | None:
    """A day typed as 22.11.2026 (or sent as 2026-11-22 by a date picker)."""
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


@dataclass
class SearchForm:
    """What was typed (kept as typed) and, per field, what is wrong with it."""
    typed: dict
    errors: dict = field(default_factory=dict)
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "SearchForm":
        typed = {name: args.get(name, "").strip()[:500] for name in FIELDS}
        form = cls(typed)
        if typed["number"] and number_keys_of_query(typed["number"]) is None:
            form.errors["number"] = _("«Număr de înregistrare» nu este un număr de "
                                      "înregistrare (exemple: 123, 123/2026, URB-12/2026).")
        for name, title in (("from", _("De la")), ("to", _("Până la"))):
            if typed[name] and _day(typed[name]) is None:
                form.errors[name] = _("«%(field)s» nu este o dată validă (zz.ll.aaaa).",
                                      field=title)
        first, last = _day(typed["from"]), _day(typed["to"])
        if first and last and first > last and "to" not in form.errors:
            form.errors["to"] = _("«Până la» este înaintea datei «De la».")
        year = typed["year"]
        if year and not (year.isdigit() and 1900 <= int(year) <= 2100):
            form.errors["year"] = _("«An» trebuie să fie un an, de exemplu 2026.")
        page = args.get("page", "1").strip() or "1"
        if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
            form.errors["page"] = _("«Pagina» trebuie să fie un număr între 1 și %(max)d.",
                                    max=MAX_PAGE)
        else:
            form.page = int(page)
        return form

    @property
    def asked(self) -> bool:
        return any(self.typed[name] for name in FIELDS if name != "cancelled")

    def query(self, allowed, confidential=None) -> SearchQuery:
        t = self.typed
        return SearchQuery(
            text=t["q"], register_number=t["number"], date_from=_day(t["from"]) if t["from"] else None,
            date_to=_day(t["to"]) if t["to"] else None, sender=t["sender"],
            department=t["department"], document_type=t["type"], file_code=t["file"],
            year=int(t["year"]) if t["year"] else None, include_cancelled=t["cancelled"] == "1",
            allowed_departments=allowed, confidential_departments=confidential,
            page=self.page, size=PAGE_SIZE)

    def args(self, **changes) -> dict:
        """The search as query arguments, for facet and page links."""
        values = {**self.typed, "page": str(self.page) if self.page > 1 else ""}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None)}


def _choices() -> dict:
    return {
        "departments": dict(db.session.execute(select(Department.code, Department.name)).all()),
        "document_types": document_type_titles(),
        "files": dict(db.session.execute(select(NomenclatorFile.code, NomenclatorFile.title)
                                         .order_by(NomenclatorFile.code)).all()),
    }


@bp.route("/")
@login_required
def search():
    form = SearchForm.from_args(request.args)
    # The register's rule (access.py): confidential entries only for those who read them.
    allowed, confidential = search_scope()
    result = None
    if form.asked and not form.errors:
        try:
            result = current_backend().search(form.query(allowed, confidential))
        except SearchError as err:
            form.errors["q"] = str(err)
    return render_template("archive/search.html", form=form, result=result,
                           whole_register=allowed is None, max_results=MAX_RESULTS, number=format_number,
                           **_choices()), 422 if form.errors else 200


@archive_cli.command("reindex")
@click.option("--batch", default=1000, show_default=True, help="înregistrări pe lot")
def reindex_command(batch):
    """Reconstruiește indexul de căutare din registru și din textul documentelor."""
    backend = current_backend()
    started = time.monotonic()
    settings = archive_settings.current()
    where = (settings.elasticsearch_url if backend.name == "elasticsearch"
             else settings.search_path)
    click.echo(f"Motor de căutare: {backend.name} ({where})")
    done = reindex_all(db.session, backend, batch=batch, actor="dosar archive reindex",
                       progress=lambda n: click.echo(f"  {n} înregistrări…") if n % 10000 == 0
                       else None)
    db.session.commit()
    click.echo(f"Indexul de căutare are {backend.count()} înregistrări "
               f"({done} indexate în {time.monotonic() - started:.1f} s).")
