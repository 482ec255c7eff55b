"""Optuna's distributed mode as the sweep uses it: separate worker processes, each running
`optimize` against the same storage and study name, together complete exactly the study's
trials, each trial once; a grid is queued so that each point runs once."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

from bot.config.settings import Settings
from bot.research.pool import DataSpec
from bot.research.search import StudyTask, create_study, enqueue_grid, finished_trials, optimize
from bot.research.space import SearchSpace

BASE = Settings(_env_file=None)
SPACE = SearchSpace.parse(
    {"risk.stop_loss_pct": [10, 15, 20, 30], "strategy.tranches": {"low": 1, "high": 6}}, BASE
)
# Generous: two spawned interpreters import numpy and optuna, then run six short backtests.
DEADLINE_SECONDS = 300


def _task(storage: str, candles: list[str], trials: int, total: int, seed: int, sampler: str):
    return StudyTask(
        storage=storage,
        study="two-workers",
        trials=trials,
        total=total,
        start=datetime(2020, 3, 1, tzinfo=UTC),
        end=datetime(2020, 5, 1, tzinfo=UTC),
        objective="calmar",
        space=SPACE,
        base=BASE,
        data=DataSpec(tuple(candles), None),
        sampler=sampler,
        seed=seed,
    )


def test_two_worker_processes_complete_one_study(tmp_path: Path, candles: list[str]) -> None:
    storage = f"sqlite:///{tmp_path / 'study.sqlite'}"
    create_study(storage, "two-workers")
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=optimize, args=(_task(storage, candles, 3, 6, seed, "random"),))
        for seed in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(DEADLINE_SECONDS)
        assert worker.exitcode == 0
    trials = finished_trials(create_study(storage, "two-workers"))
    assert len(trials) == 6
    assert len({t.number for t in trials}) == 6
    assert len({t.user_attrs["worker_pid"] for t in trials}) == 2  # both processes worked
    assert all(t.user_attrs["fills"] >= 0 and t.value is not None for t in trials)


def test_grid_visits_each_point_once_in_a_journal(tmp_path: Path, candles: list[str]) -> None:
    storage = f"journal:{tmp_path / 'grid.log'}"
    space = SearchSpace.parse({"risk.stop_loss_pct": [10, 30], "strategy.tranches": [1, 4]}, BASE)
    study = create_study(storage, "two-workers")
    enqueue_grid(study, space)
    enqueue_grid(study, space)  # twice: still one queued trial per point
    # Queued points are taken before any sampling, whatever the sampler.
    task = _task(storage, candles, 4, 4, 1, "random")
    task = StudyTask(**{**task.__dict__, "space": space})
    assert optimize(task) == 4
    trials = finished_trials(create_study(storage, "two-workers"))
    assert sorted(tuple(sorted(t.params.items())) for t in trials) == sorted(
        tuple(sorted({"risk.stop_loss_pct": s, "strategy.tranches": n}.items()))
        for s in (10, 30)
        for n in (1, 4)
    )
