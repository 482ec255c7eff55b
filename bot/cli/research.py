"""`qtbot sweep`: parameter studies with walk-forward validation.

Imported when `qtbot` starts: only typer and the standard library at module level; optuna,
numpy and the backtest are imported inside the command, so `qtbot --help` stays fast.
"""

from __future__ import annotations

import json
import signal
import sys
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.common import EnvFile, JsonFlag, fail, settings_or_exit


def sweep(
    candles: Annotated[
        list[str] | None,
        typer.Option(
            "--candles",
            help="OHLCV file (ms UTC); SYMBOL=path or a BTC_USDT-1d.csv name "
            "(default: the shipped daily BTC/USDT and ETH/USDT)",
        ),
    ] = None,
    space: Annotated[
        Path | None, typer.Option("--space", help="TOML file: [sweep] options and [params]")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="NAME=LOW..HIGH[..STEP] or NAME=A|B|C (repeatable)"),
    ] = None,
    fed_data: Annotated[
        Path | None, typer.Option("--fed-data", help="directory of FRED CSVs (default: shipped)")
    ] = None,
    liquidations: Annotated[
        list[Path] | None,
        typer.Option("--liquidations", help="liquidation aggregates CSV (flush signals)"),
    ] = None,
    start: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="first day used")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="end day, exclusive")
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(help="cagr, sharpe, sortino, calmar or return_over_mdd (default calmar)"),
    ] = None,
    sampler: Annotated[str | None, typer.Option(help="tpe, random or grid (default tpe)")] = None,
    trials: Annotated[
        int | None, typer.Option(help="trials per walk-forward window (default 100)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="worker processes (default: every core)")
    ] = None,
    train_years: Annotated[float | None, typer.Option(help="train span (default 3)")] = None,
    test_years: Annotated[float | None, typer.Option(help="test span and step (default 1)")] = None,
    anchored: Annotated[
        bool, typer.Option("--anchored", help="train from the first day (default: rolling)")
    ] = False,
    test_spans: Annotated[
        str | None,
        typer.Option(
            help="warm: a test span continues the run from its train start (positions carry "
            "over, only its own returns count); flat: it starts with cash only (default warm)"
        ),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="study storage: database URL or journal:PATH (default: sqlite file "
            "research.sqlite in the data directory)"
        ),
    ] = None,
    study: Annotated[
        str | None, typer.Option(help="study name; the same name and storage resume")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="sampler seed (default 1)")] = None,
    top: Annotated[int | None, typer.Option(help="top trials scored out of sample")] = None,
    heatmap: Annotated[
        str | None, typer.Option(help="two swept settings for the heatmap: NAME,NAME")
    ] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="write the PNG here")] = None,
    json_output: JsonFlag = False,
    env_file: EnvFile = None,
) -> None:
    """Search rule settings on history, judged out of sample (walk-forward)."""
    # optuna, numpy, the backtest: ~1.5 s of imports only this command pays.
    from bot.backtest.candle_datadir import shipped_candles  # noqa: PLC0415
    from bot.backtest.candles import CandleFileError  # noqa: PLC0415
    from bot.research.setup import SweepOptions, build_plan  # noqa: PLC0415
    from bot.research.walk_forward import run  # noqa: PLC0415
    from bot.signals.fred import FredParseError  # noqa: PLC0415
    from bot.signals.liquidation_history import LiquidationFileError  # noqa: PLC0415

    settings = settings_or_exit(env_file)
    given: dict[str, Any] = {
        "objective": objective,
        "sampler": sampler,
        "trials": trials,
        "workers": workers,
        "train_years": train_years,
        "test_years": test_years,
        "mode": "anchored" if anchored else None,
        "test_spans": test_spans,
        "storage": storage,
        "study": study,
        "seed": seed,
        "top": top,
        "heatmap": None if heatmap is None else [h.strip() for h in heatmap.split(",")],
    }
    options = SweepOptions(
        candles=candles or shipped_candles(),
        fed_data=fed_data,
        liquidations=liquidations or [],
        space_file=space,
        params=param or [],
        start=start.date() if start else None,
        end=end.date() if end else None,
        given=given,
    )
    default_storage = f"sqlite:///{(settings.data_dir / 'research.sqlite').as_posix()}"
    try:
        plan = build_plan(options, settings, default_storage)
    except (CandleFileError, FredParseError, LiquidationFileError, ValueError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read input: {exc.strerror or exc}")
    total = plan.trials * len(plan.windows)
    # `kill`, `docker stop` and systemd send SIGTERM to this process only: leave through the
    # worker pool's shutdown (its running trials finish and are stored) instead of orphaning
    # the worker processes.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with _progress(total, show=sys.stderr.isatty() and not json_output) as tick:
        try:
            report = run(plan, tick)
        except ValueError as exc:
            fail(str(exc), 1)
        except BrokenProcessPool as exc:
            fail(f"a worker process died ({exc}); run the same command again to resume", 1)
    if plot is not None:
        from bot.research.plot import write_plot  # noqa: PLC0415 - matplotlib: ~0.5 s

        write_plot(report, plot, plan.heatmap)
    if json_output:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print(report)
    if plot is not None:
        typer.echo(f"qtbot: wrote {plot}", err=json_output)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(143)


class _progress:
    """A bar on a terminal; otherwise one line per tenth of the trials, on stderr."""

    def __init__(self, total: int, show: bool) -> None:
        self.total, self.show, self.done = total, show, 0
        self.every = max(1, total // 10)
        self._bar: Any = None

    def __enter__(self) -> Any:
        if self.show:
            from rich.console import Console  # noqa: PLC0415 - only on a terminal
            from rich.progress import Progress  # noqa: PLC0415

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("trials", total=self.total)
        return self.tick

    def tick(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        if self._bar is not None:
            self._bar.advance(self._task, count)
        elif before // self.every != self.done // self.every or self.done == self.total:
            typer.echo(f"qtbot: sweep: {self.done}/{self.total} trials", err=True)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def _print(report: dict[str, Any]) -> None:
    typer.echo(
        f"walk-forward: objective {report['objective']}, {report['sampler']} sampler, "
        f"{report['trials_total']} trials over {len(report['windows'])} windows"
    )
    for w in report["windows"]:
        best, defaults = w["best"], w["defaults"]
        typer.echo(
            f"  train {w['train'][0]}..{w['train'][1]} ({w['trials']} trials, "
            f"{w['refused']} refused) -> test {w['test'][0]}..{w['test'][1]}"
        )
        typer.echo(f"    best   {best['params']}  (deflated Sharpe {best['deflated_sharpe']})")
        typer.echo(
            f"    score  train {best['train']['score']}  test {best['test']['score']}  "
            f"(shipped: train {defaults['train']['score']}, test {defaults['test']['score']})"
        )
        typer.echo(
            f"    return test: best {_pct(best['test']['total_return'])}, shipped "
            f"{_pct(defaults['test']['total_return'])}, buy-and-hold "
            f"{_pct(w['buy_hold']['test']['total_return'])}"
        )
    typer.echo("out of sample, test spans chained:")
    for key, label in (
        ("walk_forward", "walk-forward"),
        ("defaults", "shipped"),
        ("buy_hold", "buy-and-hold"),
    ):
        o = report["out_of_sample"][key]
        typer.echo(
            f"  {label:<13} return {_pct(o['total_return'])}  CAGR {_pct(o['cagr'])}  "
            f"max DD {_pct(o['max_drawdown'])}  Sharpe {o['sharpe']}  Calmar {o['calmar']}"
        )
    again = report["reproduce"]
    typer.echo(f"reproduce the last window's best trial ({again['expected']}):")
    for line in again["env"]:
        typer.echo(f"  {line}")
    typer.echo(f"  {again['command']}")
