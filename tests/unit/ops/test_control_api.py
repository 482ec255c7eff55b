"""The control API over real HTTP on loopback: token, rate limits, actions journaled with their
origin, panic only after a one-time code, and no way to change settings or withdraw."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.ops.web.control import token_matches
from bot.ops.web.control_actions import Control
from bot.ops.web.server import http_address, start_http, stop_http
from bot.services.context import Context
from bot.state.runtime_state import RuntimeState
from tests.unit.ops.seed import make_context, seed_trading_state

TOKEN = "t0k3n-" + "a1b2c3d4" * 5
AUTH = {"Authorization": f"Bearer {TOKEN}"}
READS = ["/api/status", "/api/trades", "/api/profit", "/api/journal"]
ACTIONS = ["/api/pause", "/api/resume", "/api/panic", "/api/panic/confirm"]

Scenario = Callable[[aiohttp.ClientSession, str], Awaitable[Any]]


def control_context(tmp_path: Path, enabled: bool = True, **control: Any) -> Context:
    settings: dict[str, Any] = {"enabled": enabled, **control}
    if enabled:
        settings.setdefault("token", TOKEN)
    ctx = make_context(tmp_path, http={"enabled": True}, control=settings)
    seed_trading_state(ctx)
    return ctx


def serve(ctx: Context, scenario: Scenario) -> Any:
    async def main() -> Any:
        runner = await start_http(ctx, port=0)
        try:
            async with aiohttp.ClientSession() as session:
                return await scenario(session, f"http://{http_address(runner)}")
        finally:
            await stop_http(runner)

    try:
        return asyncio.run(main())
    finally:
        ctx.store.close()


async def call(
    session: aiohttp.ClientSession, method: str, url: str, **kw: Any
) -> tuple[int, Any, Any]:
    async with session.request(method, url, **kw) as response:
        is_json = response.content_type == "application/json"
        body = await (response.json() if is_json else response.text())
        return response.status, body, response.headers


def control_rows(ctx: Context, kind: str = "control") -> list[Any]:
    return ctx.store.recent_journal(100, kind=kind)


def test_api_is_absent_unless_enabled(tmp_path: Path) -> None:
    ctx = control_context(tmp_path, enabled=False)
    reader = make_context(tmp_path)

    async def scenario(session: aiohttp.ClientSession, base: str) -> list[int]:
        codes = [(await call(session, "GET", base + path, headers=AUTH))[0] for path in READS]
        codes += [(await call(session, "POST", base + path, headers=AUTH))[0] for path in ACTIONS]
        return codes

    assert serve(ctx, scenario) == [404] * 8
    assert reader.store.risk_off() is False
    reader.store.close()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no_header"),
        pytest.param({"Authorization": "Bearer wrong-" + "x" * 40}, id="wrong_token"),
        pytest.param({"Authorization": f"Basic {TOKEN}"}, id="right_token_wrong_scheme"),
        pytest.param({"Authorization": f"Bearer {TOKEN[:-1]}"}, id="token_one_short"),
        pytest.param({"Authorization": "Bearer"}, id="empty_bearer"),
    ],
)
def test_pause_without_the_token_is_refused_and_journaled(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    ctx = control_context(tmp_path)

    async def scenario(session: aiohttp.ClientSession, base: str) -> Any:
        return await call(session, "POST", base + "/api/pause", headers=headers)

    reopened = make_context(tmp_path)
    status, body, response_headers = serve(ctx, scenario)
    assert status == 401 and response_headers["WWW-Authenticate"] == "Bearer"
    assert reopened.store.risk_off() is False
    refused = control_rows(reopened, "control_refused")
    assert [row.data["origin"] for row in refused] == ["http 127.0.0.1"]
    assert TOKEN not in str(body) and all(TOKEN not in row.message for row in refused)
    reopened.store.close()


def test_pause_and_resume_over_http_are_journaled_with_their_origin(tmp_path: Path) -> None:
    ctx = control_context(tmp_path)
    reader = make_context(tmp_path)

    async def scenario(session: aiohttp.ClientSession, base: str) -> list[Any]:
        paused = await call(session, "POST", base + "/api/pause", headers=AUTH)
        seen = [paused[0], reader.store.risk_off()]
        status = await call(session, "GET", base + "/api/status", headers=AUTH)
        seen += [status[1]["risk_off"]]
        resumed = await call(session, "POST", base + "/api/resume", headers=AUTH)
        return [*seen, resumed[0], reader.store.risk_off()]

    assert serve(ctx, scenario) == [200, True, True, 200, False]
    rows = control_rows(reader)
    assert [(r.data["action"], r.data["origin"]) for r in reversed(rows)] == [
        ("pause", "http 127.0.0.1"),
        ("resume", "http 127.0.0.1"),
    ]
    reader.store.close()


def test_panic_runs_only_after_its_one_time_code(tmp_path: Path) -> None:
    ctx = control_context(tmp_path)
    reader = make_context(tmp_path)
    state = RuntimeState(reader.store)

    async def scenario(session: aiohttp.ClientSession, base: str) -> list[Any]:
        confirm = base + "/api/panic/confirm"
        seen: list[Any] = []
        first = (await call(session, "POST", base + "/api/panic", headers=AUTH))[1]["code"]
        wrong = "000000" if first != "000000" else "111111"
        seen.append((await call(session, "POST", confirm, headers=AUTH, json={"code": wrong}))[0])
        # the wrong guess used the code up: the right one no longer works either
        seen.append((await call(session, "POST", confirm, headers=AUTH, json={"code": first}))[0])
        seen.append(state.panic_requested())
        code = (await call(session, "POST", base + "/api/panic", headers=AUTH))[1]["code"]
        seen.append((await call(session, "POST", confirm, headers=AUTH, json={"code": code}))[0])
        seen.append(state.panic_requested())
        seen.append((await call(session, "POST", confirm, headers=AUTH, json={"code": code}))[0])
        seen.append((await call(session, "POST", confirm, headers=AUTH, data="not json"))[0])
        return seen

    assert serve(ctx, scenario) == [409, 409, False, 200, True, 409, 400]
    assert reader.store.risk_off() is True
    actions = [row.data["action"] for row in reversed(control_rows(reader))]
    assert actions == ["panic_code", "panic_code", "panic"]
    reader.store.close()


FORBIDDEN = [
    ("PUT", "/api/settings"),
    ("POST", "/api/settings"),
    ("POST", "/api/risk"),
    ("PATCH", "/api/risk/stop_loss_pct"),
    ("POST", "/api/withdraw"),
    ("POST", "/api/config"),
    ("DELETE", "/api/status"),
    ("GET", "/api/pause"),
    ("POST", "/api/status"),
    ("PUT", "/api/pause"),
    ("POST", "/api"),
    ("GET", "/api/../status.json"),
]


def test_no_request_changes_settings_or_withdraws(tmp_path: Path) -> None:
    ctx = control_context(tmp_path, requests_per_minute=100)
    before = ctx.settings.model_dump_json()
    reader = make_context(tmp_path)
    kv_before = {key: reader.store.get_value(key) for key in ("risk_off",)}

    async def scenario(session: aiohttp.ClientSession, base: str) -> list[int]:
        return [
            (await call(session, method, base + path, headers=AUTH, json={"x": 1}))[0]
            for method, path in FORBIDDEN
        ]

    codes = serve(ctx, scenario)
    assert all(code in (404, 405) for code in codes[:-1]), codes
    assert codes[-1] == 200  # the client normalised `..` away: that is the public page's JSON
    assert ctx.settings.model_dump_json() == before
    assert {key: reader.store.get_value(key) for key in kv_before} == kv_before
    assert reader.store.risk_off() is False and not RuntimeState(reader.store).panic_requested()
    reader.store.close()


def test_the_api_has_exactly_the_documented_routes(tmp_path: Path) -> None:
    ctx = control_context(tmp_path)

    async def main() -> set[tuple[str, str]]:
        runner = await start_http(ctx, port=0)
        try:
            return {
                (route.method, route.resource.canonical)
                for route in runner.app.router.routes()
                if route.resource is not None and route.resource.canonical.startswith("/api")
            }
        finally:
            await stop_http(runner)

    routes = asyncio.run(main())
    ctx.store.close()
    expected = {("GET", p) for p in READS} | {("POST", p) for p in ACTIONS}
    assert {r for r in routes if r[0] != "HEAD"} == expected


def test_reads_answer_json(tmp_path: Path) -> None:
    ctx = control_context(tmp_path)

    async def scenario(session: aiohttp.ClientSession, base: str) -> list[Any]:
        got = [await call(session, "GET", base + path, headers=AUTH) for path in READS]
        got.append(await call(session, "GET", base + "/api/trades?since=yesterday", headers=AUTH))
        got.append(await call(session, "GET", base + "/api/journal?limit=2", headers=AUTH))
        return got

    status, trades, profit, journal, bad_since, two = serve(ctx, scenario)
    assert status[0] == 200 and {p["symbol"] for p in status[1]["positions"]} == {
        "BTC/USDT",
        "ETH/USDT",
    }
    assert trades[0] == 200 and trades[1] == []  # both positions are still open
    assert profit[0] == 200 and isinstance(profit[1], dict)
    assert journal[0] == 200 and journal[1][0]["kind"] == "order_rejected"
    assert bad_since[0] == 400 and two[0] == 200 and len(two[1]) == 2


def test_requests_over_the_per_minute_budget_get_429(tmp_path: Path) -> None:
    ctx = control_context(tmp_path, requests_per_minute=3)

    async def scenario(session: aiohttp.ClientSession, base: str) -> list[Any]:
        got = [await call(session, "GET", base + "/api/status", headers=AUTH) for _ in range(4)]
        return [status for status, _, _ in got] + [got[-1][2].get("Retry-After")]

    *codes, retry_after = serve(ctx, scenario)
    assert codes == [200, 200, 200, 429] and int(retry_after) >= 1


def test_failed_tokens_lock_out_guessing_but_never_the_right_token(tmp_path: Path) -> None:
    # Behind a proxy every client shares one address: junk tokens must not keep the operator
    # from pausing or panicking, while further guesses are refused unchecked and unjournaled.
    ctx = control_context(tmp_path, failed_auth_per_hour=2)
    bad = {"Authorization": "Bearer " + "guess" * 8}

    async def scenario(session: aiohttp.ClientSession, base: str) -> list[int]:
        codes = [(await call(session, "GET", base + "/api/status", headers=bad))[0]]
        codes.append((await call(session, "GET", base + "/api/status", headers=bad))[0])
        codes.append((await call(session, "GET", base + "/api/status", headers=bad))[0])
        codes.append((await call(session, "POST", base + "/api/pause", headers=AUTH))[0])
        codes.append((await call(session, "GET", base + "/api/status", headers=bad))[0])
        return codes

    reader = make_context(tmp_path)
    assert serve(ctx, scenario) == [401, 401, 429, 200, 429]
    assert reader.store.risk_off() is True
    # journaled until the lock-out, then quietly refused: a flood cannot fill the journal
    assert len(control_rows(reader, "control_refused")) == 2
    reader.store.close()


def test_panic_code_expires_and_belongs_to_its_origin(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    clock = [100.0]
    control = Control(ctx, code_seconds=60, monotonic=lambda: clock[0])
    code = control.request_panic("telegram chat 1")
    assert not control.confirm_panic("http 127.0.0.1", code).ok  # another origin's code
    code = control.request_panic("telegram chat 1")
    clock[0] += 61
    assert not control.confirm_panic("telegram chat 1", code).ok  # expired
    code = control.request_panic("telegram chat 1")
    clock[0] += 59
    assert control.confirm_panic("telegram chat 1", code).ok
    assert RuntimeState(ctx.store).panic_requested()
    ctx.store.close()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(f"Bearer {TOKEN}", True, id="bearer"),
        pytest.param(f"bearer {TOKEN}", True, id="scheme_any_case"),
        pytest.param(f"Bearer  {TOKEN} ", True, id="extra_spaces"),
        pytest.param(f"Basic {TOKEN}", False, id="basic"),
        pytest.param(TOKEN, False, id="no_scheme"),
        pytest.param(f"Bearer {TOKEN}x", False, id="longer"),
        pytest.param(None, False, id="absent"),
    ],
)
def test_token_matches_only_a_bearer_of_the_exact_token(header: str | None, expected: bool) -> None:
    assert token_matches(header, SecretStr(TOKEN)) is expected
