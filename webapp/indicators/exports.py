"""The indicators as CSV (for a spreadsheet in Romanian: UTF-8 with BOM, `;`, decimal
comma) and as one JSON document with the same figures, for other programs."""
import csv
import io
from dataclasses import dataclass
from typing import Callable

from flask_babel import gettext as _

from .queries import Bucket, Figures, Indicators

NONE_DEPARTMENT = "fără compartiment"
UNASSIGNED = "nerepartizat"


@dataclass
class Labels:
    department: Callable[[str | None], str]
    bucket: Callable[[Bucket], str]


def labels(data: Indicators) -> Labels:
    def department(code: str | None) -> str:
        if code is None:
            return _("Total")
        return data.department_names.get(code, code) if code else _("fără compartiment")

    def bucket(b: Bucket) -> str:
        if data.unit == "month":
            return b.start.strftime("%m.%Y")
        return b.start.strftime("%d.%m")
    return Labels(department, bucket)


# Column headers of the CSV (Romanian, as the town hall's spreadsheets are), the figure
# each one holds, and the JSON key of the same figure.
COLUMNS = [
    ("Înregistrate (toate)", "registered", "inregistrate"),
    ("Intrări", "registered_in", "intrari"),
    ("Ieșiri", "out", "iesiri"),
    ("Răspunsuri expediate", "answered", "raspunsuri"),
    ("Mediana (zile)", "median_days", "mediana_zile"),
    ("Percentila 95 (zile)", "p95_days", "p95_zile"),
    ("Depășite la zi", "overdue", "depasite"),
    ("Expediate cu întârziere", "dispatched_late", "expediate_cu_intarziere"),
    ("Anulate", "cancelled", "anulate"),
    ("Sarcini deschise depășite", "tasks_overdue", "sarcini_depasite"),
    ("Sarcini escaladate", "tasks_escalated", "sarcini_escaladate"),
]


def _cell(value) -> str:
    if value is None:
        return ""
    return str(value).replace(".", ",")     # decimal comma for a Romanian spreadsheet


def to_csv(data: Indicators) -> bytes:
    """Two tables one after the other, separated by an empty line: departments with a
    total row, then overdue documents per clerk."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Cod compartiment", "Compartiment", "De la", "Până la"]
                    + [header for header, _attr, _key in COLUMNS])
    period = [data.start.isoformat(), data.end.isoformat()]
    for figures in [*data.by_department, data.total]:
        code = "" if figures.department is None else figures.department
        name = ("Total" if figures.department is None
                else data.department_names.get(code, code) or NONE_DEPARTMENT)
        writer.writerow([code, name, *period]
                        + [_cell(getattr(figures, attr)) for _h, attr, _k in COLUMNS])
    writer.writerow([])
    writer.writerow(["Funcționar", "Nume", f"Documente depășite la {data.today.isoformat()}"])
    for username, full_name, count in data.overdue_by_clerk:
        writer.writerow([username, full_name or UNASSIGNED, count])
    return out.getvalue().encode("utf-8-sig")


def _figures(figures: Figures) -> dict:
    return {key: getattr(figures, attr) for _h, attr, key in COLUMNS}


def to_dict(data: Indicators) -> dict:
    return {
        "perioada": {"de": data.start.isoformat(), "pana": data.end.isoformat()},
        "data_situatiei": data.today.isoformat(),
        "compartimente_filtrate": data.departments,
        "total": _figures(data.total),
        "compartimente": [
            {"cod": f.department, "nume": data.department_names.get(f.department, f.department)
             or NONE_DEPARTMENT, **_figures(f)} for f in data.by_department],
        "depasite_pe_functionar": [
            {"utilizator": u, "nume": name or UNASSIGNED, "depasite": n}
            for u, name, n in data.overdue_by_clerk],
        "inregistrari": {
            "unitate": "saptamana" if data.unit == "week" else "luna",
            "intervale": [{"de": b.start.isoformat(), "pana": b.end.isoformat(),
                           "inregistrate": b.registered} for b in data.buckets]},
        "metoda": {
            "timp_raspuns": "zile calendaristice = data expedierii - data înregistrării",
            "mediana": "valoarea din mijloc, sau media celor două din mijloc",
            "p95": "rangul cel mai apropiat: cea mai mică valoare cu cel puțin 95% "
                   "din răspunsuri la sau sub ea",
        },
    }
