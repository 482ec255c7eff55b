"""The journal filtered by time, kind and symbol, and the `--since` spellings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.ops.journal_query import journal_entries, journal_kinds, parse_since
from tests.unit.ops.seed import NOW, make_context, seed_trading_state


@pytest.fixture
def store(tmp_path: Path):
    ctx = make_context(tmp_path)
    seed_trading_state(ctx)
    return ctx.store


def test_filters_combine_and_come_oldest_first(store) -> None:
    rows = journal_entries(store, NOW - timedelta(hours=3), None, "BTC/USDT", 50)
    assert [r["kind"] for r in rows] == ["order_intent", "liquidation_flush", "order_rejected"]
    assert rows[0]["at"] < rows[-1]["at"]
    kinds = journal_entries(store, None, "regime_pivot, order_rejected", None, 50)
    assert [r["kind"] for r in kinds] == ["regime_pivot", "order_rejected"]
    assert kinds[0]["data"] == {"previous": "tightening", "regime": "easing"}


def test_limit_keeps_the_newest(store) -> None:
    (last,) = journal_entries(store, None, None, None, 1)
    assert last["kind"] == "order_rejected"
    with pytest.raises(ValueError, match="at least 1"):
        journal_entries(store, None, None, None, 0)


def test_kinds_recorded_for_the_did_you_mean(store) -> None:
    assert {"regime_pivot", "order_intent", "fill"} <= set(journal_kinds(store))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("7d", NOW - timedelta(days=7), id="days"),
        pytest.param("12h", NOW - timedelta(hours=12), id="hours"),
        pytest.param("30m", NOW - timedelta(minutes=30), id="minutes"),
        pytest.param("2W", NOW - timedelta(weeks=2), id="weeks_upper"),
        pytest.param("1.5d", NOW - timedelta(hours=36), id="fraction"),
        pytest.param("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC), id="date_is_utc"),
        pytest.param("2026-03-01T12:30Z", datetime(2026, 3, 1, 12, 30, tzinfo=UTC), id="z"),
        pytest.param(
            "2026-03-01T14:30+02:00", datetime(2026, 3, 1, 12, 30, tzinfo=UTC), id="offset"
        ),
    ],
)
def test_since_spellings(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "7", "-3d", "3x", "", "2026-13-01", "9" * 30 + "w"])
def test_bad_since_is_one_message(text: str) -> None:
    with pytest.raises(ValueError, match="--since") as caught:
        parse_since(text, NOW)
    assert "\n" not in str(caught.value)
