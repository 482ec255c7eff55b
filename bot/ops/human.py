"""Numbers and times as people read them: thousands separated, prices to a sensible precision,
signed P&L, ages in the largest unit that fits. The terminal and the status page share these."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Number = Decimal | str | int | float | None


def _decimal(value: Number) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _fixed(value: Decimal, places: int) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def money(value: Number, signed: bool = False) -> str:
    """Quote amounts: `12,345.68`; `signed` puts + before a gain (P&L)."""
    number = _decimal(value)
    if number is None:
        return "-"
    text = _fixed(number, 2)
    if text.startswith("-") and _fixed(abs(number), 2) == "0.00":
        text = "0.00"
    return f"+{text}" if signed and number > 0 and text != "0.00" else text


def price(value: Number) -> str:
    """A price with the decimals its size needs: 84,250.00 / 2.4512 / 0.00004521."""
    number = _decimal(value)
    if number is None:
        return "-"
    size = abs(number)
    if size >= 1000 or size == 0:
        return _fixed(number, 2)
    if size >= 1:
        return _fixed(number, 4)
    # Below one: four significant digits.
    places = min(12, 3 - size.adjusted())
    return _fixed(number, places)


def amount(value: Number) -> str:
    """A base amount exactly as far as it goes (at most 8 decimals): 0.0125, 1.5, 3."""
    number = _decimal(value)
    if number is None:
        return "-"
    text = _fixed(number, 8).rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pct(value: Number, signed: bool = True) -> str:
    """A percentage given in percent: `+34.77 %`."""
    number = _decimal(value)
    if number is None:
        return "-"
    text = _fixed(number, 2)
    return f"{'+' if signed and number > 0 else ''}{text} %"


def when(value: datetime | str | None) -> str:
    """`2026-03-18 14:00` (UTC, as stored)."""
    if value is None:
        return "-"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.strftime("%Y-%m-%d %H:%M")


def age(seconds: float | None) -> str:
    """`45 s`, `12 min`, `3 h`, `12 d`: the largest unit that fits, rounded down."""
    if seconds is None:
        return "-"
    delta = timedelta(seconds=max(0.0, seconds))
    if delta < timedelta(minutes=1):
        return f"{int(delta.total_seconds())} s"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)} min"
    if delta < timedelta(days=2):
        return f"{int(delta.total_seconds() // 3600)} h"
    return f"{delta.days} d"


def held(seconds: float) -> str:
    """A holding time: `3 d 4 h`, `6 h 30 min`, `12 min`."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def text_table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """Columns padded to their widest cell; columns in `right` (numbers) aligned right."""
    right = right or set()
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = (
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
