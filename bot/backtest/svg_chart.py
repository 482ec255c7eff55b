"""Small inline SVG line charts for the HTML report: no script, no library, no network.

The chart scales to its container (viewBox); legends live in the HTML around it so they
stay readable on a phone. Times are ms UTC; a log axis needs positive values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape

import numpy as np

from bot.backtest.candles import FloatArray, IntArray

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 60, 10, 10, 28


@dataclass(frozen=True)
class Line:
    label: str
    color: str
    times: IntArray
    values: FloatArray
    fill: bool = False  # shade between the line and zero (drawdowns)


@dataclass(frozen=True)
class Band:
    """A shaded stretch of time (a regime): [start, end) in ms."""

    start: int
    end: int
    color: str


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def time_ticks(first: int, last: int) -> list[tuple[int, str]]:
    """Year starts for spans over ~2 years, month starts (every 1, 2, 3 or 6) down to ~2
    months, days below that."""
    start = datetime.fromtimestamp(first / 1000, tz=UTC).date()
    end = datetime.fromtimestamp(last / 1000, tz=UTC).date()
    if (end - start).days < 60:
        every = next(s for s in (1, 2, 7, 14) if (end - start).days / s <= 8)
        days = [start + timedelta(days=i) for i in range(0, (end - start).days + 1, every)]
        return [(_ms(d), f"{d:%b} {d.day}") for d in days]
    if (end - start).days > 700:
        years = range(start.year + (start > date(start.year, 1, 1)), end.year + 1)
        step = max(1, math.ceil(len(years) / 10))
        return [(_ms(date(y, 1, 1)), str(y)) for y in years if y % step == 0]
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = next(s for s in (1, 2, 3, 6, 12) if months / s <= 8)
    ticks: list[tuple[int, str]] = []
    for i in range(months + 1):
        year, month = divmod(start.month - 1 + i, 12)
        day = date(start.year + year, month + 1, 1)
        if (month % step) == 0 and start <= day <= end:
            ticks.append((_ms(day), f"{day:%b %Y}" if month == 0 or not ticks else f"{day:%b}"))
    return ticks


def value_ticks(low: float, high: float, log: bool) -> list[float]:
    """Round values inside [low, high]: 1-2-5 steps on a log axis (even steps when the range
    is too narrow for three of them), ~5 even steps otherwise."""
    if log and high / low >= 5:
        ticks = []
        for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
            for mantissa in (1, 2, 5):
                value = mantissa * 10.0**power
                if low <= value <= high:
                    ticks.append(value)
        decades = [t for t in ticks if math.log10(t).is_integer()]
        return ticks if len(ticks) <= 8 else decades or ticks[:: len(ticks) // 6 + 1]
    span = high - low or abs(high) or 1.0
    raw = span / 5
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _label(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f}%"
    if abs(value) >= 1000:
        return f"{value / 1000:,.0f}k" if abs(value) >= 10_000 else f"{value:,.0f}"
    return f"{value:g}"


def line_chart(
    lines: Sequence[Line],
    title: str,
    log: bool = False,
    unit: str = "",
    bands: Sequence[Band] = (),
    height: int = HEIGHT,
) -> str:
    """An `<svg>` element drawing `lines` over a shared time axis."""
    drawn = [line for line in lines if line.times.size]
    if not drawn:
        empty = f'<text x="4" y="24">{escape(title)}: no data</text>'
        return f'<svg viewBox="0 0 {WIDTH} 40">{empty}</svg>'
    first = min(int(line.times[0]) for line in drawn)
    last = max(int(line.times[-1]) for line in drawn)
    values = np.concatenate([line.values for line in drawn])
    if any(line.fill for line in drawn):
        values = np.concatenate((values, [0.0]))
    log = log and bool((values > 0).any())  # nothing to place on a log axis: draw linear
    if log:
        values = values[values > 0]
    low, high = float(values.min()), float(values.max())
    if log:
        low, high = low / 1.05, high * 1.05
    elif high == low:
        low, high = low - 1.0, high + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - first) / max(last - first, 1) * plot_w

    def y(v: float) -> float:
        if log:
            share = (math.log10(max(v, low)) - math.log10(low)) / (
                math.log10(high) - math.log10(low)
            )
        else:
            share = (v - low) / (high - low)
        return TOP + (1 - share) * plot_h

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        'font-size="13" font-family="system-ui, sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    for band in bands:
        x0, x1 = x(max(band.start, first)), x(min(band.end, last))
        if x1 > x0:
            parts.append(
                f'<rect x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{plot_h}" '
                f'fill="{band.color}" fill-opacity="0.10"/>'
            )
    for value in value_ticks(low, high, log):
        py = y(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
            'stroke="#ddd" stroke-width="0.6"/>'
            f'<text x="{LEFT - 4}" y="{py + 4:.1f}" text-anchor="end" fill="#555">'
            f"{_label(value, unit)}</text>"
        )
    for tick, text in time_ticks(first, last):
        px = x(tick)
        parts.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
            'stroke="#eee" stroke-width="0.6"/>'
            f'<text x="{px:.1f}" y="{height - 8}" text-anchor="middle" fill="#555">{text}</text>'
        )
    for line in drawn:
        points = " ".join(
            f"{x(int(t)):.1f},{y(float(v)):.1f}"
            for t, v in zip(line.times, line.values, strict=True)
        )
        if line.fill:
            base = y(0.0)
            parts.append(
                f'<polygon points="{x(int(line.times[0])):.1f},{base:.1f} {points} '
                f'{x(int(line.times[-1])):.1f},{base:.1f}" fill="{line.color}" '
                'fill-opacity="0.35" stroke="none"/>'
            )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{line.color}" '
            'stroke-width="1.3" stroke-linejoin="round"/>'
        )
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#999" stroke-width="0.6"/></svg>'
    )
    return "".join(parts)
