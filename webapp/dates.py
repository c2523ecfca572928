"""Days in forms and on screens: reading one typed as `AAAA-LL-ZZ`, showing a legal term."""
import re
from datetime import date

from flask_babel import gettext as _, ngettext
from markupsafe import Markup

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


def due_badge(on: date | None, today: date) -> Markup:
    """The legal term as lists show it: the date, the days left, overdue highlighted.
    Plain Python rather than a template macro: the inbox draws it fifty times a page."""
    if on is None:
        return Markup("—")
    left = (on - today).days
    if left < 0:
        css, note = "overdue", Markup("<strong>(%s)</strong>") % ngettext(
            "depășit cu %(num)d zi", "depășit cu %(num)d zile", -left)
    elif left == 0:
        css, note = "due-soon", Markup("<strong>(%s)</strong>") % _("expiră azi")
    else:
        css = "due-soon" if left <= 3 else ""
        note = "(%s)" % ngettext("%(num)d zi rămasă", "%(num)d zile rămase", left)
    return Markup('<span class="due %s">%s %s</span>') % (css, on.strftime("%d.%m.%Y"), note)
