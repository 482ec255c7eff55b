"""Damaged data files through the real CLI (reliability round two, item 5): one line naming the
file and the line, exit 2, no traceback, never a wrong answer.

Candle files (`qtbot backtest`): NaN and infinite prices, negative volume, high below low, rows
out of order or repeated, timestamps in seconds or microseconds (refused with the factor, never
converted: see bot/backtest/candles.py), a file that is not UTF-8. A backtest too short to
annualise states no CAGR instead of overflowing. FRED and announcement files (`qtbot regime`)
that are binary or not UTF-8. A malformed FOMC calendar (`qtbot run`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.backtest.candles import to_ms
from tests.conftest import REPO, run_qtbot

SHIPPED = REPO / "bot" / "data"
HEADER = "timestamp,open,high,low,close,volume"
# The shipped Fed data calls 2024-09-19 onwards neutral, so a replay from here may trade.
START = datetime(2024, 10, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Damage:
    args: tuple[str, ...]
    env: dict[str, str]
    says: tuple[str, ...]  # fragments the one line must contain


Setup = Callable[[Path], Damage]


def _rows(days: int = 5, start: datetime = START) -> list[str]:
    rows = []
    for i in range(days):
        price = 60000 + 100 * i
        rows.append(
            f"{to_ms(start + timedelta(days=i))},{price},{price + 50},{price - 50},{price},1"
        )
    return rows


def _candles(tmp: Path, rows: list[str], says: tuple[str, ...] = ()) -> Damage:
    path = tmp / "BTC_USDT-1d.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return Damage(("backtest", "--candles", str(path)), {}, (str(path), *says))


def _with_row(line: int, row: str, *says: str) -> Setup:
    """Five good days with data line `line` (2 = first after the header) replaced by `row`."""

    def setup(tmp: Path) -> Damage:
        rows = _rows()
        rows[line - 2] = row
        return _candles(tmp, rows, (f"line {line}", *says))

    return setup


def _day_ms(i: int) -> int:
    return to_ms(START + timedelta(days=i))


def _seconds(tmp: Path) -> Damage:
    rows = [r.replace(str(_day_ms(i)), str(_day_ms(i) // 1000), 1) for i, r in enumerate(_rows())]
    return _candles(tmp, rows, ("line 2", "seconds", "multiply the column by 1000"))


def _microseconds(tmp: Path) -> Damage:
    rows = [r.replace(str(_day_ms(i)), str(_day_ms(i) * 1000), 1) for i, r in enumerate(_rows())]
    return _candles(tmp, rows, ("line 2", "microseconds", "divide the column by 1000"))


def _unsorted(tmp: Path) -> Damage:
    rows = _rows()
    rows[1], rows[2] = rows[2], rows[1]
    return _candles(tmp, rows, ("line 4", "not after", "line 3", "sort the rows"))


def _duplicate(tmp: Path) -> Damage:
    rows = _rows()
    rows[2] = rows[1]
    return _candles(tmp, rows, ("line 4", "not after"))


def _candles_not_utf8(tmp: Path) -> Damage:
    path = tmp / "BTC_USDT-1d.csv"
    rows = _rows()
    path.write_bytes(("\n".join([HEADER, *rows[:2]]) + "\n").encode() + b"\xff\xfe\x00,1\n")
    return Damage(("backtest", "--candles", str(path)), {}, (str(path), "line 4"))


def _range_misses_data(tmp: Path) -> Damage:
    damage = _candles(tmp, _rows(), ("no candles from 2030-01-01", "its candles run 2024-10-01"))
    return Damage((*damage.args, "--from", "2030-01-01"), {}, damage.says)


def _json_null_close(tmp: Path) -> Damage:
    path = tmp / "BTC_USDT-1d.json"
    rows = [[int(c) if i == 0 else float(c) for i, c in enumerate(r.split(","))] for r in _rows()]
    rows[1][4] = None  # type: ignore[call-overload]
    path.write_text(json.dumps(rows))
    return Damage(("backtest", "--candles", str(path)), {}, (str(path), "candle 2"))


def _feather_unsorted(tmp: Path) -> Damage:
    pa = pytest.importorskip("pyarrow")
    feather = pytest.importorskip("pyarrow.feather")
    path = tmp / "BTC_USDT-1d.feather"
    days = [_day_ms(i) for i in (0, 2, 1, 3)]
    table = pa.table(
        {
            "date": pa.array(days, type=pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            **{c: pa.array([60000.0] * 4) for c in ("open", "high", "low", "close", "volume")},
        }
    )
    feather.write_feather(table, str(path))
    return Damage(("backtest", "--candles", str(path)), {}, (str(path), "candle 3", "not after"))


def _datadir_without_the_timeframe(tmp: Path) -> Damage:
    _candles(tmp, _rows())
    return Damage(
        ("backtest", "--datadir", str(tmp), "--timeframe", "1m"),
        {},
        ("no 1m candles for BTC/USDT", "it has 1d", "qtbot download-data"),
    )


def _fed_dir(tmp: Path, name: str, data: bytes) -> Damage:
    fred = tmp / "fred"
    fred.mkdir()
    for series in ("WALCL.csv", "DFF.csv", "DFEDTARU.csv", "DFEDTARL.csv"):
        shutil.copy(SHIPPED / series, fred / series)
    (fred / name).write_bytes(data)
    env = {"QTBOT_SIGNALS__FED_SOURCE": "file", "QTBOT_SIGNALS__FED_DATA_DIR": str(fred)}
    return Damage(("regime",), env, (str(fred / name),))


def _fred_not_utf8(tmp: Path) -> Damage:
    damage = _fed_dir(tmp, "WALCL.csv", b"observation_date,WALCL\n2024-01-03,7\xe9\xff\n")
    return Damage(damage.args, damage.env, (*damage.says, "line 2", "not UTF-8"))


def _fred_binary(tmp: Path) -> Damage:
    damage = _fed_dir(tmp, "DFF.csv", b"observation_date,DFF\n\x00\x01\x02\x89PNG\n")
    return Damage(damage.args, damage.env, (*damage.says, "line 2", "binary"))


def _fred_utf16(tmp: Path) -> Damage:
    text = (SHIPPED / "WALCL.csv").read_text(encoding="utf-8")
    damage = _fed_dir(tmp, "WALCL.csv", text.encode("utf-16"))
    return Damage(damage.args, damage.env, (*damage.says, "UTF-16"))


def _announcements_not_utf8(tmp: Path) -> Damage:
    path = tmp / "announcements.csv"
    path.write_bytes(
        b"date,announced,kind,date_precision,source\n2019-08-01,2019-07-31,qt_end,exact,\xe9\n"
    )
    env = {"QTBOT_SIGNALS__FED_ANNOUNCEMENTS_PATH": str(path)}
    return Damage(("regime",), env, (str(path), "line 2", "not UTF-8"))


def _param(setup: Setup, case_id: str) -> object:
    return pytest.param(setup, id=case_id)


CASES = [
    _param(_with_row(3, f"{_day_ms(1)},60100,60150,60050,nan,1", "close"), "candle_nan_close"),
    _param(_with_row(4, f"{_day_ms(2)},60200,inf,60150,60200,1", "high"), "candle_inf_high"),
    _param(_with_row(3, f"{_day_ms(1)},60100,60150,60050,60100,-5", "volume"), "candle_neg_volume"),
    _param(
        _with_row(3, f"{_day_ms(1)},60100,60000,60200,60100,1", "OHLC"), "candle_high_below_low"
    ),
    _param(_with_row(2, f"{_day_ms(0)},-1,60150,-2,60000,1", "OHLC"), "candle_negative_price"),
    _param(
        _with_row(2, f"{_day_ms(0)}.5,60000,60050,59950,60000,1", "whole"), "candle_fraction_ts"
    ),
    _param(_seconds, "candle_timestamps_in_seconds"),
    _param(_microseconds, "candle_timestamps_in_microseconds"),
    _param(_unsorted, "candle_rows_out_of_order"),
    _param(_duplicate, "candle_duplicate_timestamp"),
    _param(_candles_not_utf8, "candle_file_not_utf8"),
    _param(_range_misses_data, "candle_range_misses_the_data"),
    _param(_json_null_close, "candle_json_null_close"),
    _param(_feather_unsorted, "candle_feather_out_of_order"),
    _param(_datadir_without_the_timeframe, "candle_datadir_without_the_timeframe"),
    _param(_fred_not_utf8, "fred_file_not_utf8"),
    _param(_fred_binary, "fred_file_binary"),
    _param(_fred_utf16, "fred_file_utf16"),
    _param(_announcements_not_utf8, "announcements_file_not_utf8"),
]


def _one_line(result_stderr: str) -> str:
    lines = result_stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("qtbot: "), lines
    return lines[0]


@pytest.mark.parametrize("setup", CASES)
def test_a_damaged_data_file_gives_one_line_naming_file_and_line_and_exit_2(
    setup: Setup, tmp_path: Path
) -> None:
    damage = setup(tmp_path)
    result = run_qtbot(*damage.args, cwd=tmp_path, env=damage.env)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2, (result.returncode, result.stderr)
    line = _one_line(result.stderr)
    for fragment in damage.says:
        assert fragment in line, (fragment, line)


def test_a_backtest_too_short_to_annualise_states_no_cagr(tmp_path: Path) -> None:
    path = tmp_path / "BTC_USDT-1m.csv"
    start = to_ms(START)
    rows, price = [], 60000.0
    for i in range(10):  # ten one-minute bars, +0.2 % each: ~+2 % in 10 minutes
        close = price * 1.002
        rows.append(f"{start + i * 60_000},{price},{close * 1.001},{price * 0.999},{close},1")
        price = close
    path.write_text("\n".join([HEADER, *rows]) + "\n")

    table = run_qtbot("backtest", "--candles", str(path), cwd=tmp_path)
    assert table.returncode == 0, table.stderr[-2000:]
    assert "Traceback" not in table.stderr
    cagr_row = next(line for line in table.stdout.splitlines() if "CAGR" in line)
    assert cagr_row.count("n/a (< 30 days)") == 2, cagr_row

    as_json = run_qtbot("backtest", "--candles", str(path), "--json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    summary = json.loads(as_json.stdout)
    assert summary["buy_and_hold"]["total_return"] > 0.01
    assert summary["buy_and_hold"]["cagr"] is None and summary["strategy"]["cagr"] is None


FOMC_HEADER = "date,time_et,meeting_start,type,decision,change_bps,target_upper_after"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param(
            "2025-12-10,14:00,2025-12-09,scheduled,hold,0,4.00\n"
            "2026-13-28,14:00,2026-01-27,scheduled,,,\n",
            ("line 3", "date '2026-13-28'"),
            id="impossible_date",
        ),
        pytest.param(
            "2025-12-10,14:00,2025-12-09,scheduled,hold,0,nan\n",
            ("line 2", "target_upper_after"),
            id="nan_rate",
        ),
        pytest.param(
            "2025-12-10,14:00,2025-12-09,scheduled,hold,0,4.00\n"
            "2025-12-10,14:00,2025-12-09,scheduled,hold,0,4.00\n",
            ("line 3", "duplicate", "line 2"),
            id="duplicate_decision",
        ),
        pytest.param(
            "2025-12-10,14:00,2025-12-09,scheduled,hold,0,4.00\n\xe9t\xe9\n",
            ("line 3", "not UTF-8"),
            id="not_utf8",
        ),
    ],
)
def test_a_malformed_fomc_calendar_stops_run_with_one_line_and_exit_2(
    body: str, says: tuple[str, ...], tmp_path: Path
) -> None:
    path = tmp_path / "fomc.csv"
    path.write_bytes((FOMC_HEADER + "\n" + body).encode("latin-1"))
    env = {"QTBOT_SIGNALS__FOMC_CALENDAR_PATH": str(path)}
    result = run_qtbot("run", "--once", cwd=tmp_path, env=env)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2, (result.returncode, result.stderr)
    line = _one_line(_without_log_records(result.stderr))
    assert line.startswith("qtbot: config error: FOMC calendar"), line
    for fragment in (str(path), *says):
        assert fragment in line, (fragment, line)


def test_a_malformed_fomc_calendar_is_the_only_line_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "fomc.csv"
    path.write_text(FOMC_HEADER + "\n2026-13-28,14:00,2026-01-27,scheduled,,,\n")
    env = {"QTBOT_SIGNALS__FOMC_CALENDAR_PATH": str(path)}
    result = run_qtbot("run", "--once", cwd=tmp_path, env=env)
    assert result.returncode == 2
    _one_line(result.stderr)
    assert not list(tmp_path.rglob("*.sqlite"))  # the calendar is read before the store opens


def _without_log_records(stderr: str) -> str:
    """stderr without the daemon's structured (JSON) log records, which `run` writes there."""

    def is_record(line: str) -> bool:
        try:
            return isinstance(json.loads(line), dict)
        except ValueError:
            return False

    return "\n".join(line for line in stderr.splitlines() if not is_record(line))


def test_panic_does_not_depend_on_the_fomc_calendar(tmp_path: Path) -> None:
    path = tmp_path / "fomc.csv"
    path.write_text(FOMC_HEADER + "\n2026-13-28,14:00,2026-01-27,scheduled,,,\n")
    env = {"QTBOT_SIGNALS__FOMC_CALENDAR_PATH": str(path)}
    result = run_qtbot("panic", "--yes", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "nothing to do" in result.stdout
