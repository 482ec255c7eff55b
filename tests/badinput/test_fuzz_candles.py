"""Property: the backtest's candle reader fails only with `CandleFileError`, and what it accepts
it reads exactly (timestamps are not silently wrapped)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.backtest import candles
from tests.badinput.test_fuzz import FUZZ, _csv, _only

HEADER = "timestamp,open,high,low,close,volume"


@FUZZ
@given(text=_csv(HEADER))
def test_candle_reader_raises_only_candle_file_errors(text: str) -> None:
    _only((candles.CandleFileError,), lambda: candles.parse_candles(text, "BTC/USDT", "fuzz"))


@pytest.mark.parametrize("stamp", ["inf", "-1e309", "99999999999999999999"])
def test_an_impossible_candle_timestamp_is_a_file_error(stamp: str) -> None:
    text = f"{HEADER}\n{stamp},1,2,0.5,1,1\n"
    with pytest.raises(candles.CandleFileError, match="line 2"):
        candles.parse_candles(text, "BTC/USDT", "fuzz")


def test_a_lone_carriage_return_in_candles_is_read_as_a_line_end() -> None:
    series = candles.parse_candles(f"{HEADER}\r1000,1,2,0.5,1,1\n", "BTC/USDT", "fuzz")
    assert [int(t) for t in series.ts] == [1000]


@FUZZ
@given(
    stamps=st.lists(
        st.one_of(
            st.integers(min_value=-(2**70), max_value=2**70),
            st.sampled_from([2**63, 10**20, -(2**63) - 1]),
        ),
        min_size=1,
        max_size=4,
        unique=True,
    ).map(sorted)
)
@example(stamps=[10**20])
def test_accepted_candle_timestamps_are_read_exactly(stamps: list[int]) -> None:
    text = HEADER + "\n" + "".join(f"{ts},1,2,0.5,1.5,3\n" for ts in stamps)
    try:
        series = candles.parse_candles(text, "BTC/USDT", "fuzz")
    except candles.CandleFileError:
        return
    assert [int(t) for t in series.ts] == stamps
