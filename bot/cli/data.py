"""`qtbot download-data`: candles (ccxt fetch_ohlcv) and FRED series into a data directory.

Imported when `qtbot` starts: only typer and the standard library at module level; ccxt and
rich are imported inside the command, so `qtbot --help` stays fast.

Exit status: 0 done, 1 the venue or the network failed (the part downloaded so far is kept
for a rerun), 2 bad input, 130 interrupted (rerun to resume).
"""

from __future__ import annotations

import difflib
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.common import EnvFile, fail, settings_or_exit

DEFAULT_DATADIR = Path("data")
NO_LIQUIDATION_HISTORY = (
    "--liquidations: {venue} publishes no liquidation history (binance, bybit and okx only "
    "stream live ones, which `qtbot run` records: QTBOT_SIGNALS__LIQUIDATION_FEEDS); bitfinex "
    "does: use --exchange bitfinex, or the Binance aggregates shipped in bot/data/liquidations"
)


def _parse_when(text: str | None, option: str) -> int | None:
    """`2024-01-01` or `2024-01-01T12:00` (UTC unless an offset is given) -> ms."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option} {text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _symbols(text: str | None) -> list[str]:
    if text is None:
        return []
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        fail("--symbols is empty: give e.g. BTC/USDT,ETH/USDT")
    return list(dict.fromkeys(symbols))


def _writable_datadir(datadir: Path) -> Path:
    try:
        datadir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=datadir, prefix=".qtbot-probe-"):
            pass
    except OSError as exc:
        fail(
            f"--datadir {datadir} is not a writable directory ({exc.strerror or exc}): "
            "choose another one or fix its permissions"
        )
    return datadir


def _stamp(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def download_data(
    symbols: Annotated[
        str | None,
        typer.Option("--symbols", help="comma-separated, as ccxt names them: BTC/USDT,ETH/USDT"),
    ] = None,
    exchange: Annotated[
        str | None,
        typer.Option("--exchange", help="ccxt exchange id (default: QTBOT_EXCHANGE__ID)"),
    ] = None,
    timeframe: Annotated[str, typer.Option("--timeframe", help="1m, 5m, 1h, 1d, ...")] = "1d",
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="first candle, YYYY-MM-DD[THH:MM] UTC (default: continue the existing file)",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="stop before this time, YYYY-MM-DD[THH:MM] UTC (default: now)"),
    ] = None,
    datadir: Annotated[
        Path, typer.Option("--datadir", help="where the files go")
    ] = DEFAULT_DATADIR,
    fed: Annotated[
        bool, typer.Option("--fed", help="also fetch the FRED series the regime uses")
    ] = False,
    liquidations: Annotated[
        bool,
        typer.Option(
            "--liquidations",
            help="instead of candles: liquidations of the --symbols coins per bar (bitfinex)",
        ),
    ] = False,
    env_file: EnvFile = None,
) -> None:
    """Download closed candles (BTC_USDT-1m.csv, ...) and with --fed the FRED series into a data
    directory; a rerun adds only what is missing and resumes an interrupted download."""
    wanted = _symbols(symbols)
    if not wanted and not fed and not liquidations:
        fail("nothing to download: give --symbols BTC/USDT,... and/or --fed")
    start_ms, end_ms = _parse_when(start, "--from"), _parse_when(end, "--to")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        fail(f"--from {start} is not before --to {end}")
    if start_ms is not None and start_ms >= now_ms:
        fail(f"--from {start} is in the future: no closed candle starts then yet")
    settings = settings_or_exit(env_file)
    from bot.runtime.logs import configure_cli_logging  # noqa: PLC0415 - structlog on demand

    configure_cli_logging(settings)  # stdout is the summary lines; log lines only for errors
    venue = (exchange or settings.exchange.id).strip().lower()
    if liquidations:
        _check_liquidations(venue, wanted, timeframe)
    with _interrupt_line(datadir):
        if wanted and liquidations:
            _download_liquidations(
                settings, venue, wanted, timeframe, start_ms, end_ms or now_ms, datadir
            )
        elif wanted:
            _download_candles(
                settings, venue, wanted, timeframe,
                start_ms, end_ms or now_ms, datadir,
            )  # fmt: skip
        if fed:
            _download_fed(settings, datadir)


@contextmanager
def _interrupt_line(datadir: Path) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        typer.echo(
            f"qtbot: download interrupted; rerun the same command to resume "
            f"(what was fetched is kept in {datadir}/*.part)",
            err=True,
        )
        raise typer.Exit(130) from None


def _download_candles(
    settings: Any,
    exchange_id: str,
    symbols: list[str],
    timeframe: str,
    start_ms: int | None,
    end_ms: int,
    datadir: Path,
) -> None:
    # ccxt takes ~1 s to import: only this command pays it.
    import ccxt  # type: ignore[import-untyped]  # noqa: PLC0415 - ccxt ships no stubs; slow import

    from bot.feeds.candle_download import (  # noqa: PLC0415 - imports ccxt
        Backoff,
        CandleDownloader,
        CandleRequest,
        DownloadFailed,
        call_with_retries,
        public_client,
    )
    from bot.feeds.candle_files import CandleFileProblem  # noqa: PLC0415 - with the above

    exchange_id = exchange_id.strip().lower()
    if exchange_id not in ccxt.exchanges:
        close = difflib.get_close_matches(exchange_id, ccxt.exchanges, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        fail(f"--exchange {exchange_id!r} is not an exchange ccxt knows{hint}")
    same_venue = exchange_id == settings.exchange.id
    client = public_client(
        exchange_id,
        settings.exchange.rest_url if same_venue else None,
        settings.exchange.timeout_seconds,
    )
    if not client.has.get("fetchOHLCV"):
        fail(f"{exchange_id} offers no candles through ccxt (fetchOHLCV): pick another venue")
    offered = list(client.timeframes or {})
    if timeframe not in offered:
        fail(f"--timeframe {timeframe!r} is not offered by {exchange_id}: {', '.join(offered)}")
    try:
        markets = call_with_retries(
            client, f"{exchange_id} markets", client.load_markets, Backoff()
        )
    except DownloadFailed as exc:
        fail(f"{exc} (is the network up?)", 1)
    for symbol in symbols:
        if symbol not in markets:
            close = difflib.get_close_matches(symbol, list(markets), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            fail(f"--symbols: {symbol} is not a market on {exchange_id}{hint}")
    _writable_datadir(datadir)  # after the checks above: bad input leaves no directory behind
    for symbol in symbols:
        with _progress(f"{symbol} {timeframe}") as progress:
            downloader = CandleDownloader(client, datadir, progress=progress)
            if start_ms is None and not downloader.paths(symbol, timeframe)[0].exists():
                fail(f"--from is needed for the first download of {symbol} {timeframe}")
            try:
                result = downloader.download(CandleRequest(symbol, timeframe, start_ms, end_ms))
            except CandleFileProblem as exc:
                fail(f"{exc}: move it aside or choose another --datadir")
            except DownloadFailed as exc:
                fail(f"{exc} (the candles fetched so far are kept: rerun to resume)", 1)
        what = (
            f"+{result.added} rows ({_stamp(result.first_added_ms)} -> "
            f"{_stamp(result.last_added_ms)} UTC)"
            if result.added
            else "up to date, +0 rows"
        )
        resumed = f" ({result.resumed_rows} of them from the interrupted run)"
        what += resumed if result.resumed_rows else ""
        typer.echo(f"{symbol} {timeframe}: {what}, {result.file_rows} rows in {result.path}")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich bar with ETA on a terminal; silent otherwise (the summary line follows)."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console  # noqa: PLC0415 - only on a terminal
    from rich.progress import (  # noqa: PLC0415 - only on a terminal
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


def _check_liquidations(venue: str, symbols: list[str], timeframe: str) -> None:
    from bot.feeds.liquidation_download import BAR_MS  # noqa: PLC0415 - urllib on demand

    if venue != "bitfinex":
        fail(NO_LIQUIDATION_HISTORY.format(venue=venue))
    if not symbols:
        fail("--liquidations needs --symbols: the coins to sum, e.g. BTC/USD,ETH/USD")
    if timeframe not in BAR_MS:
        fail(f"--timeframe {timeframe!r} for liquidations: use one of {', '.join(BAR_MS)}")


def _download_liquidations(
    settings: Any,
    venue: str,
    symbols: list[str],
    timeframe: str,
    start_ms: int | None,
    end_ms: int,
    datadir: Path,
) -> None:
    from bot.feeds.liquidation_download import (  # noqa: PLC0415 - urllib on demand
        BITFINEX_PUBLIC_URL,
        BitfinexLiquidations,
        LiquidationDownloadFailed,
        download_liquidations,
    )

    _writable_datadir(datadir)
    rest_url = settings.exchange.rest_url if venue == settings.exchange.id else None
    source = BitfinexLiquidations(
        rest_url or BITFINEX_PUBLIC_URL, timeout_s=settings.exchange.timeout_seconds
    )
    coins = list(dict.fromkeys(s.split("/")[0] for s in symbols))
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    try:
        results = download_liquidations(source, coins, timeframe, start_ms, end_ms, datadir, now_ms)
    except LiquidationDownloadFailed as exc:
        fail(f"{exc} (files unchanged)", 1)
    for r in results:
        typer.echo(
            f"bitfinex liquidations {r.coin} {timeframe}: +{r.added_bars} bars "
            f"({r.events} liquidations), {r.rows} rows in {r.path}"
        )


def _download_fed(settings: Any, datadir: Path) -> None:
    from bot.feeds.fred_download import (  # noqa: PLC0415 - urllib only when asked
        FredDownloadFailed,
        download_series,
    )
    from bot.feeds.fred_sources import fred_source  # noqa: PLC0415 - urllib only when asked

    _writable_datadir(datadir)
    source = fred_source(settings.signals)
    for series_id in _regime_series():
        try:
            result = download_series(source, series_id, datadir)
        except FredDownloadFailed as exc:
            fail(f"{exc} ({datadir / (series_id + '.csv')} is unchanged)", 1)
        typer.echo(
            f"FRED {series_id}: +{result.added} observations "
            f"(last {result.last_date or '-'}), {result.rows} rows in {result.path}"
        )


def _regime_series() -> tuple[str, ...]:
    from bot.feeds.fred_sources import REGIME_SERIES  # noqa: PLC0415 - structlog on demand

    return REGIME_SERIES
