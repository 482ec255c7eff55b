"""Number formatting for human-readable action reasons (private to risk/)."""

from __future__ import annotations

from decimal import Context, Decimal

_DISPLAY = Context(prec=12)
_ONE_TENTH = Decimal("0.1")
_HUNDRED = Decimal(100)


def fmt_num(value: Decimal) -> str:
    """Plain notation, 12 significant digits, no trailing zeros: 0.01250 -> '0.0125', 2E+1 -> '20'.

    Display only: actions carry the exact Decimal amounts.
    """
    if value == 0:
        return "0"
    return format(_DISPLAY.plus(value).normalize(), "f")


def fmt_pct(fraction: Decimal) -> str:
    """A fraction as an exact percent: 0.2 -> '20%', 0.125 -> '12.5%'."""
    return f"{fmt_num(fraction * _HUNDRED)}%"


def fmt_signed_pct(fraction: Decimal) -> str:
    """A fraction as a signed exact percent: 0.2 -> '+20%'."""
    sign = "+" if fraction >= 0 else ""
    return f"{sign}{fmt_pct(fraction)}"


def fmt_gain(fraction: Decimal) -> str:
    """An observed gain, rounded to 0.1 %: 0.20437 -> '+20.4%'."""
    pct = (fraction * _HUNDRED).quantize(_ONE_TENTH)
    sign = "+" if pct >= 0 else ""
    return f"{sign}{format(pct, 'f')}%"


def base_asset(symbol: str) -> str:
    """'BTC/USDT' -> 'BTC'; symbols without a slash are returned unchanged."""
    return symbol.split("/", 1)[0]
