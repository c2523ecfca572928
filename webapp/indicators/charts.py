"""Geometry of the two server-drawn SVG charts; templates/indicators/_charts.html draws
them. Plain numbers in, shapes out: no JavaScript and nothing inline that the
Content-Security-Policy would block (colours come from static/indicators.css)."""
from dataclasses import dataclass, field
from math import ceil, floor, log10

WIDTH = 640


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    kind: str               # CSS class suffix: in, out, registrations
    label_x: float = 0
    label_y: float = 0


@dataclass
class Row:
    label: str
    label_y: float
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Tick:
    label: str
    x: float
    y: float


@dataclass
class Chart:
    width: int
    height: int
    rows: list[Row] = field(default_factory=list)           # horizontal chart
    bars: list[Bar] = field(default_factory=list)           # vertical chart
    ticks: list[Tick] = field(default_factory=list)         # x labels (vertical chart)
    grid: list[tuple[float, str]] = field(default_factory=list)   # (y, value label)
    axis: tuple[float, float, float] = (0, 0, 0)            # x0, x1, baseline y


def nice_ceiling(value: int) -> int:
    """A round scale end at or above `value`: 1, 2, 5 times a power of ten."""
    if value <= 1:
        return 1
    power = 10 ** floor(log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _short(text: str, length: int = 24) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def in_out_by_department(rows: list[tuple[str, int, int]]) -> Chart:
    """Horizontal bars, two per department: documents in, documents out."""
    label_width, value_room, top, bar, gap, band = 180, 48, 8, 14, 3, 44
    span = WIDTH - label_width - value_room
    scale = nice_ceiling(max([max(i, o) for _, i, o in rows] or [0]))
    chart = Chart(WIDTH, top + band * max(len(rows), 1) + 8)
    for index, (label, registered_in, out) in enumerate(rows):
        y = top + index * band
        line = Row(_short(label), y + bar + gap / 2 + 4)
        for offset, value, kind in ((0, registered_in, "in"), (bar + gap, out, "out")):
            length = span * value / scale
            line.bars.append(Bar(label_width, y + offset, round(length, 1), bar, value, kind,
                                 label_width + length + 4, y + offset + bar - 3))
        chart.rows.append(line)
    chart.axis = (label_width, label_width + span, chart.height - 8)
    return chart


def registrations(points: list[tuple[str, int]]) -> Chart:
    """Vertical bars, one per week or month, with a scale on the left."""
    left, right, top, bottom, height = 44, 8, 16, 36, 220
    span, plot = WIDTH - left - right, height - top - bottom
    scale = nice_ceiling(max([v for _, v in points] or [0]))
    chart = Chart(WIDTH, height)
    baseline = top + plot
    halves = (0, 1, 2) if scale >= 2 else (0, 2)
    chart.grid = [(baseline - plot * half / 2, str(scale * half // 2)) for half in halves]
    band = span / max(len(points), 1)
    every = max(ceil(len(points) / 12), 1)      # at most about twelve labels under the axis
    for index, (label, value) in enumerate(points):
        length = plot * value / scale
        x = left + index * band + band * 0.15
        chart.bars.append(Bar(round(x, 1), round(baseline - length, 1), round(band * 0.7, 1),
                              round(length, 1), value, "registrations",
                              round(x + band * 0.35, 1), round(baseline - length - 3, 1)))
        if index % every == 0:
            chart.ticks.append(Tick(label, round(x + band * 0.35, 1), baseline + 16))
    chart.axis = (left, left + span, baseline)
    return chart
