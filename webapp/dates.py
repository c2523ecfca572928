"""Reading a day typed into a form or a query string (`AAAA-LL-ZZ`)."""
import re
from datetime import date

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(raw: str) -> date | None:
    """The day written as YYYY-MM-DD, or None when it is not one (31 February included)."""
    raw = (raw or "").strip()
    if not ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None
