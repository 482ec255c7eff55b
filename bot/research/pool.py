"""Worker processes for a study: each loads the study data once and runs tasks (Optuna
`study.optimize` slices, out-of-sample backtests). Processes, not threads: a backtest is
Python code and would hold the GIL. `spawn`, not `fork`: a forked child would inherit the
parent's database connections and locks."""

from __future__ import annotations

import gc
import multiprocessing
import queue
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.backtest.study import StudyData, load_study_data

T = TypeVar("T")
# How often the parent looks at the progress queue while tasks run (seconds): a display
# refresh, never a condition anything waits on.
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class DataSpec:
    """The files a study reads, so each worker process loads them itself."""

    candles: tuple[str, ...]
    fed_data: str | None
    liquidations: tuple[str, ...] = ()

    def load(self) -> StudyData:
        return load_study_data(
            list(self.candles),
            Path(self.fed_data) if self.fed_data else None,
            [Path(p) for p in self.liquidations],
        )


_data: dict[DataSpec, StudyData] = {}
_progress: Any = None
_frozen = False
_in_worker = False  # set by the pool's initializer, in its worker processes only


def study_data(spec: DataSpec) -> StudyData:
    if spec not in _data:
        _data[spec] = spec.load()
    return _data[spec]


def report_trial() -> None:
    """Called in a worker after each trial: one tick for the parent's progress display."""
    global _frozen
    if _in_worker and not _frozen:
        # After its first trial a worker process holds what it keeps for life (the study data,
        # its signals, the caches, the imports): out of the collector's view, the full
        # collections every few trials stop walking them (~3 % of a trial's instructions).
        # Collected first, so no garbage cycle is frozen with them. Only in the pool's own
        # workers: an inline run shares the caller's process.
        gc.collect()
        gc.freeze()
        _frozen = True
    if _progress is not None:
        _progress.put(1)


def _init(progress: Any) -> None:
    global _progress, _in_worker
    _progress = progress
    _in_worker = True


class Pool:
    """`run(tasks)` -> results in task order; `on_tick()` is called once per finished trial.
    One worker runs the tasks in this process (no spawn cost: tests, small studies)."""

    def __init__(self, workers: int, on_tick: Callable[[int], None]) -> None:
        self.workers = workers
        self.on_tick = on_tick
        self._executor: ProcessPoolExecutor | None = None
        self._queue: Any = None

    def __enter__(self) -> Pool:
        global _progress
        if self.workers > 1:
            context = multiprocessing.get_context("spawn")
            self._queue = context.Queue()
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init, initargs=(self._queue,)
            )
        else:
            _progress = _InlineTicks(self.on_tick)
        return self

    def __exit__(self, *exc: object) -> None:
        global _progress
        _progress = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def run(self, fn: Callable[..., T], tasks: Iterable[tuple[Any, ...]]) -> list[T]:
        if self._executor is None:
            return [fn(*task) for task in tasks]
        futures = [self._executor.submit(fn, *task) for task in tasks]
        pending: set[Future[T]] = set(futures)
        while pending:
            _, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            self._drain()
        self._drain()
        return [f.result() for f in futures]

    def _drain(self) -> None:
        for ticks in _drained(self._queue):
            self.on_tick(ticks)


def _drained(q: Any) -> Iterator[int]:
    while True:
        try:
            yield q.get_nowait()
        except queue.Empty:
            return


class _InlineTicks:
    def __init__(self, on_tick: Callable[[int], None]) -> None:
        self.on_tick = on_tick

    def put(self, ticks: int) -> None:
        self.on_tick(ticks)
