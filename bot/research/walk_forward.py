"""Walk-forward validation: per window, a study on the train span picks the best settings,
which are then scored on the following unseen test span beside the shipped (base) settings
and buy-and-hold. The test spans' daily returns are stitched into one out-of-sample curve.

Each test span starts flat with the strategy budget (as `qtbot backtest --from` does): a
position bought in a train span is not carried over, so the stitched curve is a chain of
separate one-span runs, and buy-and-hold in it is bought afresh at each span's start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from bot.backtest.metrics import sharpe, sortino
from bot.config.settings import Settings
from bot.research.pool import DataSpec, Pool, study_data
from bot.research.scores import UNDEFINED, ReturnMoments, deflated_sharpe, probabilistic_sharpe
from bot.research.scores import moments as return_moments
from bot.research.search import (
    StudyTask,
    create_study,
    enqueue_grid,
    finished_trials,
    optimize,
    values_of,
)
from bot.research.space import SearchSpace, Value, candidates_of, env_lines, trial_settings
from bot.research.trial import Outcome, evaluate
from bot.research.windows import Window


@dataclass(frozen=True)
class Plan:
    storage: str
    name: str
    objective: str
    sampler: str
    trials: int  # per window
    workers: int
    seed: int
    space: SearchSpace
    base: Settings
    data: DataSpec
    windows: tuple[Window, ...]
    top: int = 5
    heatmap: tuple[str, str] | None = None
    # Test spans continue the run from the train span's start (positions held at the
    # boundary carry on; only the test span's returns count); False = each starts flat.
    warm: bool = True


def study_name(plan: Plan, window: Window) -> str:
    return f"{plan.name}-w{window.index}-{window.train_start:%Y%m%d}-{window.train_end:%Y%m%d}"


def _shares(remaining: int, workers: int) -> list[int]:
    return [remaining // workers + (1 if i < remaining % workers else 0) for i in range(workers)]


def _tasks(plan: Plan) -> list[StudyTask]:
    tasks = []
    for window in plan.windows:
        name = study_name(plan, window)
        study = create_study(plan.storage, name)
        done = len(finished_trials(study))
        if plan.sampler == "grid":
            enqueue_grid(study, plan.space)
        for worker, share in enumerate(_shares(max(plan.trials - done, 0), plan.workers)):
            if share == 0:
                continue
            tasks.append(
                StudyTask(
                    storage=plan.storage,
                    study=name,
                    trials=share,
                    total=plan.trials,
                    start=window.train_start,
                    end=window.train_end,
                    objective=plan.objective,
                    space=plan.space,
                    base=plan.base,
                    data=plan.data,
                    sampler=plan.sampler,
                    # A resumed study must not replay the same random draws: the seed moves
                    # with the trials already done.
                    seed=plan.seed + 1000 * window.index + 100 * worker + done,
                )
            )
    return tasks


def evaluate_task(
    data: DataSpec,
    settings: Settings,
    window: Window,
    test: bool,
    objective: str,
    candidates: dict[str, Value] | None = None,
    warm: bool = True,
) -> Outcome:
    if not test:
        return evaluate(
            study_data(data), settings, window.train_start, window.train_end, objective, candidates
        )
    if warm:
        return evaluate(
            study_data(data),
            settings,
            window.train_start,
            window.test_end,
            objective,
            candidates,
            score_from=window.train_end,
        )
    return evaluate(
        study_data(data), settings, window.train_end, window.test_end, objective, candidates
    )


def _ranked(trials: Sequence[FrozenTrial], space: SearchSpace, top: int) -> list[FrozenTrial]:
    """The best `top` completed trials with distinct settings, best first."""
    complete = [t for t in trials if t.state is TrialState.COMPLETE and t.value is not None]
    complete.sort(key=lambda t: (-float(t.value or 0), t.number))
    seen: set[tuple[tuple[str, Value], ...]] = set()
    ranked = []
    for trial in complete:
        key = tuple(values_of(trial.params, space).items())
        if key in seen:
            continue
        seen.add(key)
        ranked.append(trial)
        if len(ranked) == top:
            break
    return ranked


def _moments(trial: FrozenTrial) -> ReturnMoments | None:
    a = trial.user_attrs
    if a.get("daily_sharpe") is None:
        return None
    return ReturnMoments(a["daily_sharpe"], a["skew"], a["kurtosis"], int(a["days"]))


def _figures(outcome: Outcome, objective: str) -> dict[str, Any]:
    return {"score": _num(outcome.score), "fills": outcome.fills, **outcome.strategy}


def _num(value: float) -> float | None:
    return None if value <= UNDEFINED or not math.isfinite(value) else round(value, 6)


def stitched(outcomes: Sequence[Outcome], buy_hold: bool = False) -> dict[str, Any]:
    """One curve from consecutive test spans: each span's daily returns, chained."""
    returns: list[float] = []
    times: list[int] = []
    for o in outcomes:
        equity = o.daily_buy_hold if buy_hold else o.daily_equity
        figures = o.buy_hold if buy_hold else o.strategy
        initial = float(figures["initial_equity"] or 0.0)
        chain = np.concatenate(([initial], np.asarray(equity, dtype=np.float64)))
        returns.extend((chain[1:] / chain[:-1] - 1.0).tolist())
        times.extend(o.daily_times)
    r = np.asarray(returns, dtype=np.float64)
    curve = np.cumprod(1.0 + r)
    peak = np.maximum.accumulate(np.concatenate(([1.0], curve)))
    mdd = float((np.concatenate(([1.0], curve)) / peak - 1.0).min())
    final = float(curve[-1]) if curve.size else 1.0
    years = r.size / 365.0
    cagr = final ** (1 / years) - 1 if years > 0 and final > 0 else None
    m = return_moments(r)
    return {
        "total_return": round(final - 1.0, 6),
        "cagr": None if cagr is None else round(cagr, 6),
        "max_drawdown": round(mdd, 6),
        "sharpe": _round(sharpe(r)),
        "sortino": _round(sortino(r)),
        "calmar": None if cagr is None or mdd >= 0 else round(cagr / -mdd, 6),
        "probabilistic_sharpe": None if m is None else round(probabilistic_sharpe(m, 0.0), 6),
        "days": int(r.size),
        "curve": {"times_ms": times, "equity": [round(float(v), 6) for v in curve]},
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def run(plan: Plan, on_tick: Callable[[int], None]) -> dict[str, Any]:
    """The whole walk-forward; returns the report (plain data, JSON-ready)."""
    with Pool(plan.workers, on_tick) as pool:
        pool.run(optimize, [(task,) for task in _tasks(plan)])
        chosen: list[list[FrozenTrial]] = []
        all_trials: list[list[FrozenTrial]] = []
        for window in plan.windows:
            trials = finished_trials(create_study(plan.storage, study_name(plan, window)))
            all_trials.append(list(trials))
            ranked = _ranked(trials, plan.space, plan.top)
            if not ranked:
                raise ValueError(
                    f"window {window.index}: no trial completed (every combination was refused "
                    "by the settings checks): widen the search space"
                )
            chosen.append(ranked)
        jobs: list[tuple[Any, ...]] = []
        for window, ranked in zip(plan.windows, chosen, strict=True):
            jobs.append((plan.data, plan.base, window, False, plan.objective))
            jobs.append((plan.data, plan.base, window, True, plan.objective, {}, plan.warm))
            for trial in ranked:
                values = values_of(trial.params, plan.space)
                settings = trial_settings(plan.base, values)
                jobs.append(
                    (
                        plan.data,
                        settings,
                        window,
                        True,
                        plan.objective,
                        candidates_of(values),
                        plan.warm,
                    )
                )
        outcomes = pool.run(evaluate_task, jobs)
    return _report(plan, chosen, all_trials, outcomes)


def _report(
    plan: Plan,
    chosen: list[list[FrozenTrial]],
    all_trials: list[list[FrozenTrial]],
    outcomes: list[Outcome],
) -> dict[str, Any]:
    windows: list[dict[str, Any]] = []
    best_tests: list[Outcome] = []
    default_tests: list[Outcome] = []
    at = 0
    for window, ranked, trials in zip(plan.windows, chosen, all_trials, strict=True):
        default_train, default_test = outcomes[at], outcomes[at + 1]
        tests = outcomes[at + 2 : at + 2 + len(ranked)]
        at += 2 + len(ranked)
        best, best_test = ranked[0], tests[0]
        best_tests.append(best_test)
        default_tests.append(default_test)
        sharpes = [
            float(t.user_attrs["daily_sharpe"])
            for t in trials
            if t.state is TrialState.COMPLETE and t.user_attrs.get("daily_sharpe") is not None
        ]
        m = _moments(best)
        values = values_of(best.params, plan.space)
        windows.append(
            {
                **window.as_dict(),
                "trials": len(trials),
                "refused": sum(1 for t in trials if t.state is TrialState.PRUNED),
                "scores": [
                    {"params": values_of(t.params, plan.space), "score": _num(float(t.value))}
                    for t in trials
                    if t.state is TrialState.COMPLETE and t.value is not None
                ],
                "best": {
                    "trial": best.number,
                    "params": values,
                    "env": env_lines(trial_settings(plan.base, values), plan.space.names),
                    "train": {
                        "score": _num(float(best.value or UNDEFINED)),
                        "fills": best.user_attrs.get("fills"),
                        **best.user_attrs.get("strategy", {}),
                    },
                    "test": _figures(best_test, plan.objective),
                    "deflated_sharpe": None if m is None else round(deflated_sharpe(m, sharpes), 6),
                },
                "defaults": {
                    "train": _figures(default_train, plan.objective),
                    "test": _figures(default_test, plan.objective),
                },
                "buy_hold": {"train": default_train.buy_hold, "test": default_test.buy_hold},
                "top": [
                    {
                        "rank": rank + 1,
                        "trial": t.number,
                        "params": values_of(t.params, plan.space),
                        "train_score": _num(float(t.value or UNDEFINED)),
                        "test_score": _num(o.score),
                        "test_return": o.strategy["total_return"],
                    }
                    for rank, (t, o) in enumerate(zip(ranked, tests, strict=True))
                ],
            }
        )
    last: dict[str, Any] = windows[-1]
    return {
        "study": plan.name,
        "objective": plan.objective,
        "sampler": plan.sampler,
        "trials_per_window": plan.trials,
        "trials_total": sum(w["trials"] for w in windows),
        "heatmap": list(plan.heatmap) if plan.heatmap else None,
        "test_spans": "warm: each continues the run from its train start; only its own "
        "returns count"
        if plan.warm
        else "flat: each starts with cash only",
        "space": {
            p.name: list(p.grid_values()) if p.choices else [p.low, p.high, p.step]
            for p in plan.space.params
        },
        "windows": windows,
        "out_of_sample": {
            "walk_forward": stitched(best_tests),
            "defaults": stitched(default_tests),
            "buy_hold": stitched(default_tests, buy_hold=True),
        },
        "reproduce": {
            "note": "the last window's best trial, re-run on its train span",
            "command": "qtbot backtest "
            + " ".join(f"--candles {c}" for c in plan.data.candles)
            + (f" --fed-data {plan.data.fed_data}" if plan.data.fed_data else "")
            + "".join(f" --liquidations {p}" for p in plan.data.liquidations)
            + f" --from {last['train'][0]} --to {last['train'][1]} --json",
            "env": last["best"]["env"],
            "candidates_on": {
                k: v for k, v in candidates_of(last["best"]["params"]).items() if v != "off"
            },
            "expected": {
                "total_return": last["best"]["train"].get("total_return"),
                "fills": last["best"]["train"].get("fills"),
            },
        },
    }
