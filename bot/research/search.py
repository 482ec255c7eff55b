"""Run a slice of one Optuna study in this process: sample settings, backtest them on the
train window, store the score and the figures as the trial's attributes.

Every worker calls `optimize` against the same storage and study name; Optuna hands each
worker its own trials (its distributed mode), so the same call on another machine pointed at
the same PostgreSQL URL joins the study.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import optuna
from optuna.samplers import BaseSampler, GridSampler, RandomSampler, TPESampler
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, Trial, TrialState

from bot.config.settings import Settings
from bot.research.pool import DataSpec, report_trial, study_data
from bot.research.space import (
    Param,
    SearchSpace,
    TrialSettingsError,
    Value,
    candidates_of,
    trial_settings,
)
from bot.research.storage import open_storage, quiet_optuna
from bot.research.trial import evaluate

SAMPLERS = ("tpe", "random", "grid")
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class StudyTask:
    """One worker's share of one study (one walk-forward train window)."""

    storage: str
    study: str
    trials: int  # this worker's share
    total: int  # the study's target; no worker starts a trial past it
    start: datetime
    end: datetime
    objective: str
    space: SearchSpace
    base: Settings
    data: DataSpec
    sampler: str
    seed: int


def make_sampler(kind: str, space: SearchSpace, seed: int) -> BaseSampler:
    if kind == "grid":
        return GridSampler(space.grid(), seed=seed)
    if kind == "random":
        return RandomSampler(seed=seed)
    if kind == "tpe":
        # Independent sampling of each parameter until 10 trials exist, then the model.
        return TPESampler(seed=seed, multivariate=True, n_startup_trials=10)
    raise ValueError(f"unknown sampler {kind!r}: use one of {', '.join(SAMPLERS)}")


def suggest(trial: Trial, param: Param, grid: bool) -> Value:
    if grid or param.choices:
        choices = list(param.grid_values() if grid else param.choices)
        value = trial.suggest_categorical(param.name, choices)
        assert value is not None  # the space holds no None choice ("off" is text)
        return value
    assert param.low is not None and param.high is not None
    if param.integer:
        step = int(param.step or 1)
        return trial.suggest_int(param.name, int(param.low), int(param.high), step=step)
    return trial.suggest_float(param.name, param.low, param.high, step=param.step)


def values_of(params: dict[str, Any], space: SearchSpace) -> dict[str, Value]:
    """A trial's stored parameters in the space's order, floats rounded as settings hold them."""
    out: dict[str, Value] = {}
    for p in space.params:
        value = params[p.name]
        out[p.name] = round(value, 6) if isinstance(value, float) else value
    return out


def create_study(storage: str, name: str) -> optuna.Study:
    quiet_optuna()
    return optuna.create_study(
        storage=open_storage(storage), study_name=name, direction="maximize", load_if_exists=True
    )


def enqueue_grid(study: optuna.Study, space: SearchSpace) -> None:
    """Queue every grid point not tried yet. Workers take queued trials one at a time from
    the storage, so parallel workers never run the same point twice (the grid sampler alone,
    choosing among unvisited points in each worker, can)."""
    seen = {
        tuple(sorted(values_of(t.params, space).items()))
        for t in study.get_trials(deepcopy=False)
        if set(t.params) == set(space.names)
    }
    seen |= {
        tuple(sorted(t.system_attrs.get("fixed_params", {}).items()))
        for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    }
    for point in space.grid_points():
        if tuple(sorted(point.items())) not in seen:
            study.enqueue_trial(point, skip_if_exists=False)


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=FINISHED)


def optimize(task: StudyTask) -> int:
    """Run `task.trials` trials (fewer if the study reaches `task.total`); returns how many
    this worker finished."""
    quiet_optuna()
    data = study_data(task.data)
    study = optuna.load_study(
        study_name=task.study,
        storage=open_storage(task.storage),
        sampler=make_sampler(task.sampler, task.space, task.seed),
    )
    grid = task.sampler == "grid"
    done = 0

    def objective(trial: Trial) -> float:
        values = {p.name: suggest(trial, p, grid) for p in task.space.params}
        values = values_of(values, task.space)
        try:
            settings = trial_settings(task.base, values)
        except TrialSettingsError as exc:
            # A combination the settings refuse (e.g. arming after more tiers than exist)
            # is a tried point, kept with its reason, not a failure of the study.
            trial.set_user_attr("refused", str(exc))
            raise optuna.TrialPruned(str(exc)) from None
        trial.set_user_attr("worker_pid", os.getpid())
        result = evaluate(
            data, settings, task.start, task.end, task.objective, candidates_of(values)
        )
        for key, value in result.attrs().items():
            trial.set_user_attr(key, value)
        return result.score

    def counted(study: optuna.Study, trial: FrozenTrial) -> None:
        nonlocal done
        done += 1
        report_trial()

    study.optimize(
        objective,
        n_trials=task.trials,
        callbacks=[MaxTrialsCallback(task.total, states=FINISHED), counted],
        catch=(),
    )
    return done
