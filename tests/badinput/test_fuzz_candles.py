"""Property: the backtest's candle reader fails only with `CandleFileError`, and what it accepts
it reads exactly (timestamps are not silently wrapped)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, example, given
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


@FUZZ
@given(text=_csv(HEADER))
def test_the_columnar_reader_agrees_with_the_row_parser(text: str) -> None:
    """Whatever a file holds, loading it (numpy's parser first) accepts exactly what the row
    parser accepts, with the same bars, and refuses the rest with the same message. (A NUL
    byte is refused before either parser sees the text: `test_damaged_data_files`.)"""
    assume("\x00" not in text)
    try:
        expected = candles.parse_candles(text, "BTC/USDT", "f")
    except candles.CandleFileError as exc:
        expected_error: str | None = str(exc)
    else:
        expected_error = None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "BTC_USDT-1d.csv"
        path.write_text(text, encoding="utf-8", newline="")
        try:
            series = candles.load_candles(path)
        except candles.CandleFileError as exc:
            assert expected_error is not None, exc
            assert str(exc) == expected_error.replace("f line", f"{path} line", 1).replace(
                "f:", f"{path}:", 1
            )
            return
    assert expected_error is None, expected_error
    assert series.ts.tolist() == expected.ts.tolist()
    for name in ("open", "high", "low", "close", "volume"):
        assert getattr(series, name).tolist() == getattr(expected, name).tolist(), name
