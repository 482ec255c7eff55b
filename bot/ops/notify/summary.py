"""The daily summary message: what happened on one UTC day, from that day's journal. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from bot.config.notify import NotificationKind
from bot.ops.notify.events import NotificationEvent, Severity
from bot.state.store import JournalView

_EXIT_KINDS = ("take_profit", "trailing_stop", "stop_loss", "flatten", "panic")


def daily_summary(
    day: date,
    entries: Sequence[JournalView],
    at: datetime,
    *,
    equity_start: Decimal | None = None,
    equity_end: Decimal | None = None,
    open_positions: int | None = None,
) -> NotificationEvent:
    """Summary of `day` (UTC) from its journal rows; equity figures are quote currency."""
    kinds = Counter(e.kind for e in entries)
    sides = Counter(e.message.split(" ", 1)[0] for e in entries if e.kind == "fill")
    errors = sum(1 for e in entries if e.level in ("error", "critical"))
    warnings = sum(1 for e in entries if e.level == "warning")
    lines = [f"fills: {kinds['fill']} (buy {sides['buy']}, sell {sides['sell']})"]
    exits = ", ".join(f"{k} {kinds[k]}" for k in _EXIT_KINDS if kinds[k])
    lines.append(f"exits: {exits or 'none'}")
    if equity_end is not None:
        line = f"equity: {equity_end:.2f}"
        if equity_start is not None and equity_start > 0:
            change = (equity_end - equity_start) / equity_start * 100
            line += f" ({change:+.2f} % from {equity_start:.2f})"
        lines.append(line)
    if open_positions is not None:
        lines.append(f"open positions: {open_positions}")
    lines.append(f"errors: {errors}, warnings: {warnings}")
    blocked = [e for e in entries if e.kind == "entries_blocked"]
    if blocked:
        lines.append(f"entries blocked: {blocked[-1].message}")
    return NotificationEvent(
        kind=NotificationKind.DAILY_SUMMARY,
        title=f"daily summary {day.isoformat()}",
        body="\n".join(lines),
        at=at,
        severity=Severity.WARNING if errors else Severity.INFO,
    )
