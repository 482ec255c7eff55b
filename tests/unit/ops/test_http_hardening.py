"""The status server answers only its own Host names, drops slow clients, refuses huge headers.

Everything runs on loopback through raw sockets (asyncio streams), so the requests are exactly
what a browser under DNS rebinding or a half-open client would send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.ops.web.host_guard import host_allowed
from bot.ops.web.server import http_address, start_http, stop_http
from bot.services.context import Context
from tests.unit.ops.seed import make_context, seed_trading_state

# Far above the 1 s client timeout the tests configure: only a server that never drops the
# client reaches it.
DEADLINE_SECONDS = 60.0


@pytest.fixture
def make_ctx(tmp_path: Path) -> Iterator[Callable[..., Context]]:
    made: list[Context] = []

    def build(**http: Any) -> Context:
        context = make_context(tmp_path, http=http)
        seed_trading_state(context)
        made.append(context)
        return context

    yield build
    for context in made:
        context.store.close()


def serve(ctx: Context, scenario: Callable[[int], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        runner = await start_http(ctx, port=0)
        try:
            return await scenario(int(http_address(runner).rsplit(":", 1)[1]))
        finally:
            await stop_http(runner)

    return asyncio.run(main())


async def exchange(port: int, request: bytes) -> bytes:
    """Send `request` raw, return every byte the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), DEADLINE_SECONDS)
    finally:
        writer.close()


GET = "GET {{path}} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"


def get(path: str, host: str) -> bytes:
    return GET.format(host=host).format(path=path).encode()


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


# --- Host allow-list -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_text", "status"),
    [
        pytest.param(GET.format(host="127.0.0.1:{port}"), 200, id="bound_ip_with_port"),
        pytest.param(GET.format(host="localhost:{port}"), 200, id="localhost_with_port"),
        pytest.param(GET.format(host="LocalHost:{port}"), 200, id="case_insensitive"),
        pytest.param(GET.format(host="[::1]:{port}"), 200, id="ipv6_loopback_with_port"),
        pytest.param(GET.format(host="evil.example:{port}"), 421, id="rebound_domain"),
        # A remapped port (ssh -L 9000:..., docker -p 9000:8321) still names loopback.
        pytest.param(GET.format(host="localhost:9000"), 200, id="loopback_name_other_port"),
        pytest.param(GET.format(host="localhost"), 200, id="loopback_name_without_port"),
        pytest.param(
            GET.format(host="127.0.0.1.evil.example:{port}"), 421, id="loopback_prefix_of_domain"
        ),
        pytest.param(GET.format(host=""), 421, id="empty_host"),
        pytest.param("GET {path} HTTP/1.0\r\n\r\n", 421, id="http10_without_host"),
        # aiohttp itself refuses an HTTP/1.1 request without Host, before the guard.
        pytest.param("GET {path} HTTP/1.1\r\n\r\n", 400, id="http11_without_host"),
    ],
)
def test_only_own_host_names_are_answered(
    make_ctx: Callable[..., Context], request_text: str, status: int
) -> None:
    ctx = make_ctx()
    paths = ("/status.json", "/healthz", "/metrics", "/")

    async def scenario(port: int) -> dict[str, bytes]:
        # One server for every page: each request is its own connection all the same.
        return {
            path: await exchange(port, request_text.format(path=path, port=port).encode())
            for path in paths
        }

    for path, reply in serve(ctx, scenario).items():
        if status == 200:  # 503: health says unhealthy
            assert status_of(reply) in (200, 503), (path, reply[:200])
            continue
        assert status_of(reply) == status, (path, reply[:200])
        body = reply.partition(b"\r\n\r\n")[2]
        assert len(body) < 200, path
        for data in (b"BTC", b"equity", b"qtbot_", b"heartbeat"):
            assert data not in body, (path, data)
        if status == 421:
            assert b"QTBOT_HTTP__ALLOWED_HOSTS" in body, path


@pytest.mark.parametrize(
    ("host", "served"),
    [
        pytest.param("bot.example.com", True, id="proxy_name_bare"),
        pytest.param("bot.example.com:443", True, id="proxy_name_any_port"),
        pytest.param("BOT.example.com", True, id="proxy_name_case"),
        pytest.param("proxy.internal:8443", True, id="entry_with_its_port"),
        pytest.param("proxy.internal:8444", False, id="entry_with_other_port"),
        pytest.param("proxy.internal", False, id="entry_with_port_needs_it"),
        pytest.param("evil.example", False, id="other_name"),
    ],
)
def test_configured_allowed_hosts_are_answered(
    make_ctx: Callable[..., Context], host: str, served: bool
) -> None:
    ctx = make_ctx(allowed_hosts="bot.example.com, proxy.internal:8443")
    reply = serve(ctx, lambda port: exchange(port, get("/status.json", host)))
    assert (status_of(reply) == 200) is served, reply[:200]
    assert (status_of(reply) == 421) is not served


@pytest.mark.parametrize(
    ("header", "bound", "served"),
    [
        pytest.param("[::1]:8321", "::1", True, id="ipv6_bound"),
        pytest.param("[0:0::1]:8321", "127.0.0.1", False, id="ipv6_spelt_otherwise"),
        pytest.param("10.0.0.5:8321", "10.0.0.5", True, id="bound_lan_address"),
        pytest.param("10.0.0.5:8321", "127.0.0.1", False, id="unbound_lan_address"),
        pytest.param("qtbot.lan", "qtbot.lan", True, id="bound_host_name"),
        pytest.param("localhost.:8321", "127.0.0.1", False, id="trailing_dot"),
        pytest.param("localhost:8321:1", "127.0.0.1", False, id="two_ports"),
        pytest.param("localhost:abc", "127.0.0.1", False, id="port_not_a_number"),
        pytest.param("localhost@evil.example", "127.0.0.1", False, id="userinfo_trick"),
        pytest.param("[::1", "127.0.0.1", False, id="unclosed_bracket"),
        pytest.param("[::1]x", "127.0.0.1", False, id="junk_after_bracket"),
    ],
)
def test_host_matching_rules(header: str, bound: str, served: bool) -> None:
    assert host_allowed(header, bound, ()) is served


def test_allowed_hosts_setting_is_validated_and_normalised(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, http={"allowed_hosts": " Bot.Example.com ,[::1]:9 "})
    try:
        assert ctx.settings.http.allowed_host_list() == ("bot.example.com", "[::1]:9")
    finally:
        ctx.store.close()
    for bad in ("bad host!", "host:99999", "::1", " , "):
        with pytest.raises(ValueError, match=r"allowed_hosts"):
            make_context(tmp_path, http={"allowed_hosts": bad})


# --- slow clients and oversized headers ------------------------------------------------------


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"", id="sends_nothing"),
        pytest.param(b"GET /status.js", id="half_a_request_line"),
        pytest.param(b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\n", id="headers_unfinished"),
    ],
)
def test_a_client_that_never_finishes_its_request_is_disconnected(
    make_ctx: Callable[..., Context], partial: bytes
) -> None:
    ctx = make_ctx(client_timeout_seconds=1)

    async def scenario(port: int) -> bytes:
        # exchange() waits for the server to close, up to the generous deadline; a server
        # without the timeout keeps the connection and the wait_for fails the test.
        return await exchange(port, partial)

    reply = serve(ctx, scenario)
    assert b"200 OK" not in reply and b"BTC" not in reply


def test_a_client_dripping_its_request_byte_by_byte_is_disconnected(
    make_ctx: Callable[..., Context],
) -> None:
    """Slowloris: each byte arrives well within the timeout, the whole request never does."""
    ctx = make_ctx(client_timeout_seconds=1)
    endless = b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: " + b"a" * 10_000

    async def scenario(port: int) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        closed = asyncio.ensure_future(reader.read())
        sent = 0
        try:
            async with asyncio.timeout(DEADLINE_SECONDS):
                while not closed.done() and sent < len(endless):
                    writer.write(endless[sent : sent + 1])
                    sent += 1
                    await asyncio.wait([closed], timeout=0.1)  # the drip's pace
                assert await closed == b""
        finally:
            closed.cancel()
            writer.close()
        return sent

    assert serve(ctx, scenario) < 1_000  # dropped long before the request could end


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(client_timeout_seconds=1)

    async def scenario(port: int) -> bytes:
        request = get("/healthz", f"127.0.0.1:{port}")
        return await exchange(port, request.replace(b"Connection: close", b"X-Keep: 1"))

    reply = serve(ctx, scenario)
    assert status_of(reply) in (200, 503)  # answered, then dropped once idle


def test_the_client_timeout_defaults_to_ten_seconds(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    try:
        assert ctx.settings.http.client_timeout_seconds == 10.0
    finally:
        ctx.store.close()


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(b"X-Big: " + b"a" * 20_000 + b"\r\n", id="one_huge_header"),
        pytest.param(b"Cookie: " + b"c=1; " * 4_000 + b"\r\n", id="huge_cookie"),
        # More than the 32 the server takes, fewer than aiohttp's own default of 128.
        pytest.param(b"".join(b"X-H%d: v\r\n" % i for i in range(64)), id="too_many_headers"),
    ],
)
def test_oversized_headers_are_refused(make_ctx: Callable[..., Context], extra: bytes) -> None:
    ctx = make_ctx()

    async def scenario(port: int) -> bytes:
        head = f"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
        return await exchange(port, head + extra + b"Connection: close\r\n\r\n")

    reply = serve(ctx, scenario)
    assert 400 <= status_of(reply) < 500, reply[:200]
    assert b"BTC" not in reply
