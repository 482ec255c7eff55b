"""`qtbot backtest` and `qtbot thesis`: the command-line options. The bodies live in
`bot.cli.backtest` (numpy, the replay), imported only when one of these commands runs, so
`qtbot --help` stays fast.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import EnvFile, JsonFlag, settings_or_exit

Candles = Annotated[
    list[str] | None,
    typer.Option(
        "--candles",
        help="candle file: CSV (ms UTC, .csv/.csv.gz) or freqtrade .feather/.json; "
        "SYMBOL=path or a BTC_USDT-1d.csv name (default: the shipped daily BTC and ETH)",
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--datadir",
        help="directory of PAIR-TIMEFRAME files (qtbot download-data's, or freqtrade's)",
    ),
]
Timeframe = Annotated[
    str | None, typer.Option("--timeframe", help="with --datadir: 1m, 5m, 1h, 4h, 1d (default 1d)")
]
Symbols = Annotated[
    str | None,
    typer.Option(
        "--symbols", help="with --datadir or the shipped data: BTC/USDT,ETH/USDT (default: both)"
    ),
]


def backtest(
    candles: Candles = None,
    datadir: DataDir = None,
    timeframe: Timeframe = None,
    symbols: Symbols = None,
    fed_data: Annotated[
        Path | None, typer.Option("--fed-data", help="directory of FRED CSVs (default: shipped)")
    ] = None,
    start: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="end day, exclusive")
    ] = None,
    liquidations: Annotated[
        list[Path] | None,
        typer.Option("--liquidations", help="liquidation aggregates CSV (binance_1d_BTC.csv form)"),
    ] = None,
    json_output: JsonFlag = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="write a PNG report here")] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="write a self-contained HTML report here")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write trades/orders/equity CSVs")
    ] = None,
    every_hours: Annotated[
        float | None,
        typer.Option("--every-hours", help="run the jobs this often (default: daily at 00:00)"),
    ] = None,
    env_file: EnvFile = None,
) -> None:
    """Replay the bot (same jobs, strategy, risk, orders, paper engine) over candle files."""
    from bot.cli.backtest import backtest_command  # noqa: PLC0415 - numpy: ~0.8 s

    raise typer.Exit(
        backtest_command(
            settings_or_exit(env_file),
            candles or [],
            fed_data,
            datadir=datadir,
            timeframe=timeframe,
            symbols=symbols,
            start=start,
            end=end,
            liquidations=liquidations or [],
            json_output=json_output,
            plot=plot,
            html=html,
            out=out,
            job_every=timedelta(hours=every_hours) if every_hours else None,
        )
    )


def thesis(
    candles: Candles = None,
    fed_data: Annotated[
        Path | None, typer.Option("--fed-data", help="directory of FRED CSVs (default: shipped)")
    ] = None,
    datadir: DataDir = None,
    timeframe: Timeframe = None,
    symbols: Symbols = None,
    json_output: JsonFlag = False,
    env_file: EnvFile = None,
) -> None:
    """Did crypto rise 3-18 months after each Fed pivot, and more than after any other day?"""
    from bot.cli.backtest import thesis_command  # noqa: PLC0415 - numpy: ~0.8 s

    raise typer.Exit(
        thesis_command(
            candles or [],
            fed_data,
            json_output,
            settings=settings_or_exit(env_file),
            datadir=datadir,
            timeframe=timeframe,
            symbols=symbols,
        )
    )
