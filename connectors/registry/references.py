"""Register numbers as people type them and barcodes print them: `123`, `123/2026`,
`123/22.11.2026`, `URB-12/2026`, `urb 12`. One reading for the register's search box,
joining documents, the archive's search, scanned barcodes and manual matching."""
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Register, RegisterEntry

_LABEL = re.compile(r"^\s*(?P<prefix>[^\W\d_]+[\s.-]*)?(?P<number>\d{1,9})\s*"
                    r"(?:/\s*(?P<when>\d{4}|\d{1,2}\.\d{1,2}\.\d{4}))?\s*$")


@dataclass(frozen=True)
class RegisterReference:
    """`prefix` is the register's series without punctuation (`URB`; "" for the
    registers that print none, such as the general register)."""
    prefix: str
    number: int
    year: int | None = None
    day: date | None = None
    access_code: str = ""      # from the receipt's QR (the public status page)

    def __str__(self) -> str:
        when = self.day.strftime("%d.%m.%Y") if self.day else self.year
        number = f"{self.prefix}{'-' if self.prefix else ''}{self.number}"
        return f"{number}/{when}" if when else number


def bare_prefix(prefix: str) -> str:
    """`URB-`, `urb` and `URB ` name the same series."""
    return "".join(prefix.split()).strip("-./").upper()


def parse_reference(text: str, *, needs_year: bool = False) -> RegisterReference | None:
    """The reference in `text`, or None if it is not one (or, with needs_year, if it
    does not say its year: a bare number on a barcode names nothing for sure)."""
    match = _LABEL.match(text or "")
    if match is None:
        return None
    when, year, day = match["when"], None, None
    if when and "." in when:
        try:
            day = datetime.strptime(when, "%d.%m.%Y").date()
        except ValueError:
            return None
        year = day.year
    elif when:
        year = int(when)
    if year is None and needs_year or year is not None and not 1900 <= year <= 2999:
        return None
    return RegisterReference(bare_prefix(match["prefix"] or ""), int(match["number"]), year, day)


def entry_conditions(session: Session, reference: RegisterReference,
                     default_year: int | None = None) -> list:
    """WHERE conditions for the entries with exactly this number. A number without a
    prefix belongs to the registers that print none, not to every series."""
    registers = session.execute(select(Register.id, Register.prefix)).all()
    ids = [rid for rid, prefix in registers if bare_prefix(prefix or "") == reference.prefix]
    conditions = [RegisterEntry.register_id.in_(ids), RegisterEntry.number == reference.number]
    if reference.year or default_year:
        conditions.append(RegisterEntry.year == (reference.year or default_year))
    if reference.day:
        conditions.append(RegisterEntry.registered_on == reference.day)
    return conditions


def find_entries(session: Session, reference: RegisterReference) -> list[RegisterEntry]:
    return list(session.execute(select(RegisterEntry).where(
        *entry_conditions(session, reference)).order_by(RegisterEntry.id)).scalars())
