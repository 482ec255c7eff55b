"""Compare the bot's exits with the reference's, candle by candle, and print the differences.

Pure: both sides come in as plain records, so this module knows nothing of the engine either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tests.reference.exit_simulator import Exit

PRICE_TOLERANCE = Decimal("1e-4")  # relative
AMOUNT_TOLERANCE = Decimal("1e-4")  # relative; the venue truncates amounts to 1e-8


@dataclass(frozen=True)
class BotExit:
    """One of the bot's exit orders: its fills summed (amount) and averaged (price)."""

    symbol: str
    kind: str
    tier: int | None
    bar_ts: int
    price: Decimal
    amount: Decimal

    @property
    def label(self) -> str:
        return self.kind if self.tier is None else f"{self.kind}{self.tier}"


@dataclass(frozen=True)
class Mismatch:
    """`what`: "bot only", "reference only", "kind", "price" or "amount"."""

    symbol: str
    bar_ts: int
    what: str
    bot: BotExit | None
    ref: Exit | None

    @property
    def category(self) -> str:
        if self.what == "bot only" and self.bot is not None:
            return f"bot only: {self.bot.label}"
        if self.what == "reference only" and self.ref is not None:
            return f"reference only: {self.ref.label}"
        if self.what == "kind" and self.bot is not None and self.ref is not None:
            return f"kind: bot {self.bot.label} vs reference {self.ref.label}"
        return self.what


def _close(a: Decimal, b: Decimal, tolerance: Decimal) -> bool:
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def compare(bot: Sequence[BotExit], ref: Sequence[Exit]) -> list[Mismatch]:
    """Pair the exits of each (symbol, candle) in order; every difference, oldest first."""
    candles: dict[tuple[str, int], tuple[list[BotExit], list[Exit]]] = {}
    for b in bot:
        candles.setdefault((b.symbol, b.bar_ts), ([], []))[0].append(b)
    for r in ref:
        candles.setdefault((r.symbol, r.bar_ts), ([], []))[1].append(r)
    found: list[Mismatch] = []
    for (symbol, bar_ts), (mine, theirs) in sorted(candles.items(), key=lambda kv: kv[0][::-1]):
        for i in range(max(len(mine), len(theirs))):
            b_exit = mine[i] if i < len(mine) else None
            r_exit = theirs[i] if i < len(theirs) else None
            what = _difference(b_exit, r_exit)
            if what is not None:
                found.append(Mismatch(symbol, bar_ts, what, b_exit, r_exit))
    return found


def _difference(b: BotExit | None, r: Exit | None) -> str | None:
    if r is None:
        return "bot only"
    if b is None:
        return "reference only"
    if (b.kind, b.tier) != (r.kind, r.tier):
        return "kind"
    if not _close(b.price, r.price, PRICE_TOLERANCE):
        return "price"
    if not _close(b.amount, r.amount, AMOUNT_TOLERANCE):
        return "amount"
    return None


def counts(mismatches: Sequence[Mismatch]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for m in mismatches:
        totals[m.category] = totals.get(m.category, 0) + 1
    return dict(sorted(totals.items()))


def _when(bar_ts: int) -> str:
    moment = datetime.fromtimestamp(bar_ts / 1000, UTC)
    return f"{moment:%Y-%m-%d}" if moment.hour == 0 else f"{moment:%Y-%m-%d %H:%M}"


def _side(label: str, price: Decimal, amount: Decimal) -> str:
    return f"{label} @ {price:.6g} x {amount:.8g}"


def table(mismatches: Sequence[Mismatch], title: str, limit: int = 12) -> str:
    """Counts by kind, then the first `limit` differences as aligned rows."""
    lines = [f"{title}: {len(mismatches)} differences {counts(mismatches)}"]
    rows = [("symbol", "candle", "what", "bot", "reference")]
    for m in mismatches[:limit]:
        bot = _side(m.bot.label, m.bot.price, m.bot.amount) if m.bot else "-"
        ref = _side(m.ref.label, m.ref.price, m.ref.amount) if m.ref else "-"
        rows.append((m.symbol, _when(m.bar_ts), m.what, bot, ref))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines.extend(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )
    return "\n".join(lines)
