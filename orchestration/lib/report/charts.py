"""Small, dependency-free SVG charts for the metrics report.

Every chart is a string of inline SVG: no script, no font or image fetched, sized by
its viewBox so it scales with the page. A value of None is a gap (nothing is drawn),
never a zero. Each mark carries a <title>, which a browser shows as a tooltip.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Formatter = Callable[[float], str]

PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#b7791f", "#4a5568")
AXIS = "#4a5568"
GRID = "#e2e8f0"
TEXT = "#2d3748"
MUTED = "#718096"
MISSING_TEXT = "n/a"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"'


@dataclass(frozen=True)
class Band:
    """A horizontal band behind a chart: low/high None means unbounded."""

    low: float | None
    high: float | None
    color: str
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str
    dashed: bool = False
    hollow: Sequence[bool] | None = None  # per point: drawn hollow (e.g. not yet mature)
    label_last: bool = True  # write the value of the last point beside it
    markers: bool = True


@dataclass(frozen=True)
class HBar:
    label: str
    value: float | None
    color: str = PALETTE[0]
    note: str = ""  # text after the value


@dataclass(frozen=True)
class Step:
    """A waterfall step: a `total` bar from zero, or a `delta` floating from the running total."""

    label: str
    value: float
    kind: str = "delta"  # "total" or "delta"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _text(x: float, y: float, content: str, *, anchor: str = "middle", size: int = 11, color: str = TEXT,
          weight: str = "normal", title: str = "") -> str:
    tooltip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{color}" font-weight="{weight}">{tooltip}{escape(content)}</text>'
    )


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    start = math.floor(low / step + 1e-9) * step
    end = math.ceil(high / step - 1e-9) * step
    ticks = []
    value = start
    while value <= end + step * 1e-6:
        ticks.append(round(value, 12))
        value += step
    return ticks


class _Frame:
    """Scales of a chart with categories along x and a linear y."""

    def __init__(self, width: int, height: int, categories: int, y_ticks: list[float],
                 left: int = 64, right: int = 16, top: int = 14, bottom: int = 34) -> None:
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.n = max(categories, 1)
        self.ticks = y_ticks
        self.y0, self.y1 = y_ticks[0], y_ticks[-1]

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    @property
    def slot(self) -> float:
        return self.plot_w / self.n

    def x(self, index: int) -> float:
        return self.left + (index + 0.5) * self.slot

    def y(self, value: float) -> float:
        value = min(max(value, self.y0), self.y1)
        return self.top + (self.y1 - value) / (self.y1 - self.y0) * self.plot_h

    def grid(self, fmt: Formatter) -> list[str]:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(
                f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{_num(y)}" y2="{_num(y)}" '
                f'stroke="{GRID}" stroke-width="1"/>'
            )
            parts.append(_text(self.left - 6, y + 4, fmt(tick), anchor="end", size=10, color=MUTED))
        return parts

    def x_labels(self, labels: Sequence[str]) -> list[str]:
        if not labels:
            return []
        longest = max(len(label) for label in labels)
        fits = max(int(self.plot_w / (longest * 6.2 + 10)), 1)
        every = max(math.ceil(len(labels) / fits), 1)
        parts = []
        last = len(labels) - 1
        for i, label in enumerate(labels):
            # Always label the last category (the latest period); skip its close neighbours.
            if (i % every == 0 and last - i >= every) or i == last:
                parts.append(_text(self.x(i), self.height - self.bottom + 16, label, size=10, color=MUTED))
        return parts

    def bands(self, bands: Sequence[Band]) -> list[str]:
        parts = []
        for band in bands:
            low = self.y0 if band.low is None else max(band.low, self.y0)
            high = self.y1 if band.high is None else min(band.high, self.y1)
            if high <= low:
                continue
            y_top, y_bottom = self.y(high), self.y(low)
            parts.append(
                f'<rect x="{self.left}" y="{_num(y_top)}" width="{_num(self.plot_w)}" '
                f'height="{_num(y_bottom - y_top)}" fill="{band.color}"><title>{escape(band.label)}</title></rect>'
            )
        return parts

    def ref_line(self, value: float, label: str, color: str = AXIS) -> list[str]:
        if not self.y0 <= value <= self.y1:
            return []
        y = self.y(value)
        return [
            f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="{color}" stroke-width="1" stroke-dasharray="4 3"/>',
            _text(self.left + 4, y - 4, label, anchor="start", size=10, color=color),
        ]

    def baseline(self) -> list[str]:
        if not self.y0 <= 0 <= self.y1:
            return []
        y = self.y(0)
        return [
            f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="{AXIS}" stroke-width="1"/>'
        ]


def _svg(width: int, height: int, label: str, parts: list[str]) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" {FONT} class="chart"><title>{escape(label)}</title>{body}</svg>'
    )


def _domain(values: Sequence[float], *, include: Sequence[float] = (), pad: float = 0.08) -> list[float]:
    finite = [v for v in (*values, *include) if v is not None and math.isfinite(v)]
    if not finite:
        return nice_ticks(0.0, 1.0)
    low, high = min(finite), max(finite)
    span = (high - low) or abs(high) or 1.0
    low = low - span * pad if low < 0 else low
    return nice_ticks(low, high + span * pad)


def empty_chart(message: str, width: int = 880, height: int = 120) -> str:
    return _svg(width, height, message, [_text(width / 2, height / 2, message, color=MUTED, size=13)])


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    *,
    label: str,
    bands: Sequence[Band] = (),
    ref_lines: Sequence[tuple[float, str]] = (),
    include: Sequence[float] = (),
    width: int = 880,
    height: int = 260,
    point_fmt: Formatter | None = None,
    domain: tuple[float, float] | None = None,
) -> str:
    """Lines over categories; a None value breaks the line. `domain` fixes the y axis
    (values outside it are drawn at its edge)."""
    values = [v for s in series for v in s.values if v is not None]
    if not values:
        return empty_chart(f"{label}: no values yet", width)
    ticks = nice_ticks(*domain) if domain else _domain(values, include=include)
    frame = _Frame(width, height, len(x_labels), ticks)
    point_fmt = point_fmt or fmt
    parts = [*frame.bands(bands), *frame.grid(fmt), *frame.baseline()]
    for value, text in ref_lines:
        parts.extend(frame.ref_line(value, text))
    for s in series:
        segments: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                if segments[-1]:
                    segments.append([])
                continue
            segments[-1].append((frame.x(i), frame.y(v)))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        for segment in segments:
            if len(segment) > 1:
                points = " ".join(f"{_num(x)},{_num(y)}" for x, y in segment)
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="2.2"'
                    f' stroke-linejoin="round"{dash}/>'
                )
        radius = 3.2 if len(x_labels) <= 40 else 2.2
        for i, v in enumerate(s.values):
            if v is None or not s.markers:
                continue
            hollow = bool(s.hollow and s.hollow[i])
            fill = "#ffffff" if hollow else s.color
            parts.append(
                f'<circle cx="{_num(frame.x(i))}" cy="{_num(frame.y(v))}" r="{radius}" fill="{fill}" '
                f'stroke="{s.color}" stroke-width="1.5"><title>{escape(s.name)}, {escape(x_labels[i])}: '
                f'{escape(point_fmt(v))}{" (not yet mature)" if hollow else ""}</title></circle>'
            )
    labels = []
    for s in series:
        last = next((i for i in range(len(s.values) - 1, -1, -1) if s.values[i] is not None), None)
        if s.label_last and last is not None:
            labels.append([frame.y(s.values[last]) - 8, frame.x(last) - 6, point_fmt(s.values[last]), s.color])
    # Keep the end labels of close lines from overlapping: at least 13 units apart.
    labels.sort(key=lambda item: item[0])
    for previous, current in itertools.pairwise(labels):
        current[0] = max(current[0], previous[0] + 13)
    for y, x, text, color in labels:
        parts.append(_text(x, y, text, anchor="end", size=11, color=color, weight="bold"))
    parts.extend(frame.x_labels(x_labels))
    return _svg(width, height, label, parts)


def bar_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    *,
    label: str,
    bands: Sequence[Band] = (),
    ref_lines: Sequence[tuple[float, str]] = (),
    include: Sequence[float] = (),
    bar_colors: Sequence[str | None] | None = None,
    missing_notes: Sequence[str] | None = None,
    width: int = 880,
    height: int = 260,
    value_labels: bool = True,
    domain: tuple[float, float] | None = None,
) -> str:
    """Grouped vertical bars. `bar_colors` recolours the bars of a single series per
    category; `missing_notes` explain, per category, why a value is None."""
    values = [v for s in series for v in s.values if v is not None]
    if not values:
        return empty_chart(f"{label}: no values yet", width)
    ticks = nice_ticks(*domain) if domain else _domain(values, include=[0.0, *include])
    frame = _Frame(width, height, len(x_labels), ticks)
    parts = [*frame.bands(bands), *frame.grid(fmt)]
    for value, text in ref_lines:
        parts.extend(frame.ref_line(value, text))
    group = frame.slot * 0.76
    bar_w = group / max(len(series), 1)
    zero = frame.y(0) if frame.y0 <= 0 <= frame.y1 else frame.y(frame.y0)
    for k, s in enumerate(series):
        for i, v in enumerate(s.values):
            x = frame.x(i) - group / 2 + k * bar_w
            if v is None:
                note = missing_notes[i] if missing_notes else "no value"
                parts.append(
                    _text(x + bar_w / 2, zero - 4, MISSING_TEXT, size=9, color=MUTED, title=f"{x_labels[i]}: {note}")
                )
                continue
            color = (bar_colors[i] if bar_colors and bar_colors[i] else None) or s.color
            y = frame.y(v)
            top, h = min(y, zero), abs(zero - y)
            parts.append(
                f'<rect x="{_num(x + bar_w * 0.08)}" y="{_num(top)}" width="{_num(bar_w * 0.84)}" '
                f'height="{_num(max(h, 0.8))}" fill="{color}" rx="1.5"><title>{escape(s.name)}, '
                f'{escape(x_labels[i])}: {escape(fmt(v))}</title></rect>'
            )
            if value_labels and bar_w >= 22:
                ly = top - 4 if v >= 0 else top + h + 12
                parts.append(_text(x + bar_w / 2, ly, fmt(v), size=10, color=TEXT))
    parts.extend(frame.baseline())
    parts.extend(frame.x_labels(x_labels))
    return _svg(width, height, label, parts)


def stacked_bar_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    *,
    label: str,
    net: Sequence[float | None] | None = None,
    width: int = 880,
    height: int = 280,
) -> str:
    """Bars stacked per category: positive values up from zero, negative ones down;
    `net` marks each category's sum with a dash."""
    ups = [sum(max(s.values[i] or 0, 0) for s in series) for i in range(len(x_labels))]
    downs = [sum(min(s.values[i] or 0, 0) for s in series) for i in range(len(x_labels))]
    if not any(ups) and not any(downs):
        return empty_chart(f"{label}: no movements yet", width)
    frame = _Frame(width, height, len(x_labels), _domain([*ups, *downs], include=[0.0]))
    parts = frame.grid(fmt)
    bar_w = frame.slot * 0.7
    for i in range(len(x_labels)):
        up, down = 0.0, 0.0
        for s in series:
            v = s.values[i] or 0.0
            if v == 0:
                continue
            start = up if v > 0 else down
            end = start + v
            if v > 0:
                up = end
            else:
                down = end
            y_a, y_b = frame.y(start), frame.y(end)
            parts.append(
                f'<rect x="{_num(frame.x(i) - bar_w / 2)}" y="{_num(min(y_a, y_b))}" width="{_num(bar_w)}" '
                f'height="{_num(max(abs(y_a - y_b), 0.6))}" fill="{s.color}"><title>{escape(s.name)}, '
                f'{escape(x_labels[i])}: {escape(fmt(v))}</title></rect>'
            )
        if net and net[i] is not None:
            y = frame.y(net[i])
            parts.append(
                f'<line x1="{_num(frame.x(i) - bar_w / 2 - 2)}" x2="{_num(frame.x(i) + bar_w / 2 + 2)}" '
                f'y1="{_num(y)}" y2="{_num(y)}" stroke="{TEXT}" stroke-width="2.4"><title>net change, '
                f'{escape(x_labels[i])}: {escape(fmt(net[i]))}</title></line>'
            )
    parts.extend(frame.baseline())
    parts.extend(frame.x_labels(x_labels))
    return _svg(width, height, label, parts)


def waterfall_chart(
    steps: Sequence[Step],
    fmt: Formatter,
    *,
    label: str,
    up_color: str = "#2f855a",
    down_color: str = "#c53030",
    total_color: str = "#2b6cb0",
    width: int = 430,
    height: int = 260,
) -> str:
    """Totals as bars from zero, deltas floating from the running total."""
    if not steps:
        return empty_chart(f"{label}: no values yet", width)
    running = 0.0
    extents: list[float] = [0.0]
    spans: list[tuple[float, float]] = []
    for step in steps:
        if step.kind == "total":
            running = step.value
            spans.append((0.0, step.value))
        else:
            spans.append((running, running + step.value))
            running += step.value
        extents.extend(spans[-1])
    low, high = min(extents), max(extents)
    # Small deltas on big totals read better from a raised floor (said under the axis).
    totals = [s.value for s in steps if s.kind == "total"]
    deltas = [v for step, span in zip(steps, spans, strict=True) if step.kind == "delta" for v in span]
    floor = 0.0
    if totals and deltas and min(totals) > 0 and min(deltas) > 0:
        lowest = min(min(deltas), *totals)
        if high - lowest < high * 0.35:
            ticks = nice_ticks(lowest - (high - lowest) * 0.6, high)
            floor = max(ticks[0], 0.0)
            low = floor
    frame = _Frame(width, height, len(steps), nice_ticks(low, high * 1.02 if floor else high * 1.04),
                   left=58, bottom=44)
    parts = frame.grid(fmt)
    bar_w = frame.slot * 0.62
    for i, (step, (a, b)) in enumerate(zip(steps, spans, strict=True)):
        if step.kind == "total":
            color = total_color
            a = max(a, frame.y0)
        else:
            color = up_color if step.value >= 0 else down_color
        y_a, y_b = frame.y(a), frame.y(b)
        parts.append(
            f'<rect x="{_num(frame.x(i) - bar_w / 2)}" y="{_num(min(y_a, y_b))}" width="{_num(bar_w)}" '
            f'height="{_num(max(abs(y_a - y_b), 0.8))}" fill="{color}"><title>{escape(step.label)}: '
            f'{escape(fmt(step.value))}</title></rect>'
        )
        text = fmt(step.value) if step.kind == "total" or step.value < 0 else "+" + fmt(step.value)
        parts.append(_text(frame.x(i), min(y_a, y_b) - 4, text, size=10))
        if i + 1 < len(steps):
            parts.append(
                f'<line x1="{_num(frame.x(i) + bar_w / 2)}" x2="{_num(frame.x(i + 1) - bar_w / 2)}" '
                f'y1="{_num(y_b)}" y2="{_num(y_b)}" stroke="{MUTED}" stroke-dasharray="2 2"/>'
            )
    for i, step in enumerate(steps):
        words = step.label.split(" ", 1)
        parts.append(_text(frame.x(i), height - frame.bottom + 15, words[0], size=10, color=MUTED))
        if len(words) > 1:
            parts.append(_text(frame.x(i), height - frame.bottom + 28, words[1], size=10, color=MUTED))
    if floor > 0:
        parts.append(_text(frame.left, height - 4, f"axis starts at {fmt(floor)}", anchor="start", size=9,
                           color=MUTED))
    return _svg(width, height, label, parts)


def hbar_chart(
    bars: Sequence[HBar],
    fmt: Formatter,
    *,
    label: str,
    width: int = 430,
    row_height: int = 26,
    label_width: int = 120,
    max_value: float | None = None,
) -> str:
    """Horizontal bars, one per row, labelled with their value and note."""
    known = [b.value for b in bars if b.value is not None]
    if not known:
        return empty_chart(f"{label}: no values yet", width)
    top = max(max(known), max_value or 0)
    low = min(min(known), 0)
    note_room = 150
    plot = width - label_width - note_room
    height = row_height * len(bars) + 10

    def x(v: float) -> float:
        return label_width + (v - low) / ((top - low) or 1) * plot

    parts = []
    for i, bar in enumerate(bars):
        y = 5 + i * row_height
        parts.append(_text(label_width - 8, y + row_height / 2 + 4, bar.label, anchor="end", size=11))
        if bar.value is None:
            parts.append(_text(label_width + 4, y + row_height / 2 + 4, f"{MISSING_TEXT} {bar.note}".strip(),
                               anchor="start", size=10, color=MUTED))
            continue
        x0, x1 = x(0), x(bar.value)
        left, w = min(x0, x1), max(abs(x1 - x0), 1.5)
        parts.append(
            f'<rect x="{_num(left)}" y="{_num(y + 4)}" width="{_num(w)}" height="{row_height - 8}" '
            f'fill="{bar.color}" rx="2"><title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>'
        )
        text = fmt(bar.value) + (f"  {bar.note}" if bar.note else "")
        parts.append(_text(left + w + 6, y + row_height / 2 + 4, text, anchor="start", size=11))
    return _svg(width, height, label, parts)


def band_gauge(value: float | None, thresholds: Sequence[float], colors: Sequence[str], *,
               label: str, width: int = 260, height: int = 30) -> str:
    """A strip of the four commercial-ratio bands with a marker at `value`."""
    t1, t2, t3 = thresholds
    low, high = 0.0, max(t3 * 1.4, (value or 0) * 1.05)
    low = min(low, value or 0)
    pad = 6
    span_w = width - 2 * pad

    def x(v: float) -> float:
        return pad + (min(max(v, low), high) - low) / (high - low) * span_w

    edges = [low, t1, t2, t3, high]
    parts = []
    for i, color in enumerate(colors):
        parts.append(
            f'<rect x="{_num(x(edges[i]))}" y="6" width="{_num(x(edges[i + 1]) - x(edges[i]))}" height="8" '
            f'fill="{color}"/>'
        )
    for t in (t1, t2, t3):
        parts.append(_text(x(t), 26, f"{t:g}", size=9, color=MUTED))
    if value is not None:
        vx = x(value)
        parts.append(
            f'<path d="M{_num(vx - 5)},1 L{_num(vx + 5)},1 L{_num(vx)},10 Z" fill="{TEXT}"><title>'
            f"{escape(label)}: {value:.2f}</title></path>"
        )
        parts.append(f'<line x1="{_num(vx)}" x2="{_num(vx)}" y1="4" y2="16" stroke="{TEXT}" stroke-width="2"/>')
    return _svg(width, height, label, parts)


def sparkline(values: Sequence[float | None], color: str, *, label: str, width: int = 260, height: int = 34,
              ref: float | None = None) -> str:
    """A small trend line (no axes) ending in a dot; `ref` draws a faint reference level."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(known + ([ref] if ref is not None else [])), max(known + ([ref] if ref is not None else []))
    span = (high - low) or 1.0
    pad = 4

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + i / max(len(values) - 1, 1) * (width - 2 * pad)
        return x, pad + (high - v) / span * (height - 2 * pad)

    parts = []
    if ref is not None:
        _, y = xy(0, ref)
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{_num(y)}" y2="{_num(y)}" stroke="{GRID}" '
                     'stroke-width="1.5" stroke-dasharray="3 3"/>')
    points = [xy(i, v) for i, v in enumerate(values) if v is not None]
    parts.append(f'<polyline points="{" ".join(f"{_num(x)},{_num(y)}" for x, y in points)}" fill="none" '
                 f'stroke="{color}" stroke-width="1.8" stroke-linejoin="round"/>')
    x, y = points[-1]
    parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.8" fill="{color}"/>')
    return _svg(width, height, label, parts)
