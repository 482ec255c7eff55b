"""The backtest store's shortcuts around JSON must give what the JSON round trip gives.

`MemoryStore.journal` keeps plain data (texts, counts, flags, Decimals) as items instead of
encoding and decoding it, and `RuntimeState` writes its price, dust and watermark maps without
`json.dumps`; a reader (the replay's journal, `qtbot status`) must not tell the difference:
same values, same types, same key order, same text.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest

from bot.state.memory import MemoryStore
from bot.state.runtime_state import (
    DUST_KEY,
    EQUITY_MARKS_KEY,
    LAST_PRICES_KEY,
    RuntimeState,
)
from risk.limits import EquityMarks

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)


class Colour(StrEnum):
    RED = "red"


PLAIN_AND_NOT: list[dict[str, Any]] = [
    {},
    {"z": "last", "a": "first", "m": 3, "flag": True, "off": False, "none": None},
    {"amount": Decimal("0.00100"), "big": Decimal("1E+2"), "neg": Decimal("-5"), "n": -7},
    {"text": 'quote " backslash \\ accent é tab \t', "emoji": "\U0001f600"},
    # Not plain: through the JSON text, as the SQL store does.
    {"colour": Colour.RED, "n": 1},
    {"reasons": ["a", "b"], "n": 2},
    {"ratio": 1.5},
]


@pytest.mark.parametrize("data", PLAIN_AND_NOT)
def test_journal_data_reads_back_as_through_json(data: dict[str, Any]) -> None:
    store = MemoryStore()
    store.journal(NOW, "kind", "message", symbol="BTC/USDT", **data)
    expected = json.loads(json.dumps(data, default=str, sort_keys=True))
    (first,) = store.recent_journal(1)
    assert first.data == expected
    assert list(first.data) == list(expected)
    assert [type(v) for v in first.data.values()] == [type(v) for v in expected.values()]
    assert repr(first.data) == repr(expected)
    # Every read is a fresh dict: a reader changing it changes nothing stored.
    first.data["added"] = 1
    (again,) = store.recent_journal(1)
    assert again.data == expected


def test_journal_refuses_a_naive_time_with_plain_data() -> None:
    store = MemoryStore()
    with pytest.raises(ValueError, match="naive"):
        store.journal(datetime(2024, 1, 1), "kind", "message", n=1)
    assert store.recent_journal(5) == []


TRICKY = ['a"b', "back\\slash", "é/ü", "tab\there", "\x00ctl", "BTC/USDT"]


@pytest.mark.parametrize("key", TRICKY)
def test_price_and_dust_texts_are_json_dumps(key: str) -> None:
    store = MemoryStore()
    state = RuntimeState(store)
    prices = {key: Decimal("101.50"), "ETH/USDT": Decimal("1E+3")}
    state.set_last_prices(prices, NOW)
    assert store.get_value(LAST_PRICES_KEY) == json.dumps({s: str(p) for s, p in prices.items()})
    assert state.last_prices() == prices
    dust = {"ZZZ/USDT": Decimal("0.0001"), key: Decimal(0)}
    state.set_dust(dust, NOW)
    assert store.get_value(DUST_KEY) == json.dumps({s: str(d) for s, d in sorted(dust.items())})


def test_empty_price_map_and_equity_marks_texts() -> None:
    store = MemoryStore()
    state = RuntimeState(store)
    state.set_last_prices({}, NOW)
    assert store.get_value(LAST_PRICES_KEY) == json.dumps({})
    marks = EquityMarks(date(2024, 3, 1), Decimal("1000.10"), Decimal("1200"))
    state.set_equity_marks(marks, NOW)
    assert store.get_value(EQUITY_MARKS_KEY) == json.dumps(
        {"day": "2024-03-01", "day_start": "1000.10", "peak": "1200"}
    )
    assert state.equity_marks() == marks


def test_equity_marks_read_back_are_what_the_text_decodes_to() -> None:
    store = MemoryStore()
    state = RuntimeState(store)
    marks = EquityMarks(date(2024, 3, 2), Decimal("1000.100"), Decimal("12E+2"))
    state.set_equity_marks(marks, NOW)
    text = store.get_value(EQUITY_MARKS_KEY)
    assert text is not None
    decoded = json.loads(text)
    read = state.equity_marks()
    assert read == marks
    assert read is not None
    assert (read.day.isoformat(), str(read.equity_day_start), str(read.equity_peak)) == (
        decoded["day"],
        decoded["day_start"],
        decoded["peak"],
    )
    # A text written by anything else (another process, an older qtbot) is decoded.
    store.set_value(EQUITY_MARKS_KEY, '{"peak": "7", "day_start": "5.0", "day": "2024-01-09"}', NOW)
    assert state.equity_marks() == EquityMarks(date(2024, 1, 9), Decimal("5.0"), Decimal(7))
    store.set_value(EQUITY_MARKS_KEY, "{}", NOW)
    assert state.equity_marks() is None
