"""Searching the audit trail: the filters of /audit, a page (keyset on id, newest
first) and every match in batches for the CSV export.

Keyset rather than OFFSET: the trail grows by thousands of events a day, and page
5000 must cost what page 1 costs. Dates are the town hall's days (Europe/Bucharest);
events are stored in UTC."""
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import select

from connectors.audit import AuditEvent
from engine.timers import LOCAL_TZ
from webapp.dates import parse_day

PAGE_SIZE = 100
EXPORT_BATCH = 1000


def _utc(day: date) -> datetime:
    """The UTC moment (naive, as stored) at which a local day begins."""
    return (datetime.combine(day, time.min, LOCAL_TZ).astimezone(timezone.utc)
            .replace(tzinfo=None))


def local_time(at: datetime | None) -> str:
    if at is None:
        return "—"
    return at.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ).strftime("%d.%m.%Y %H:%M:%S")


def _text_condition(column, value: str):
    """Exact, or a prefix when the value ends in `*` (`archive.*`, `entry:12*`)."""
    if value.endswith("*"):
        return column.startswith(value.rstrip("*"), autoescape=True)
    return column == value


@dataclass
class AuditFilters:
    actor: str = ""
    action: str = ""
    object_ref: str = ""
    instance: str = ""
    date_from: date | None = None
    date_to: date | None = None
    before: int | None = None             # the keyset: events with a smaller id
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> "AuditFilters":
        f = cls(actor=args.get("actor", "").strip()[:100],
                action=args.get("actiune", "").strip()[:100],
                object_ref=args.get("obiect", "").strip()[:255],
                instance=args.get("instanta", "").strip()[:20])
        if f.instance and not f.instance.isdigit():
            f.errors.append(_("«%(field)s»: scrieți numărul instanței (doar cifre).",
                              field=_("Instanța")))
        for key, attr, label in (("de", "date_from", _("De la")),
                                 ("pana", "date_to", _("Până la"))):
            raw = args.get(key, "").strip()
            if raw:
                day = parse_day(raw)
                if day is None:
                    f.errors.append(_("«%(field)s»: scrieți data ca AAAA-LL-ZZ.", field=label))
                setattr(f, attr, day)
        if f.date_from and f.date_to and f.date_to < f.date_from:
            f.errors.append(_("«Până la»: data de sfârșit este înaintea datei de început."))
        before = args.get("inainte", "").strip()
        if before:
            if before.isdigit():
                f.before = int(before)
            else:
                f.errors.append(_("Pagina cerută nu există."))
        return f

    def args(self, **changes) -> dict:
        """The query string of these filters (for links), with `changes` applied."""
        values = {"actor": self.actor, "actiune": self.action, "obiect": self.object_ref,
                  "instanta": self.instance,
                  "de": self.date_from.isoformat() if self.date_from else "",
                  "pana": self.date_to.isoformat() if self.date_to else ""}
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}

    def conditions(self) -> list:
        e = AuditEvent
        where = []
        if self.actor:
            where.append(_text_condition(e.actor, self.actor))
        if self.action:
            where.append(_text_condition(e.action, self.action))
        if self.object_ref:
            where.append(_text_condition(e.object_ref, self.object_ref))
        if self.instance:
            where.append(e.instance_id == int(self.instance))
        if self.date_from:
            where.append(e.at >= _utc(self.date_from))
        if self.date_to:
            where.append(e.at < _utc(self.date_to + timedelta(days=1)))
        return where


def page(session, filters: AuditFilters) -> tuple[list[AuditEvent], int | None]:
    """Up to PAGE_SIZE matching events, newest first, and the `inainte` of the next
    (older) page, or None when this is the last."""
    stmt = select(AuditEvent).where(*filters.conditions())
    if filters.before is not None:
        stmt = stmt.where(AuditEvent.id < filters.before)
    rows = session.execute(stmt.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
                           ).scalars().all()
    if len(rows) > PAGE_SIZE:
        return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].id
    return rows, None


def all_matching(session, filters: AuditFilters):
    """Every matching event, newest first, EXPORT_BATCH at a time."""
    before = filters.before
    while True:
        stmt = select(AuditEvent).where(*filters.conditions())
        if before is not None:
            stmt = stmt.where(AuditEvent.id < before)
        rows = session.execute(stmt.order_by(AuditEvent.id.desc()).limit(EXPORT_BATCH)
                               ).scalars().all()
        yield from rows
        if len(rows) < EXPORT_BATCH:
            return
        before = rows[-1].id
        session.expunge_all()        # bounded memory over a long export


CSV_HEADER = ["id", "nr_lant", "sigiliu_sha256", "data_utc", "actor", "actiune", "instanta",
              "obiect", "rezumat", "inainte_json", "dupa_json"]


def _csv_safe(value: str | None) -> str:
    """Free text a spreadsheet would run as a formula is kept as text."""
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_lines(events):
    """The CSV (UTF-8 with BOM, `;`, for a Romanian spreadsheet), a line at a time."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text
    out.write("\ufeff")
    writer.writerow(CSV_HEADER)
    yield flush()
    for e in events:
        writer.writerow([e.id, e.seq if e.seq is not None else "", e.chain_hash or "",
                         e.at.isoformat(sep=" ") if e.at else "", _csv_safe(e.actor),
                         e.action, e.instance_id if e.instance_id is not None else "",
                         _csv_safe(e.object_ref), _csv_safe(e.summary),
                         e.before_json or "", e.after_json or ""])
        yield flush()
