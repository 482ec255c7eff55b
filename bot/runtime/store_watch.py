"""Job failures that mean the database cannot be written: disk full, I/O error, read-only.

Such a failure is no bug of the job that met it: every job fails the same way until someone
frees space, while the daemon looks alive. The daemon counts them here, reports the store
unhealthy from the first one, and stops (exit 1, one line on stderr) after `limit` in a row.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

# Driver messages (lower case) for a write the storage refused; SQLite's own words, and the
# OS's for other databases ("could not extend file ...: No space left on device").
_STORAGE_MESSAGES = (
    "database or disk is full",
    "disk i/o error",
    "readonly database",
    "read-only file system",
    "no space left on device",
    "disk quota exceeded",
)
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


class StoreUnwritable(Exception):
    """The database cannot be written; `str()` is the operator's one line."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the database cannot be written (disk full?): {detail}; free space and restart"
        )
        self.detail = detail


def storage_failure(exc: BaseException) -> str | None:
    """The storage error behind `exc` (its causes and the driver error under SQLAlchemy's
    wrapper included), as the driver or the OS worded it; None for any other error."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _STORAGE_ERRNOS:
            return current.strerror or str(current)
        if isinstance(current, sqlite3.Error | DBAPIError):
            text = str(current.orig if isinstance(current, DBAPIError) else current)
            if any(message in text.lower() for message in _STORAGE_MESSAGES):
                return text.splitlines()[0] if text else type(current).__name__
        if isinstance(current, DBAPIError) and isinstance(current.orig, BaseException):
            pending.append(current.orig)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def _ignore(_: str | None) -> None:
    return None


@dataclass
class StoreWatch:
    """Counts job runs that failed to write. `limit` reached (in a row across all jobs, or by
    one job while others still manage small in-place writes): give up. `report` hears the
    error while any job's latest run failed to write, and None once each has written again."""

    limit: int
    report: Callable[[str | None], None] = _ignore
    in_a_row: int = 0
    by_job: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def failed(self, job: str, detail: str) -> bool:
        """Record one failed run; True when the daemon should give up."""
        self.in_a_row += 1
        self.by_job[job] = self.by_job.get(job, 0) + 1
        self.error = detail
        self.report(f"{detail} (job {job}: {self.by_job[job]} failed runs in a row)")
        return self.in_a_row >= self.limit or self.by_job[job] >= self.limit

    def succeeded(self, job: str) -> None:
        self.in_a_row = 0
        if self.by_job.pop(job, None) is not None and not self.by_job:
            self.error = None
            self.report(None)
