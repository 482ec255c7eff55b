"""The in-memory store keeps journal lines without building ORM rows; what it reads back must
be what `journal_view` gives for the `JournalEntry` the SQL store would have written, field by
field (data through the same JSON round trip, times in UTC), or a replay's journal would
drift from the daemon's."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from bot.state.memory import MemoryStore
from bot.state.models import stored_utc
from bot.state.store import journal_entry, journal_view, risk_switch_entry

PARIS = timezone(timedelta(hours=2))
CASES: list[tuple[datetime, str, str, str, str | None, dict[str, Any]]] = [
    (datetime(2024, 1, 1, tzinfo=UTC), "fill", "buy 1 BTC", "info", "BTC/USDT", {}),
    (
        datetime(2024, 6, 1, 14, 30, tzinfo=PARIS),
        "take_profit",
        "tier 2",
        "warning",
        None,
        {
            "price": Decimal("101.50"),
            "when": datetime(2024, 6, 1, tzinfo=UTC),
            "tiers": (1, 2),
            "nested": {"b": [Decimal("0.0010"), None], "a": True},
            "z": 1.5,
        },
    ),
]


def _expected(line_id: int, case: tuple[Any, ...]) -> Any:
    at, kind, message, level, symbol, data = case
    row = journal_entry(at, kind, message, level, symbol, data)
    row.at, row.id = stored_utc(row.at), line_id
    return journal_view(row)


def test_journal_lines_read_back_as_the_rows_would() -> None:
    store = MemoryStore()
    for at, kind, message, level, symbol, data in CASES:
        store.journal(at, kind, message, level=level, symbol=symbol, **data)
    switch_at = datetime(2024, 7, 1, tzinfo=PARIS)
    assert store.add_journal(risk_switch_entry(True, switch_at, "manual")) == 3
    got = list(reversed(store.recent_journal(limit=-1)))
    want = [_expected(i + 1, case) for i, case in enumerate(CASES)]
    switch = risk_switch_entry(True, switch_at, "manual")
    switch.at, switch.id = stored_utc(switch.at), 3
    want.append(journal_view(switch))
    assert got == want
    # Key order too (dict equality ignores it; a report printing the data would not).
    assert [json.dumps(line.data) for line in got] == [json.dumps(line.data) for line in want]
    assert [line.at.tzinfo for line in got] == [UTC, UTC, UTC]
    assert got[1].data["price"] == "101.50" and got[1].data["tiers"] == [1, 2]
    # Each read gives fresh data: a caller changing one view cannot change the journal.
    got[0].data["x"] = 1
    assert store.recent_journal(limit=3)[-1] == replace(got[0], data={})
    assert store.writes()[0] == 3


def test_a_naive_time_is_refused_and_nothing_is_kept() -> None:
    store = MemoryStore()
    with pytest.raises(ValueError, match="naive"):
        store.journal(datetime(2024, 1, 1), "x", "naive")
    assert store.recent_journal() == [] and store.writes()[0] == 0
    assert store.journal(datetime(2024, 1, 1, tzinfo=UTC), "x", "ok") == 1
