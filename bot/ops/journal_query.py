"""The journal filtered by time, kind and symbol: `qtbot journal` and the control API read it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.state.models import JournalEntry
from bot.state.store import Store, journal_view

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(m|min|h|d|w)", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> datetime:
    """`--since`: a duration back from `now` (`30m`, `12h`, `7d`, `2w`) or a date or ISO time
    (`2026-03-01`, `2026-03-01T12:00`, with or without an offset; none means UTC).
    ValueError with a message fit to show as is."""
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if match:
        number, unit = float(match.group(1)), _UNITS[match.group(2).lower()]
        try:
            return now - timedelta(**{unit: number})
        except OverflowError:
            raise ValueError(f"--since {text!r} reaches back before year 1") from None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither a duration nor a date: use e.g. 7d, 12h, 30m, 2w, "
            "2026-03-01 or 2026-03-01T12:00"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def journal_entries(
    store: Store,
    since: datetime | None,
    kind: str | None,
    symbol: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The newest `limit` entries matching every filter given, oldest first, JSON-ready.

    since: entries at or after this aware time; kind: one kind or several separated by commas
    (`take_profit,trailing_stop`); symbol: exact (`BTC/USDT`). `limit` must be positive.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = select(JournalEntry).order_by(col(JournalEntry.id).desc()).limit(limit)
    if since is not None:
        query = query.where(col(JournalEntry.at) >= since)
    kinds = [k.strip() for k in (kind or "").split(",") if k.strip()]
    if kinds:
        query = query.where(col(JournalEntry.kind).in_(kinds))
    if symbol:
        query = query.where(JournalEntry.symbol == symbol)
    with Session(store.engine) as session:
        rows = list(session.exec(query).all())
    views = [journal_view(row) for row in reversed(rows)]
    return [
        {
            "id": v.id,
            "at": v.at.isoformat(),
            "kind": v.kind,
            "level": v.level,
            "symbol": v.symbol,
            "message": v.message,
            "data": v.data,
        }
        for v in views
    ]


def journal_kinds(store: Store) -> list[str]:
    """Every kind the journal holds, for a "did you mean" when a filter matches nothing."""
    with Session(store.engine) as session:
        return sorted(set(session.exec(select(JournalEntry.kind).distinct()).all()))


def journal_symbols(store: Store) -> list[str]:
    with Session(store.engine) as session:
        rows = session.exec(select(JournalEntry.symbol).distinct()).all()
        return sorted(s for s in rows if s)
