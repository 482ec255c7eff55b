"""From the command's options to a checked `Plan`: every bad input is one `ValueError` line
before any worker starts or any study is written."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.backtest.candles import ms_to_datetime
from bot.config.settings import Settings
from bot.research.candidates import drain_gate
from bot.research.pool import DataSpec, study_data
from bot.research.scores import OBJECTIVES
from bot.research.search import SAMPLERS
from bot.research.space import SearchSpace, SpaceError
from bot.research.storage import check_storage_url
from bot.research.sweep_file import parse_param_flag, read_sweep_file
from bot.research.walk_forward import Plan
from bot.research.windows import walk_forward_windows

DEFAULTS: dict[str, Any] = {
    "objective": "calmar",
    "sampler": "tpe",
    "trials": 100,
    "train_years": 3.0,
    "test_years": 1.0,
    "mode": "rolling",
    "top": 5,
    "seed": 1,
    "study": "sweep",
    "test_spans": "warm",
}


@dataclass
class SweepOptions:
    candles: list[str]
    fed_data: Path | None = None
    liquidations: list[Path] = field(default_factory=list)
    space_file: Path | None = None
    params: list[str] = field(default_factory=list)
    start: date | None = None
    end: date | None = None
    given: dict[str, Any] = field(default_factory=dict)  # flags the user gave (None = not)


def _merged(options: SweepOptions) -> tuple[dict[str, Any], dict[str, Any]]:
    from_file, table = read_sweep_file(options.space_file) if options.space_file else ({}, {})
    merged = {**DEFAULTS, **from_file}
    merged.update({k: v for k, v in options.given.items() if v is not None})
    table = dict(table)
    for text in options.params:
        name, spec = parse_param_flag(text)
        table[name] = spec
    return merged, table


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} {value!r} is unknown: use one of {', '.join(allowed)}")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def _span(data: DataSpec, start: date | None, end: date | None) -> tuple[date, date]:
    """The days every candle file covers, narrowed by --from/--to."""
    series = study_data(data).series
    first = max(ms_to_datetime(int(s.ts[0])) for s in series).date()
    last = min(ms_to_datetime(int(s.end_ts[-1])) for s in series).date()
    return max(first, start or first), min(last, end or last)


def _check_candidate_inputs(space: SearchSpace, fed_data: Path | None) -> None:
    """A candidate's input files are read now, so a missing one is one line up front."""
    for param in space.params:
        if param.name == "research.net_liquidity_drain_pct":
            for value in param.grid_values() if param.choices else (param.low,):
                if value != "off" and value is not None:
                    drain_gate(fed_data, float(value))


def build_plan(options: SweepOptions, base: Settings, default_storage: str) -> Plan:
    merged, table = _merged(options)
    _check_choice("objective", merged["objective"], OBJECTIVES)
    _check_choice("sampler", merged["sampler"], SAMPLERS)
    _check_choice("mode", merged["mode"], ("rolling", "anchored"))
    _check_choice("test_spans", merged["test_spans"], ("warm", "flat"))
    trials = _positive_int("trials", merged["trials"])
    workers = _positive_int("workers", merged.get("workers") or os.cpu_count() or 1)
    top = _positive_int("top", merged["top"])
    storage = str(merged.get("storage") or default_storage)
    check_storage_url(storage)
    space = SearchSpace.parse(table, base)
    heatmap = merged.get("heatmap")
    if heatmap is not None and (
        not isinstance(heatmap, list | tuple)
        or len(heatmap) != 2
        or any(h not in space.names for h in heatmap)
    ):
        raise SpaceError(f"heatmap {heatmap!r}: name two of the swept settings {space.names}")
    if merged["sampler"] == "grid":
        trials = min(trials, space.grid_size())
    if not options.candles:
        raise ValueError("give at least one --candles FILE")
    data = DataSpec(
        tuple(options.candles),
        str(options.fed_data) if options.fed_data else None,
        tuple(str(p) for p in options.liquidations),
    )
    _check_candidate_inputs(space, options.fed_data)
    first, last = _span(data, options.start, options.end)
    windows = walk_forward_windows(
        first, last, float(merged["train_years"]), float(merged["test_years"]), merged["mode"]
    )
    return Plan(
        storage=storage,
        name=str(merged["study"]),
        objective=merged["objective"],
        sampler=merged["sampler"],
        trials=trials,
        workers=workers,
        seed=int(merged["seed"]),
        space=space,
        base=base,
        data=data,
        windows=tuple(windows),
        top=top,
        heatmap=None if heatmap is None else (str(heatmap[0]), str(heatmap[1])),
        warm=merged["test_spans"] == "warm",
    )
