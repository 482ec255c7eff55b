"""Single-instance lock: two daemons on one database would place every order twice."""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from types import TracebackType


class AlreadyRunning(Exception):
    """Another qtbot holds the lock for this database."""


class LockUnavailable(Exception):
    """The lock file cannot be created (a configuration problem, not another instance)."""


class InstanceLock:
    """An flock on a file beside the state; released by the kernel even after SIGKILL."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
        self.path = data_dir / f"qtbot-{digest}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockUnavailable(
                f"cannot create the lock file in {self.path.parent}: "
                f"{exc.strerror or exc}; set QTBOT_DATA_DIR to a writable directory"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another qtbot (pid {holder}) is already running on this database; "
                "stop it first (e.g. systemctl stop qtbot) or point QTBOT_DATABASE_URL elsewhere"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
