"""Paginated candle downloads over ccxt's `fetch_ohlcv`, incremental and resumable.

One symbol at a time: the ranges the file in the data directory lacks (before its first
candle, after its last) are fetched page by page from `since`, only closed candles are kept,
each page is appended to the part file (see `candle_files`), and at the end the part is merged
into the file. A rerun after Ctrl-C or a crash continues from the part's last candle.

Throttling (429 / 418, ccxt `RateLimitExceeded` / `DDoSProtection`) waits for the venue's
Retry-After, else a growing delay; network errors and timeouts are retried a bounded number of
times; any other exchange error will not heal by retrying and stops the download with one line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ccxt  # type: ignore[import-untyped]  # ccxt ships no stubs
from ccxt.base import errors as ccxt_errors  # type: ignore[import-untyped]

from bot.feeds.candle_files import (
    PART_SUFFIX,
    TMP_SUFFIX,
    FileSpan,
    PartRows,
    PartWriter,
    candle_file_name,
    install,
    read_span,
    recover_part,
)
from exchanges.ccxt.urls import rewrite_api_urls

DEFAULT_PAGE_LIMIT = 500
PART_MARK = b"#since="


class DownloadFailed(RuntimeError):
    """The download cannot go on; the message is one line. The part file is kept."""


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (1-based): `base_s * 2**(n-1)`, capped; `attempts` tries in all."""

    attempts: int = 6
    base_s: float = 0.5
    max_s: float = 30.0

    def delay(self, retry: int) -> float:
        return float(min(self.max_s, self.base_s * 2 ** max(0, retry - 1)))


@dataclass(frozen=True)
class CandleRequest:
    """Candles of `symbol` opening in [start_ms, end_ms) (ms UTC); `start_ms` None = from the
    end of the existing file (which must then exist)."""

    symbol: str
    timeframe: str
    start_ms: int | None
    end_ms: int


@dataclass(frozen=True)
class SymbolResult:
    symbol: str
    path: Path
    added: int
    first_added_ms: int | None
    last_added_ms: int | None
    file_rows: int
    resumed_rows: int


def public_client(exchange_id: str, rest_url: str | None, timeout_s: float) -> Any:
    """A key-less synchronous ccxt client with ccxt's own rate limiter on; `rest_url` sends
    every API path to that base (the setting the daemon uses for a proxy or the emulator)."""
    cls = getattr(ccxt, exchange_id)
    # ccxt's retry of any failed request would hide throttling from our backoff.
    client = cls(
        {
            "enableRateLimit": True,
            "timeout": int(timeout_s * 1000),
            "options": {"maxRetriesOnFailure": 0},
        }
    )
    if rest_url:
        client.urls["api"] = rewrite_api_urls(client.urls["api"], rest_url)
    return client


def page_limit(client: Any) -> int:
    """Candles per request: the venue's spot maximum as ccxt's `features` lists it."""
    spot = (getattr(client, "features", None) or {}).get("spot") or {}
    limit = (spot.get("fetchOHLCV") or {}).get("limit")
    return limit if isinstance(limit, int) and limit > 0 else DEFAULT_PAGE_LIMIT


def call_with_retries(
    client: Any,
    what: str,
    call: Callable[[], Any],
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """`call()` with throttling and network errors retried; raises `DownloadFailed`."""
    for attempt in range(1, backoff.attempts + 1):
        try:
            return call()
        except (ccxt_errors.RateLimitExceeded, ccxt_errors.DDoSProtection) as exc:
            waited = _retry_after(client)
            delay = backoff.delay(attempt) if waited is None else waited
            problem = f"throttled ({type(exc).__name__})"
        except ccxt_errors.NetworkError as exc:
            delay = backoff.delay(attempt)
            problem = f"{type(exc).__name__}: {_short(exc)}"
        except ccxt_errors.BaseError as exc:
            raise DownloadFailed(f"{client.id} refused {what}: {_short(exc)}") from None
        if attempt == backoff.attempts:
            break
        sleep(delay)
    raise DownloadFailed(f"{what}: gave up after {backoff.attempts} attempts, last {problem}")


def _retry_after(client: Any) -> float | None:
    headers = getattr(client, "last_response_headers", None) or {}
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def missing_ranges(span: FileSpan | None, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """[since, until) ranges the file lacks: before its first candle and after its last."""
    if span is None:
        return [(start_ms, end_ms)] if start_ms < end_ms else []
    ranges = []
    if start_ms < span.first_ms:
        ranges.append((start_ms, min(span.first_ms, end_ms)))
    if span.last_ms + 1 < end_ms:
        ranges.append((max(start_ms, span.last_ms + 1), end_ms))
    return [r for r in ranges if r[0] < r[1]]


class CandleDownloader:
    """Downloads into `datadir`; `progress(done, total)` after each page, `note(line)` for
    what the user should know (a discarded part, a retry)."""

    def __init__(
        self,
        client: Any,
        datadir: Path,
        *,
        backoff: Backoff | None = None,
        progress: Callable[[int, int], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.client = client
        self.datadir = datadir
        self.backoff = backoff or Backoff()
        self.progress = progress or (lambda done, total: None)
        self.sleep = sleep
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))
        self.limit = page_limit(client)

    def paths(self, symbol: str, timeframe: str) -> tuple[Path, Path]:
        target = self.datadir / candle_file_name(symbol, timeframe)
        return target, target.with_name(target.name + PART_SUFFIX)

    def download(self, request: CandleRequest) -> SymbolResult:
        target, part = self.paths(request.symbol, request.timeframe)
        # A crash inside `install` leaves its temporary file; the target itself is whole.
        target.with_name(target.name + TMP_SUFFIX).unlink(missing_ok=True)
        span = read_span(target)
        tf_ms = int(self.client.parse_timeframe(request.timeframe)) * 1000
        start = request.start_ms
        if start is None:
            start = span.last_ms + 1 if span is not None else request.end_ms
        # Only closed candles: one opening at t closes at t + tf.
        end = min(request.end_ms, self.now_ms() - tf_ms + 1)
        ranges = missing_ranges(span, start, end)
        resumed = self._resume(part, ranges)
        total = sum(max(0, (until - since) // tf_ms) for since, until in ranges)
        done = resumed.rows
        self.progress(done, total)
        writer = PartWriter(part) if ranges else None
        last = resumed.last_ms
        try:
            for since, until in ranges:
                cursor = since if last is None else max(since, last + 1)
                # The next candle opens a timeframe after the last: none left before `until`.
                while cursor < until and (last is None or last + tf_ms < until):
                    rows = self._page(request, cursor, until)
                    kept = [r for r in rows if cursor <= int(r[0]) < until]
                    if not kept:
                        break
                    assert writer is not None
                    writer.append(kept)
                    last = int(kept[-1][0])
                    done += len(kept)
                    self.progress(done, max(total, done))
                    cursor = last + 1
        finally:
            if writer is not None:
                writer.close()
        added = self._finish(target, part, span)
        final = read_span(target)
        return SymbolResult(
            symbol=request.symbol,
            path=target,
            added=added.new,
            first_added_ms=added.first_new_ms,
            last_added_ms=added.last_new_ms,
            file_rows=final.rows if final else 0,
            resumed_rows=resumed.rows,
        )

    def _resume(self, part: Path, ranges: list[tuple[int, int]]) -> PartRows:
        """Stamps already in a part that belongs to this plan; otherwise a fresh part.

        The plan is the venue and every range to fetch (which the file's span and --from/--to
        decide): a part from another venue, another --to or a file changed since is started
        again, never merged (it would leave a gap or rows beyond --to)."""
        plan = ";".join(f"{start}-{end}" for start, end in ranges) or "0"
        venue = str(getattr(self.client, "id", "") or "")
        mark = PART_MARK + f"{plan} {venue}".encode() + b"\n"
        if part.exists():
            with part.open("rb") as handle:
                same_plan = handle.readline() == mark
            if same_plan:
                return recover_part(part)
            part.unlink()
        if ranges:
            PartWriter(part).write_raw(mark)
        return PartRows()

    def _page(self, request: CandleRequest, since: int, until: int) -> list[list[Any]]:
        what = f"{request.symbol} {request.timeframe} candles"

        def fetch() -> Any:
            return self.client.fetch_ohlcv(
                request.symbol, request.timeframe, since, self.limit, {"until": until - 1}
            )

        rows = call_with_retries(self.client, what, fetch, self.backoff, self.sleep)
        return sorted(rows or [], key=lambda r: int(r[0]))

    def _finish(self, target: Path, part: Path, span: FileSpan | None) -> PartRows:
        """Merge the part into the file when it brings anything new; what it added."""
        if not part.exists():
            return PartRows()
        rows = recover_part(part, span)
        if rows.new:
            install(target, part, span)
        else:
            part.unlink()
        return rows
