"""Finish the work between a venue call and the record of its answer, even under cancellation.

A job is cancelled when the daemon's stop runs out of grace (or a second SIGTERM hurries it).
Cancelled inside an order send, it would leave an order live at the venue and `pending` in the
store. `asyncio.shield` alone is not enough: the cancelled caller would return at once while
the send went on unobserved, and the daemon would close the venue and the store under it. Here
the caller waits for the shielded work to end and only then re-raises the cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def finish_then_cancel(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end; a cancellation that arrives meanwhile (however many times) is
    re-raised once it has ended. Its own exception, if it raised one, wins over the
    cancellation: it says what happened to the order."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            # `wait`, unlike `wait_for`, leaves the task running when this caller is cancelled.
            await asyncio.wait({task})
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is not None and not task.cancelled() and task.exception() is None:
        raise cancelled
    return task.result()
