"""Candle files in every format read alike; windows, the binary cache, freqtrade's directory
names, and the one-line refusals of feather and JSON files."""

from __future__ import annotations

import gzip
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as pa_feather
import pytest

from bot.backtest import candle_cache
from bot.backtest.candle_datadir import find_candle_files, shipped_candles
from bot.backtest.candles import CandleFileError, load_candles, to_ms

HEADER = "timestamp,open,high,low,close,volume"
START = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = 3_600_000


def _rows(n: int = 48) -> list[tuple[int, float, float, float, float, float]]:
    rows = []
    price = 40000.0
    for i in range(n):
        close = price * (1.001 if i % 3 else 0.998)
        rows.append(
            (
                to_ms(START) + i * HOUR,
                price,
                max(price, close) + 5.5,
                min(price, close) - 5.25,
                close,
                10.0 + i,
            )
        )
        price = close
    return rows


def _csv_text(rows: list[tuple[int, float, float, float, float, float]]) -> str:
    return HEADER + "\n" + "".join(",".join(repr(v) for v in r) + "\n" for r in rows)


def _feather(
    path: Path, rows: list[tuple[int, float, float, float, float, float]], unit: str = "ms"
) -> Path:
    ts = np.array([r[0] for r in rows], dtype="datetime64[ms]").astype(f"datetime64[{unit}]")
    columns = {"date": pa.array(ts).cast(pa.timestamp(unit, tz="UTC"))}
    for i, name in enumerate(("open", "high", "low", "close", "volume"), start=1):
        columns[name] = pa.array([r[i] for r in rows], type=pa.float64())
    pa_feather.write_feather(pa.table(columns), str(path), compression="lz4")
    return path


def _write(tmp: Path, kind: str, rows: list[tuple[int, float, float, float, float, float]]) -> Path:
    as_json = json.dumps([list(r) for r in rows], separators=(",", ":")).encode()
    if kind == "csv":
        (path := tmp / "BTC_USDT-1h.csv").write_text(_csv_text(rows))
    elif kind == "csv.gz":
        (path := tmp / "BTC_USDT-1h.csv.gz").write_bytes(gzip.compress(_csv_text(rows).encode()))
    elif kind == "json":
        (path := tmp / "BTC_USDT-1h.json").write_bytes(as_json)
    elif kind == "json_spaced":
        (path := tmp / "BTC_USDT-1h.json").write_text(json.dumps([list(r) for r in rows]))
    elif kind == "json.gz":
        (path := tmp / "BTC_USDT-1h.json.gz").write_bytes(gzip.compress(as_json))
    elif kind == "feather_ns":
        path = _feather(tmp / "BTC_USDT-1h.feather", rows, "ns")
    else:
        path = _feather(tmp / "BTC_USDT-1h.feather", rows)
    return path


@pytest.mark.parametrize(
    "kind", ["csv", "csv.gz", "json", "json_spaced", "json.gz", "feather", "feather_ns"]
)
def test_every_format_reads_the_same_bars_exactly(kind: str, tmp_path: Path) -> None:
    rows = _rows()
    series = load_candles(_write(tmp_path, kind, rows))
    assert series.symbol == "BTC/USDT" and series.timeframe_ms == HOUR
    assert series.ts.dtype == np.int64 and series.close.dtype == np.float64
    assert series.ts.tolist() == [r[0] for r in rows]
    for i, column in enumerate((series.open, series.high, series.low, series.close, series.volume)):
        assert column.tolist() == [r[i + 1] for r in rows], i


def test_a_window_keeps_the_look_back_and_the_asked_bars_only(tmp_path: Path) -> None:
    path = _write(tmp_path, "csv", _rows())
    start, end = START + timedelta(hours=10), START + timedelta(hours=20)
    series = load_candles(path, start, end, history=timedelta(hours=3))
    assert series.ts[0] == to_ms(START) + 7 * HOUR and series.ts[-1] == to_ms(START) + 19 * HOUR
    assert len(series.between(start, end)) == 10


def test_a_window_outside_the_file_says_what_the_file_holds(tmp_path: Path) -> None:
    path = _write(tmp_path, "feather", _rows())
    with pytest.raises(CandleFileError) as caught:
        load_candles(path, datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
    message = str(caught.value)
    assert "\n" not in message
    assert "no candles from 2030-01-01 to 2030-02-01" in message
    assert "2024-01-01 to 2024-01-02" in message


@pytest.mark.parametrize(
    ("kind", "row", "value", "says"),
    [
        pytest.param("feather", 5, float("nan"), "candle 6: close nan is not a number", id="nan"),
        pytest.param("json", 2, -3.0, "candle 3: volume -3.0 is negative", id="negative"),
        pytest.param("json.gz", 0, 1e9, "candle 1: inconsistent OHLC", id="close_above_high"),
    ],
)
def test_a_bad_bar_in_feather_or_json_is_named_by_number(
    kind: str, row: int, value: float, says: str, tmp_path: Path
) -> None:
    rows = _rows()
    column = 5 if "volume" in says else 4
    rows[row] = (*rows[row][:column], value, *rows[row][column + 1 :])  # type: ignore[assignment]
    with pytest.raises(CandleFileError, match=says):
        load_candles(_write(tmp_path, kind, rows))


@pytest.mark.parametrize("kind", ["feather", "json", "csv"])
def test_unsorted_and_duplicate_bars_are_refused_in_every_format(kind: str, tmp_path: Path) -> None:
    rows = _rows()
    rows[7] = rows[6]
    with pytest.raises(CandleFileError, match="not after the previous"):
        load_candles(_write(tmp_path, kind, rows))


def test_feather_timestamps_in_seconds_are_converted_by_their_type(tmp_path: Path) -> None:
    rows = _rows()
    series = load_candles(_feather(tmp_path / "BTC_USDT-1h.feather", rows, "s"))
    assert series.ts.tolist() == [r[0] for r in rows]


def test_json_timestamps_in_seconds_are_refused_with_the_factor(tmp_path: Path) -> None:
    rows = [(r[0] // 1000, *r[1:]) for r in _rows()]
    with pytest.raises(CandleFileError, match=r"candle 1: .*seconds.*multiply by 1000"):
        load_candles(_write(tmp_path, "json", rows))  # type: ignore[arg-type]


def test_a_feather_file_without_pyarrow_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "feather", _rows())
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.ipc", None)
    with pytest.raises(CandleFileError) as caught:
        load_candles(path)
    assert str(caught.value) == (
        f"{path}: reading feather files needs pyarrow: "
        "pip install 'qtbot[feather]' (or: pip install pyarrow)"
    )


def test_a_file_that_is_not_feather_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "BTC_USDT-1h.feather"
    path.write_text(_csv_text(_rows()))
    with pytest.raises(CandleFileError, match="not a feather"):
        load_candles(path)


def test_large_files_are_cached_mapped_and_reparsed_when_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(candle_cache, "MIN_BYTES", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = _write(tmp_path, "csv", _rows())
    first = load_candles(path)
    copies = list((tmp_path / "cache" / "qtbot" / "candles").iterdir())
    assert len(copies) == 1 and copies[0].suffix == ".npy"
    again = load_candles(path)
    assert isinstance(again.close.base, np.memmap)
    assert again.close.tolist() == first.close.tolist()
    rows = _rows(50)
    path.write_text(_csv_text(rows))
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000_000))
    changed = load_candles(path)
    assert len(changed) == 50
    assert len(list((tmp_path / "cache" / "qtbot" / "candles").iterdir())) == 1


def test_an_unwritable_cache_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(candle_cache, "MIN_BYTES", 0)
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert len(load_candles(_write(tmp_path, "csv", _rows()))) == 48


def test_a_bad_file_is_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candle_cache, "MIN_BYTES", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rows = _rows()
    rows[3] = rows[2]
    path = _write(tmp_path, "csv", rows)
    for _ in range(2):
        with pytest.raises(CandleFileError, match="line 5"):
            load_candles(path)
    assert not (tmp_path / "cache").exists()


def test_a_freqtrade_data_directory_is_read_by_pair_and_timeframe(tmp_path: Path) -> None:
    _feather(tmp_path / "BTC_USDT-1h.feather", _rows())
    (tmp_path / "ETH_USDT-1h.json").write_text(json.dumps([list(r) for r in _rows()]))
    (tmp_path / "futures").mkdir()
    _feather(tmp_path / "futures" / "BTC_USDT_USDT-1h-futures.feather", _rows())
    args = find_candle_files(tmp_path, ["BTC/USDT", "ETH/USDT", "BTC/USDT:USDT"], "1h")
    assert args == [
        f"BTC/USDT={tmp_path / 'BTC_USDT-1h.feather'}",
        f"ETH/USDT={tmp_path / 'ETH_USDT-1h.json'}",
        f"BTC/USDT={tmp_path / 'futures' / 'BTC_USDT_USDT-1h-futures.feather'}",
    ]
    assert [load_candles(a).symbol for a in args] == ["BTC/USDT", "ETH/USDT", "BTC/USDT"]


def test_a_missing_pair_file_names_what_the_directory_has(tmp_path: Path) -> None:
    _feather(tmp_path / "BTC_USDT-1h.feather", _rows())
    (tmp_path / "BTC_USDT-5m.csv").write_text(_csv_text(_rows()))
    with pytest.raises(CandleFileError) as caught:
        find_candle_files(tmp_path, ["BTC/USDT"], "1m")
    message = str(caught.value)
    assert "no 1m candles for BTC/USDT" in message and "it has 1h, 5m" in message
    assert "qtbot download-data" in message


def test_the_shipped_daily_history_covers_btc_and_eth_from_2017() -> None:
    btc, eth = (load_candles(arg) for arg in shipped_candles())
    for series in (btc, eth):
        assert series.timeframe_ms == 86_400_000 and len(series) >= 3_292
        assert series.time_of(0) == datetime(2017, 8, 17, tzinfo=UTC)
        assert series.time_of(-1) >= datetime(2026, 8, 21, tzinfo=UTC)
    with pytest.raises(CandleFileError, match="cover BTC/USDT and ETH/USDT only"):
        shipped_candles(["SOL/USDT"])
