"""The register's queries: filters read from the address bar, one sorted page of
entries, an entry found by its number, earlier senders for the desk's autocomplete.

Every filter is a plain comparison on an indexed column (registered_on, department,
due_on, sender_name, the (register, year, number) key), so a register of many years
is searched without reading it all. The sender filter is a substring search: that one
reads the sender column, as any "contains" search must.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from connectors.registry.models import RegisterEntry
from connectors.registry.references import RegisterReference, entry_conditions, parse_reference

PAGE_SIZE = 50
SORTS = {
    "number": (RegisterEntry.year, RegisterEntry.number),
    "date": (RegisterEntry.registered_on,),
    "due": (RegisterEntry.due_on,),
    "sender": (RegisterEntry.sender_name,),
}
DEFAULT_SORT = "-date"
# deschis: still being worked on; intarziat: the same, past its term.
STATUSES = ("deschis", "expediat", "anulat", "intarziat")

def parse_date(text: str) -> date | None:
    """A date from an `<input type=date>` (2026-11-22) or typed as 22.11.2026."""
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


@dataclass
class RegisterFilters:
    """What the clerk asked for, cleaned: invalid values are dropped with a message."""
    number: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sender: str = ""
    department: str = ""
    document_type: str = ""
    status: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    errors: list[str] = field(default_factory=list)
    _number: RegisterReference | None = None

    @classmethod
    def from_args(cls, args) -> "RegisterFilters":
        f = cls(sender=args.get("sender", "").strip()[:300],
                department=args.get("department", "").strip()[:100],
                document_type=args.get("type", "").strip()[:100])
        number = args.get("number", "").strip()
        if number:
            f._number = parse_reference(number)
            if f._number is None:
                f.errors.append(_("«Număr» nu este un număr de înregistrare (exemple: 123, "
                                  "123/2026, URB-12/2026); filtrul a fost ignorat."))
            else:
                f.number = number
        for key, attr, title in (("from", "date_from", _("De la")),
                                 ("to", "date_to", _("Până la"))):
            text = args.get(key, "").strip()
            if text:
                value = parse_date(text)
                if value is None:
                    f.errors.append(_("«%(field)s» nu este o dată validă (zz.ll.aaaa); filtrul "
                                      "a fost ignorat.", field=title))
                setattr(f, attr, value)
        status = args.get("status", "").strip()
        if status and status not in STATUSES:
            f.errors.append(_("Starea «%(value)s» nu există; filtrul a fost ignorat.",
                              value=status[:40]))
        elif status:
            f.status = status
        sort = args.get("sort", "").strip()
        if sort and sort.lstrip("-") not in SORTS:
            f.errors.append(_("Registrul nu poate fi ordonat după «%(value)s»; este ordonat "
                              "după dată.", value=sort[:40]))
        elif sort:
            f.sort = sort
        page = args.get("page", "1").strip() or "1"
        if not page.isdigit() or int(page) < 1:
            f.errors.append(_("«Pagina» trebuie să fie un număr întreg pozitiv; se arată "
                              "prima pagină."))
        else:
            f.page = min(int(page), 10**6)
        return f

    def args(self, **changes) -> dict:
        """The valid filters as query arguments, for page and sort links."""
        values = {"number": self.number, "sender": self.sender,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "",
                  "department": self.department, "type": self.document_type,
                  "status": self.status,
                  "sort": self.sort if self.sort != DEFAULT_SORT else ""}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None)}

    def apply(self, session, stmt, today: date):
        if self._number is not None:
            stmt = stmt.where(*entry_conditions(session, self._number))
        if self.date_from:
            stmt = stmt.where(RegisterEntry.registered_on >= self.date_from)
        if self.date_to:
            stmt = stmt.where(RegisterEntry.registered_on <= self.date_to)
        if self.sender:
            # Case-insensitive through the database's collation (utf8mb4_unicode_ci on
            # MariaDB also ignores diacritics; SQLite folds ASCII letters only).
            stmt = stmt.where(RegisterEntry.sender_name.contains(self.sender, autoescape=True))
        if self.department:
            stmt = stmt.where(RegisterEntry.department == self.department)
        if self.document_type:
            stmt = stmt.where(RegisterEntry.document_type == self.document_type)
        open_ = (RegisterEntry.dispatched_on.is_(None), RegisterEntry.cancelled.is_(False))
        if self.status == "deschis":
            stmt = stmt.where(*open_)
        elif self.status == "intarziat":
            stmt = stmt.where(*open_, RegisterEntry.due_on < today)
        elif self.status == "expediat":
            stmt = stmt.where(RegisterEntry.dispatched_on.is_not(None),
                              RegisterEntry.cancelled.is_(False))
        elif self.status == "anulat":
            stmt = stmt.where(RegisterEntry.cancelled.is_(True))
        return stmt

    def ordered(self, stmt):
        descending = self.sort.startswith("-")
        columns = [c.desc() if descending else c.asc() for c in SORTS[self.sort.lstrip("-")]]
        if self.sort.lstrip("-") == "due":
            # Entries without a term go last whichever way the term is sorted.
            columns.insert(0, RegisterEntry.due_on.is_(None))
        tiebreak = RegisterEntry.id.desc() if descending else RegisterEntry.id.asc()
        return stmt.order_by(*columns, tiebreak)


def register_page(session, stmt, filters: RegisterFilters, today: date):
    """One page of the filtered register and the number of matching entries."""
    stmt = filters.apply(session, stmt, today)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(filters.ordered(stmt).offset((filters.page - 1) * PAGE_SIZE)
                           .limit(PAGE_SIZE)).scalars().all()
    return rows, total


def earlier_senders(session, text: str, limit: int = 10) -> list[dict]:
    """Distinct senders of earlier entries whose name starts with `text` or has a word
    starting with it, the most recently registered first. Cancelled entries are left
    out: a cancelled registration may have been a typing mistake; confidential ones
    too: their senders are for their department only (access.py)."""
    name, address, email = (RegisterEntry.sender_name, RegisterEntry.sender_address,
                            RegisterEntry.sender_email)
    latest = func.max(RegisterEntry.id)
    rows = session.execute(
        select(name, address, email)
        .where(or_(name.startswith(text, autoescape=True),
                   name.contains(" " + text, autoescape=True),
                   name.contains("-" + text, autoescape=True)),
               RegisterEntry.cancelled.is_(False), RegisterEntry.confidential.is_(False))
        .group_by(name, address, email).order_by(latest.desc()).limit(limit)).all()
    return [{"name": n, "address": a, "email": e} for n, a, e in rows]
