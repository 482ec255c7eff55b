"""A binary copy of each large candle file, memory-mapped by later runs.

Parsing a year of 1-minute candles as text takes ~1 s a file even in numpy's C parser; the
copy (`.npy`, one (6, n) float64 block, ~48 bytes a bar) maps in microseconds, and only the
pages of the bars a run touches become resident (file-backed: the kernel may drop them).
It lives in `$XDG_CACHE_HOME/qtbot/candles` (default `~/.cache/...`), keyed by the file's
real path, size and modification time, so an edited or replaced file is parsed again; a copy
is written only after every bar passed the checks. Files under `MIN_BYTES` are not worth it.
A cache that cannot be written or read is skipped silently: it only ever saves time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

MIN_BYTES = 4 << 20
_VERSION = "1"

Block = npt.NDArray[np.float64]


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "qtbot" / "candles"


def _names(path: Path, stat: os.stat_result) -> tuple[str, str]:
    """(prefix shared by every copy of this path, this version's file name)."""
    prefix = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    ident = f"{_VERSION}:{stat.st_size}:{stat.st_mtime_ns}"
    name = f"{path.name}.{prefix}.{hashlib.sha256(ident.encode()).hexdigest()[:16]}.npy"
    return f"{path.name}.{prefix}.", name


def load(path: Path, stat: os.stat_result) -> Block | None:
    """The mapped copy of `path` as it was at `stat`, or None."""
    if stat.st_size < MIN_BYTES:
        return None
    copy = cache_dir() / _names(path, stat)[1]
    try:
        block = np.load(copy, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if block.dtype != np.float64 or block.ndim != 2 or block.shape[0] != 6:
        return None
    return block


def store(path: Path, stat: os.stat_result, block: Block) -> Block:
    """Write the copy (replacing older ones of the same path) and return it mapped; `block`
    itself when the copy cannot be written or the file changed while it was read."""
    try:
        if stat.st_size < MIN_BYTES or _changed(path, stat):
            return block
        directory = cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        prefix, name = _names(path, stat)
        fd, temp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, np.ascontiguousarray(block), allow_pickle=False)
            os.replace(temp, directory / name)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        for old in directory.iterdir():
            if old.name.startswith(prefix) and old.name != name:
                old.unlink(missing_ok=True)
    except OSError:
        return block
    mapped = load(path, stat)
    return block if mapped is None else mapped


def _changed(path: Path, stat: os.stat_result) -> bool:
    now = path.stat()
    return (now.st_size, now.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns)
