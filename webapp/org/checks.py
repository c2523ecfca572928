"""Reading and checking the absence and delegation forms. Each error names its field,
in Romanian, keyed by the field's name so the page shows it next to that field."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from engine.models_org import Absence
from webapp.auth.models import User
from webapp.dates import parse_day



def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:          # 29 February
        return date(day.year + 1, 3, 1)


def active_user(session, username: str) -> User | None:
    if not username:
        return None
    return session.execute(select(User).where(
        User.username == username[:100], User.active.is_(True))).scalar_one_or_none()


def text(form, name: str, label: str, limit: int, errors: dict, required: bool = False) -> str:
    value = form.get(name, "").strip()
    if required and not value:
        errors[name] = _("«%(field)s» este obligatoriu.", field=label)
    elif len(value) > limit:
        errors[name] = _("«%(field)s» poate avea cel mult %(limit)d de caractere.",
                         field=label, limit=limit)
    return value


def period(form, today: date, errors: dict) -> tuple[date | None, date | None]:
    """`de_la` and `pana_la`: both days count; at most a year; not wholly in the past
    (an ended period would change nothing)."""
    start = _day(form, "de_la", _("De la"), errors)
    end = _day(form, "pana_la", _("Până la"), errors)
    if start is None or end is None:
        return None, None
    if end < start:
        errors["pana_la"] = _("«Până la» este înaintea datei de început («De la»).")
    elif end >= one_year_after(start):
        errors["pana_la"] = _("«Până la»: perioada poate fi de cel mult un an.")
    elif end < today:
        errors["pana_la"] = _("«Până la»: perioada s-a încheiat deja (azi este %(today)s).",
                              today=today.strftime("%d.%m.%Y"))
    return start, end


def _day(form, name: str, label: str, errors: dict) -> date | None:
    raw = form.get(name, "").strip()
    if not raw:
        errors[name] = _("«%(field)s» este obligatoriu.", field=label)
        return None
    day = parse_day(raw)
    if day is not None:
        return day
    errors[name] = _("«%(field)s»: „%(value)s” nu este o dată validă; scrieți AAAA-LL-ZZ, "
                     "de exemplu %(example)s.", field=label, value=raw[:40],
                     example=date.today().isoformat())
    return None


def substitute(session, form, person: User, admin: bool, errors: dict) -> User | None:
    """An active user other than the absent person; for anyone but an administrator,
    one of the absent person's department."""
    username = form.get("inlocuitor", "").strip()
    label = _("Înlocuitor")
    if not username:
        errors["inlocuitor"] = _("«%(field)s» este obligatoriu.", field=label)
        return None
    user = active_user(session, username)
    if user is None:
        errors["inlocuitor"] = _("«%(field)s»: „%(value)s” nu este un utilizator activ.",
                                 field=label, value=username[:100])
    elif user.username == person.username:
        errors["inlocuitor"] = _("«Înlocuitor» trebuie să fie altă persoană decât cea absentă.")
    elif not admin and (person.department_code is None
                        or user.department_code != person.department_code):
        errors["inlocuitor"] = _("«Înlocuitor» trebuie să fie un coleg din compartimentul "
                                 "persoanei absente.")
    else:
        return user
    return None


def overlapping(session, username: str, start: date, end: date) -> Absence | None:
    return session.execute(select(Absence).where(
        Absence.username == username, Absence.cancelled.is_(False),
        Absence.starts_on <= end, Absence.ends_on >= start)
        .order_by(Absence.starts_on).limit(1)).scalar_one_or_none()
