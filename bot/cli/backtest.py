"""`qtbot backtest` and `qtbot thesis` bodies: typed arguments in, printed output, exit status.

The typer commands in `bot.cli.main` parse the command line and call these. Exit status:
0 ok, 1 runtime failure, 2 bad input (one `qtbot: ...` line per problem on stderr).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from bot.backtest.candle_datadir import SHIPPED_SYMBOLS, find_candle_files, shipped_candles
from bot.backtest.candles import CandleFileError, CandleSeries, load_candles
from bot.backtest.config import BacktestConfig, look_back
from bot.backtest.export import write_outputs
from bot.backtest.html_report import check_html_target, write_html
from bot.backtest.recorded_inputs import build_signals, fomc_calendar
from bot.backtest.report import print_summary, summary_json
from bot.backtest.runner import BacktestResult, run_backtest
from bot.backtest.thesis import DailyCloses, ThesisReport, report_as_dict, thesis_report
from bot.backtest.thesis_table import print_thesis
from bot.config.settings import Settings
from bot.feeds.fed_inputs import inputs_from_directory
from bot.signals.calendar import CalendarFileError
from bot.signals.fed_announcements import load_announcements
from bot.signals.fred import FredParseError
from bot.signals.liquidation_history import LiquidationFileError
from bot.signals.regime import pivots, regime_history
from bot.signals.shipped_data import SHIPPED_DATA_DIR


def _fail(message: str, status: int = 2) -> int:
    print(f"qtbot: {message}", file=sys.stderr)
    return status


def candle_args(
    candles: Sequence[str | Path],
    datadir: Path | None = None,
    timeframe: str | None = None,
    symbols: str | None = None,
) -> list[str | Path]:
    """What to load: the `--candles` files, else the `--datadir` files of `--symbols` (default
    BTC/USDT,ETH/USDT) at `--timeframe` (default 1d), else the shipped daily history."""
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else None
    if candles and (datadir is not None or wanted):
        raise CandleFileError("give --candles, or --datadir with --symbols, not both")
    if candles:
        return list(candles)
    if datadir is not None:
        return list(find_candle_files(datadir, wanted or list(SHIPPED_SYMBOLS), timeframe or "1d"))
    if timeframe is not None and timeframe != "1d":
        raise CandleFileError(
            f"the shipped candles are daily; for --timeframe {timeframe} give --datadir DIR "
            "(qtbot download-data fetches them)"
        )
    return list(shipped_candles(wanted))


def load_series(
    candles: Sequence[str | Path],
    start: datetime | None = None,
    end: datetime | None = None,
    history: timedelta = timedelta(0),
) -> list[CandleSeries]:
    return [load_candles(arg, start, end, history) for arg in candles]


def _fed_dir(fed_data: Path | None, settings: Settings | None) -> Path:
    configured = settings.signals.fed_data_dir if settings else None
    return Path(fed_data or configured or SHIPPED_DATA_DIR)


def thesis_from_files(
    candles: Sequence[str | Path], fed_data: Path | None, settings: Settings | None = None
) -> ThesisReport:
    """Pivots of the Fed data in `fed_data` (FRED CSVs, default the configured or shipped
    copy; announcements and classifier settings as configured, by default the shipped
    announcements and default rule) vs the candles (default the shipped BTC and ETH)."""

    series = load_series(candles or shipped_candles())
    fed_data = _fed_dir(fed_data, settings)
    announcements = load_announcements(
        settings.signals.fed_announcements_path if settings else None
    )
    calendar = fomc_calendar(fed_data, settings.signals.fomc_calendar_path if settings else None)
    inputs = inputs_from_directory(fed_data, announcements).with_decisions(calendar.decisions)
    by_asset: dict[str, list[list[tuple[date, float]]]] = {}
    for s in series:
        by_asset.setdefault(s.base, []).append(s.daily_closes())
    closes = {asset: DailyCloses.merge(rows) for asset, rows in by_asset.items()}
    params = settings.signals.regime_params() if settings else None
    return thesis_report(pivots(regime_history(inputs, params)), closes)


def thesis_command(
    candles: Sequence[str | Path],
    fed_data: Path | None,
    json_output: bool = False,
    console: Console | None = None,
    settings: Settings | None = None,
    *,
    datadir: Path | None = None,
    timeframe: str | None = None,
    symbols: str | None = None,
) -> int:
    """Print the pivot table (or its JSON); 2 on unreadable input. `settings` (optional)
    supplies the announcements file and the classifier's rule and thresholds."""

    try:
        files = candle_args(candles, datadir, timeframe, symbols)
        report = thesis_from_files(files, fed_data, settings)
    except (CandleFileError, FredParseError, CalendarFileError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot read the Fed data in {fed_data}: {exc.strerror or exc}")
    if json_output:
        print(json.dumps(report_as_dict(report), indent=2, sort_keys=True))
        return 0

    print_thesis(report, console or _console())
    return 0


def parse_day(text: str | None) -> datetime | None:
    """`2024-01-31` (or a full ISO time) -> aware UTC datetime; None stays None."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_datetime(value: datetime | date | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return parse_day(value.isoformat()) if isinstance(value, datetime) else None
    return datetime.combine(value, datetime.min.time(), tzinfo=UTC)


def backtest_command(
    settings: Settings,
    candles: Sequence[str | Path],
    fed_data: Path | None,
    *,
    datadir: Path | None = None,
    timeframe: str | None = None,
    symbols: str | None = None,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    liquidations: Sequence[Path] = (),
    json_output: bool = False,
    plot: Path | None = None,
    html: Path | None = None,
    out: Path | None = None,
    job_every: timedelta | None = None,
    cash: Decimal | None = None,
    progress: bool | None = None,
    console: Console | None = None,
) -> int:
    """Replay the bot over `candles`; print the summary (or `--json`), write plot, HTML, CSVs.

    `progress` None = a progress bar on stderr when it is a terminal (and not with JSON).
    """

    console = console or _console()
    try:
        check_html_target(html)
        first, last = _as_datetime(start), _as_datetime(end)
        if first is not None and last is not None and last <= first:
            raise CandleFileError(f"--to {last:%Y-%m-%d} must be after --from {first:%Y-%m-%d}")
        history = look_back(settings)
        files = candle_args(candles, datadir, timeframe, symbols)
        series = load_series(files, first, last, history)
        signals = build_signals(settings, fed_data, liquidations)
        config = BacktestConfig(
            series=series,
            settings=settings,
            signals=signals,
            start=first,
            end=last,
            cash=cash,
            job_every=job_every,
        )
    except (CandleFileError, FredParseError, LiquidationFileError, ValueError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot read input: {exc}")
    show = sys.stderr.isatty() and not json_output if progress is None else progress
    try:
        result = _run_with_progress(config, show)
    except ValueError as exc:
        return _fail(str(exc))
    if json_output:
        print(summary_json(result))
    else:
        print_summary(result, console)
    if out is not None:
        written = write_outputs(result, out)
        _note(f"wrote {len(written)} files to {out}", json_output, console)
    if plot is not None:
        from bot.backtest.plot import regime_spans, write_plot  # noqa: PLC0415 - matplotlib

        spans = regime_spans(signals.regimes.view, result.start, result.end)
        write_plot(result, plot, spans)
        _note(f"wrote {plot}", json_output, console)
    if html is not None:
        write_html(result, html, signals.regimes.view)
        _note(f"wrote {html}", json_output, console)
    return 0


def _note(message: str, json_output: bool, console: Console) -> None:
    if json_output:
        print(f"qtbot: {message}", file=sys.stderr)
    else:
        console.print(message)


def _run_with_progress(config: BacktestConfig, show: bool) -> BacktestResult:

    if not show:
        return run_backtest(config)

    total = sum(len(s.between(config.start, config.end)) for s in config.series)
    columns = (
        TextColumn("replaying"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} bars"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("replay", total=total)
        return run_backtest(config, lambda done: bar.advance(task, done))


def _console() -> Console:
    """On a terminal rich fits its width; piped to a file or pager, keep tables readable."""
    console = Console()
    return console if console.is_terminal else Console(width=140)
