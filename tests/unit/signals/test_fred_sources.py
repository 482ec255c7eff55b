"""FRED downloads against a loopback HTTP server: success, HTTP 500, timeout, caching."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import structlog

from bot.feeds.fred_sources import (
    CachedFredLoader,
    FredApi,
    FredCsvDownload,
    FredFetchError,
    LocalFredDirectory,
    MemorySnapshotCache,
    redact_url,
)
from tests.unit.signals.data_paths import FIXTURES

FRED = FIXTURES / "fred"
NOW = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
SECRET = "abcdef0123456789abcdef0123456789"
# A held reply is released by its test; this only frees the server thread if the test died.
HELD_REPLY_LIMIT_S = 120.0
# For a server that answers (or refuses) at once: only a hang reaches it, even on a loaded machine.
ANSWERING_TIMEOUT_S = 60.0


@dataclass
class Reply:
    status: int = 200
    body: str = ""
    # Held back until the test sets this (a server that never answers in time).
    hold: threading.Event | None = None


@dataclass
class FakeFred:
    """Serves queued replies in order; records every request path."""

    base: str = ""
    replies: list[Reply] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def fake_fred() -> Iterator[FakeFred]:
    state = FakeFred()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                state.requests.append(self.path)
                reply = state.replies.pop(0) if state.replies else Reply(404, "no reply queued")
            if reply.hold is not None:
                reply.hold.wait(timeout=HELD_REPLY_LIMIT_S)
            try:
                payload = reply.body.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def csv_body(name: str = "WALCL_observation_date.csv") -> str:
    return (FRED / name).read_text()


def test_csv_download_success_is_parsed_and_cached(fake_fred: FakeFred) -> None:
    fake_fred.replies.append(Reply(200, csv_body()))
    cache = MemorySnapshotCache()
    source = FredCsvDownload(
        base_url=f"{fake_fred.base}/graph/fredgraph.csv", timeout_s=ANSWERING_TIMEOUT_S
    )
    result = CachedFredLoader(source, cache).load("WALCL", NOW)
    assert result.ok and not result.stale and result.warnings == ()
    assert result.series is not None and len(result.series) == 14
    assert fake_fred.requests == ["/graph/fredgraph.csv?id=WALCL"]
    cached = cache.get("fred:fred-csv:WALCL")
    assert cached is not None and cached[0] == NOW


def test_http_500_keeps_last_snapshot_with_a_warning(fake_fred: FakeFred) -> None:
    cache = MemorySnapshotCache()
    earlier = NOW - timedelta(days=1)
    cache.put("fred:fred-csv:WALCL", earlier, csv_body())
    fake_fred.replies.append(Reply(500, "Internal Server Error"))
    source = FredCsvDownload(
        base_url=f"{fake_fred.base}/graph/fredgraph.csv", timeout_s=ANSWERING_TIMEOUT_S
    )
    result = CachedFredLoader(source, cache).load("WALCL", NOW)
    assert result.stale and result.series is not None
    assert result.fetched_at == earlier
    assert any("HTTP 500" in w for w in result.warnings)
    assert any("using snapshot fetched" in w for w in result.warnings)
    assert cache.get("fred:fred-csv:WALCL") == (earlier, csv_body())


def test_timeout_keeps_last_snapshot_with_a_warning(fake_fred: FakeFred) -> None:
    cache = MemorySnapshotCache()
    cache.put("fred:fred-csv:WALCL", NOW - timedelta(hours=6), csv_body())
    held = threading.Event()
    fake_fred.replies.append(Reply(200, csv_body(), hold=held))
    source = FredCsvDownload(base_url=f"{fake_fred.base}/graph/fredgraph.csv", timeout_s=0.2)
    try:
        # Had the download not given up at its own timeout, it would get the held reply (after
        # HELD_REPLY_LIMIT_S) and the result would be fresh.
        result = CachedFredLoader(source, cache).load("WALCL", NOW)
    finally:
        held.set()
    assert result.stale and result.series is not None
    assert any("timed out" in w for w in result.warnings)


def test_failure_without_snapshot_returns_none_and_does_not_raise(fake_fred: FakeFred) -> None:
    fake_fred.replies.append(Reply(503, "busy"))
    source = FredCsvDownload(base_url=f"{fake_fred.base}/x.csv", timeout_s=ANSWERING_TIMEOUT_S)
    result = CachedFredLoader(source, MemorySnapshotCache()).load("DFF", NOW)
    assert result.series is None and result.stale
    assert any("no usable snapshot" in w for w in result.warnings)


def test_malformed_download_is_not_cached_and_keeps_snapshot(fake_fred: FakeFred) -> None:
    cache = MemorySnapshotCache()
    cache.put("fred:fred-csv:WALCL", NOW - timedelta(days=2), csv_body())
    fake_fred.replies.append(Reply(200, csv_body("malformed_value.csv")))
    source = FredCsvDownload(base_url=f"{fake_fred.base}/g.csv", timeout_s=ANSWERING_TIMEOUT_S)
    result = CachedFredLoader(source, cache).load("WALCL", NOW)
    assert result.stale
    assert any("line 3" in w and "WALCL" in w for w in result.warnings)
    assert cache.get("fred:fred-csv:WALCL") == (NOW - timedelta(days=2), csv_body())


def test_fresh_snapshot_within_max_age_skips_the_download(fake_fred: FakeFred) -> None:
    cache = MemorySnapshotCache()
    cache.put("fred:fred-csv:WALCL", NOW - timedelta(hours=1), csv_body())
    source = FredCsvDownload(base_url=f"{fake_fred.base}/g.csv", timeout_s=ANSWERING_TIMEOUT_S)
    result = CachedFredLoader(source, cache, max_age=timedelta(hours=6)).load("WALCL", NOW)
    assert result.ok and fake_fred.requests == []


def test_api_key_is_sent_but_never_logged_or_warned(fake_fred: FakeFred) -> None:
    fake_fred.replies.extend(
        [Reply(200, (FRED / "DFF_api.json").read_text()), Reply(500, f"echo {SECRET}")]
    )
    source = FredApi(api_key=SECRET, base_url=f"{fake_fred.base}/fred/series/observations")
    loader = CachedFredLoader(source, MemorySnapshotCache())
    with structlog.testing.capture_logs() as logs:
        first = loader.load("DFF", NOW)
        second = loader.load("DFF", NOW + timedelta(days=1))
    assert first.ok and first.series is not None and len(first.series) == 4
    assert f"api_key={SECRET}" in fake_fred.requests[0]
    assert "file_type=json" in fake_fred.requests[0]
    assert second.stale
    everything = repr(logs) + repr(first) + repr(second) + repr(source)
    assert SECRET not in everything
    assert "api_key=***" in repr(logs)


def test_redact_url_hides_only_the_key() -> None:
    url = f"https://api.stlouisfed.org/fred/series/observations?series_id=DFF&api_key={SECRET}&x=1"
    assert redact_url(url) == (
        "https://api.stlouisfed.org/fred/series/observations?series_id=DFF&api_key=***&x=1"
    )


def test_unreachable_host_is_a_fetch_error_not_a_crash() -> None:
    # port 9 on loopback: nothing listens, the connection is refused at once
    source = FredCsvDownload(base_url="http://127.0.0.1:9/g.csv", timeout_s=ANSWERING_TIMEOUT_S)
    with pytest.raises(FredFetchError, match="cannot reach"):
        source.fetch_text("DFF")
    result = CachedFredLoader(source, MemorySnapshotCache()).load("DFF", NOW)
    assert result.series is None


def test_local_directory_source_reads_series_files(tmp_path: Path) -> None:
    (tmp_path / "WALCL.csv").write_text(csv_body())
    loader = CachedFredLoader(LocalFredDirectory(tmp_path), MemorySnapshotCache())
    assert loader.load("WALCL", NOW).ok
    missing = loader.load("DFF", NOW)
    assert missing.series is None and any("cannot read" in w for w in missing.warnings)


def test_series_id_with_url_characters_is_refused() -> None:
    with pytest.raises(FredFetchError, match="invalid FRED series id"):
        FredCsvDownload().url_for("DFF&id=WALCL")
