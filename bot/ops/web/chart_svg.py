"""A symbol's price chart as inline SVG, drawn on the server: no script, no library, no CDN.

The line joins the prices the store knows (fills, the risk job's valuations, prices the
journal recorded with a decision); markers show entries (green, up), tier sales (blue, "T1")
and stop or forced exits (red, down); dashed lines show stop levels and the next tier while
they applied. Floats are fine here: this only draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import Literal

from bot.ops import human

MarkerKind = Literal["entry", "tier", "exit"]
LevelKind = Literal["stop", "trailing", "tier", "exchange"]

WIDTH, HEIGHT = 460, 250
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 62, 10, 16, 52
_FONT = 12
COLOURS = {
    "line": "#475467",
    "entry": "#13795b",
    "tier": "#2563eb",
    "exit": "#b42318",
    "stop": "#b42318",
    "trailing": "#c2410c",
    "exchange": "#7a2e0e",
    "grid": "#e3e6ea",
    "text": "#344054",
}


@dataclass(frozen=True)
class Marker:
    at: datetime
    price: Decimal
    kind: MarkerKind
    label: str  # shown beside tier markers; every marker's tooltip
    detail: str = ""


@dataclass(frozen=True)
class Level:
    """A price level that applied from `start` to `end` (a stop, the next tier)."""

    start: datetime
    end: datetime
    price: Decimal
    kind: LevelKind
    label: str


@dataclass(frozen=True)
class PriceChart:
    symbol: str
    points: list[tuple[datetime, Decimal]]
    markers: list[Marker] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    note: str = ""


def _nice_ticks(low: float, high: float, count: int = 4) -> tuple[list[float], float]:
    """Round price levels across [low, high] for the y axis, and their spacing."""
    span = high - low
    raw = span / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(value)
        value += step
    return ticks, step


def _tick_label(value: float, step: float) -> str:
    """As many decimals as the spacing needs: 100,000 / 2,950 / 2.45 / 0.000125."""
    exponent = Decimal(f"{step:.12g}").normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 2
    return f"{value:,.{places}f}"


class _Frame:
    """Maps time and price to the drawing area."""

    def __init__(self, t0: float, t1: float, low: float, high: float) -> None:
        self.t0, self.t1 = t0, (t1 if t1 > t0 else t0 + 1.0)
        self.low, self.high = low, high
        self.w = WIDTH - _PAD_LEFT - _PAD_RIGHT
        self.h = HEIGHT - _PAD_TOP - _PAD_BOTTOM

    def x(self, at: datetime) -> float:
        return _PAD_LEFT + (at.timestamp() - self.t0) / (self.t1 - self.t0) * self.w

    def y(self, price: float) -> float:
        return _PAD_TOP + (self.high - price) / (self.high - self.low) * self.h


def _bounds(chart: PriceChart) -> tuple[float, float, float, float]:
    prices = [float(p) for _, p in chart.points]
    prices += [float(m.price) for m in chart.markers] + [float(v.price) for v in chart.levels]
    times = [a.timestamp() for a, _ in chart.points] + [m.at.timestamp() for m in chart.markers]
    times += [t.timestamp() for v in chart.levels for t in (v.start, v.end)]
    low, high = min(prices), max(prices)
    margin = (high - low) * 0.08 or abs(high) * 0.02 or 1.0
    return min(times), max(times), low - margin, high + margin


def _marker(frame: _Frame, marker: Marker) -> str:
    x, y = frame.x(marker.at), frame.y(float(marker.price))
    colour = COLOURS[marker.kind]
    tip = escape(
        f"{marker.label} {human.price(marker.price)} at {human.when(marker.at)} UTC"
        + (f": {marker.detail}" if marker.detail else "")
    )
    if marker.kind == "entry":
        shape = f'<path d="M{x:.1f},{y - 7:.1f} l6,10 h-12 z" fill="{colour}"/>'
    elif marker.kind == "exit":
        shape = f'<path d="M{x:.1f},{y + 7:.1f} l6,-10 h-12 z" fill="{colour}"/>'
    else:
        shape = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
            f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" font-size="{_FONT - 1}" '
            f'font-weight="600" fill="{colour}">{escape(marker.label)}</text>'
        )
    return f'<g class="mk-{marker.kind}"><title>{tip}</title>{shape}</g>'


def _level(frame: _Frame, level: Level, labelled: bool) -> str:
    """A dashed line; `labelled`: its name and price written above its right end (one label
    per price, so a trailing stop and the exchange stop at its level do not overprint)."""
    x1, x2 = frame.x(level.start), frame.x(level.end)
    y = frame.y(float(level.price))
    colour = COLOURS["tier" if level.kind == "tier" else level.kind]
    dash = "2,3" if level.kind == "tier" else "6,4"
    tip = escape(f"{level.label} {human.price(level.price)}")
    label = (
        f'<text x="{max(x2, x1 + 2):.1f}" y="{y - 4:.1f}" text-anchor="end" '
        f'font-size="{_FONT - 1}" fill="{colour}" stroke="#fff" stroke-width="3" '
        f'paint-order="stroke">{tip}</text>'
        if labelled
        else ""
    )
    return (
        f'<g class="lv-{level.kind}"><title>{tip}</title>'
        f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{max(x2, x1 + 2):.1f}" y2="{y:.1f}" '
        f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>{label}</g>'
    )


def _legend(chart: PriceChart) -> str:
    """Markers on one line, level lines on the next: short enough for a phone."""
    kinds = {m.kind for m in chart.markers} | {v.kind for v in chart.levels}
    rows = (
        (("entry", "▲ entry"), ("tier", "● tier sale"), ("exit", "▼ stop / exit")),
        (
            ("stop", "- - hard stop"),
            ("trailing", "- - trailing stop"),
            ("exchange", "- - exchange stop"),
        ),
    )
    lines: list[str] = []
    for row in rows:
        shown = [
            f'<tspan fill="{COLOURS[k]}" dx="{0 if i == 0 else 10}">{escape(text)}</tspan>'
            for i, (k, text) in enumerate(item for item in row if item[0] in kinds)
        ]
        if shown:
            y = HEIGHT - 20 + 13 * len(lines)
            lines.append(
                f'<text x="{_PAD_LEFT}" y="{y}" font-size="{_FONT - 1}">{"".join(shown)}</text>'
            )
    return "".join(lines)


def price_chart_svg(chart: PriceChart) -> str:
    """The chart as one `<svg>` element that scales to its container's width."""
    if not chart.points and not chart.markers:
        return f'<p class="muted">{escape(chart.symbol)}: no price known yet</p>'
    t0, t1, low, high = _bounds(chart)
    frame = _Frame(t0, t1, low, high)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(chart.symbol)} price chart" '
        f'font-family="system-ui,sans-serif">'
    ]
    ticks, step = _nice_ticks(low, high)
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{_PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - _PAD_RIGHT}" y2="{y:.1f}" '
            f'stroke="{COLOURS["grid"]}"/>'
            f'<text x="{_PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{_FONT}" '
            f'fill="{COLOURS["text"]}">{escape(_tick_label(tick, step))}</text>'
        )
    bottom = HEIGHT - _PAD_BOTTOM
    start, end = datetime.fromtimestamp(t0, UTC), datetime.fromtimestamp(frame.t1, UTC)
    parts.append(
        f'<text x="{_PAD_LEFT}" y="{bottom + 15}" font-size="{_FONT}" fill="{COLOURS["text"]}">'
        f"{escape(human.when(start))}</text>"
        f'<text x="{WIDTH - _PAD_RIGHT}" y="{bottom + 15}" text-anchor="end" font-size="{_FONT}" '
        f'fill="{COLOURS["text"]}">{escape(human.when(end))} UTC</text>'
    )
    # Today's levels (ending at the chart's right edge) carry a label, one per price.
    labelled: set[Decimal] = set()
    for level in sorted(chart.levels, key=lambda v: v.kind == "exchange"):
        current = level.end.timestamp() >= frame.t1 - 1
        parts.append(_level(frame, level, current and level.price not in labelled))
        if current:
            labelled.add(level.price)
    if len(chart.points) > 1:
        line = " ".join(f"{frame.x(a):.1f},{frame.y(float(p)):.1f}" for a, p in chart.points)
        parts.append(
            f'<polyline fill="none" stroke="{COLOURS["line"]}" stroke-width="1.5" '
            f'stroke-linejoin="round" points="{line}"/>'
        )
    parts.extend(_marker(frame, m) for m in chart.markers)
    parts.append(_legend(chart))
    parts.append("</svg>")
    return "".join(parts)


def sparse_points(points: Sequence[tuple[datetime, Decimal]]) -> list[tuple[datetime, Decimal]]:
    """Points in time order, one per instant (the last price given for it)."""
    by_time: dict[datetime, Decimal] = {}
    for at, price in sorted(points, key=lambda p: p[0]):
        by_time[at] = price
    return sorted(by_time.items())
