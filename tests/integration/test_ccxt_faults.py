"""The ccxt adapter's error policy, each rule provoked over HTTP by an emulator fault.

Reads retry what is retryable (honouring Retry-After); order creation never retries and turns
"the request may have landed" into OrderOutcomeUnknown, resolved by a lookup by client id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal as D
from typing import Any

import pytest

from exchanges.base import OrderRequest, OrderStatus, OrderType, Side
from exchanges.ccxt.adapter import CcxtExchange
from exchanges.errors import (
    AuthenticationFailed,
    OrderOutcomeUnknown,
    RateLimited,
    RetryableError,
)
from exchanges.retry import RetryPolicy
from tests.contract.ccxt_factory import build_adapter
from tests.emulator import EmulatorHandle

BTC = "BTC/USDT"
ORDER = "/api/v3/order"
ACCOUNT = "/api/v3/account"
POLICY = RetryPolicy(max_attempts=3, base_delay=0.25, max_delay=5.0)


class RecordedSleep:
    """Stands in for asyncio.sleep: records the backoff delays without waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def run(
    emulator: EmulatorHandle,
    scenario: Callable[[CcxtExchange], Awaitable[None]],
    **overrides: Any,
) -> None:
    async def main() -> None:
        adapter = build_adapter(emulator, **overrides)
        try:
            await adapter.load_markets()
            await scenario(adapter)
        finally:
            await adapter.close()

    asyncio.run(main())


def buy(cid: str) -> OrderRequest:
    return OrderRequest(cid, BTC, Side.BUY, OrderType.LIMIT, D("0.001"), D("40000"))


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"kind": "timeout", "delay": 3}, id="reply_held_past_client_timeout"),
        pytest.param({"kind": "drop"}, id="connection_dropped_after_accept"),
        pytest.param({"kind": "malformed"}, id="garbled_reply_after_accept"),
    ],
)
def test_create_lost_after_accept_is_unknown_then_found_by_client_id(
    emulator: EmulatorHandle, fault: dict[str, Any]
) -> None:
    emulator.add_fault(method="POST", path=ORDER, **fault)

    async def scenario(adapter: CcxtExchange) -> None:
        with pytest.raises(OrderOutcomeUnknown) as caught:
            await adapter.create_order(buy("qtbot-lost-1"))
        assert caught.value.client_order_id == "qtbot-lost-1"
        found = await adapter.fetch_order(BTC, "qtbot-lost-1")
        assert found is not None
        assert (found.status, found.amount) == (OrderStatus.OPEN, D("0.001"))

    run(emulator, scenario, timeout=0.5)
    assert emulator.order_creates("qtbot-lost-1") == 1


def test_create_hit_by_5xx_is_unknown_and_not_retried(emulator: EmulatorHandle) -> None:
    emulator.add_fault("status", method="POST", path=ORDER, status=503, times=None)
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        with pytest.raises(OrderOutcomeUnknown):
            await adapter.create_order(buy("qtbot-5xx-1"))
        emulator.clear_faults()
        assert await adapter.fetch_order(BTC, "qtbot-5xx-1") is None  # refused before matching

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY)
    assert emulator.order_creates("qtbot-5xx-1") == 1
    assert sleep.delays == []


def test_create_throttled_raises_rate_limited_without_retry(emulator: EmulatorHandle) -> None:
    emulator.add_fault("status", method="POST", path=ORDER, status=429, retry_after="2")
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        with pytest.raises(RateLimited) as caught:
            await adapter.create_order(buy("qtbot-429-1"))
        assert caught.value.retry_after == 2.0

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY)
    assert emulator.order_creates("qtbot-429-1") == 1
    assert sleep.delays == []


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [
        pytest.param(429, "1", id="rate_limited_429"),
        pytest.param(418, "2", id="ip_banned_418"),
    ],
)
def test_throttled_read_waits_retry_after_then_succeeds(
    emulator: EmulatorHandle, status: int, retry_after: str
) -> None:
    emulator.add_fault("status", method="GET", path=ACCOUNT, status=status, retry_after=retry_after)
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        balances = await adapter.fetch_balances()
        assert balances["USDT"].free == D("100000")

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY)
    assert sleep.delays == [float(retry_after)]  # Retry-After beats the 0.25 s backoff
    assert len(emulator.requests("GET", ACCOUNT)) == 2


def test_retry_after_beyond_max_delay_is_handed_back_at_once(emulator: EmulatorHandle) -> None:
    emulator.add_fault("status", method="GET", path=ACCOUNT, status=429, retry_after="60")
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        with pytest.raises(RateLimited) as caught:
            await adapter.fetch_balances()
        assert caught.value.retry_after == 60.0

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY)
    assert sleep.delays == []
    assert len(emulator.requests("GET", ACCOUNT)) == 1


def test_5xx_reads_back_off_exponentially_then_succeed(emulator: EmulatorHandle) -> None:
    emulator.add_fault("status", method="GET", path=ACCOUNT, status=502, times=2)
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.fetch_balances()

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY)
    assert sleep.delays == [0.25, 0.5]
    assert len(emulator.requests("GET", ACCOUNT)) == 3


def test_persistent_5xx_read_gives_up_after_max_attempts(emulator: EmulatorHandle) -> None:
    emulator.add_fault("status", method="GET", path=ACCOUNT, status=500, times=None)
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        with pytest.raises(RetryableError) as caught:
            await adapter.fetch_balances()
        assert not isinstance(caught.value, RateLimited)

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY)
    assert len(emulator.requests("GET", ACCOUNT)) == POLICY.max_attempts


def test_read_timeout_is_retried(emulator: EmulatorHandle) -> None:
    emulator.add_fault("timeout", method="GET", path=ACCOUNT, delay=3)
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.fetch_balances()

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY, timeout=0.5)
    assert len(sleep.delays) == 1


def test_malformed_json_read_is_retried_then_reported_clearly(emulator: EmulatorHandle) -> None:
    emulator.add_fault("malformed", method="GET", path="/api/v3/ticker/24hr")
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        assert (await adapter.fetch_ticker(BTC)).bid == D(50000)
        emulator.add_fault("malformed", method="GET", path="/api/v3/ticker/24hr", times=None)
        with pytest.raises(RetryableError) as caught:
            await adapter.fetch_ticker(BTC)
        assert "malformed JSON" in caught.value.reason

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY)


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"secret": "wrong-secret"}, id="bad_signature"),
        pytest.param({"api_key": "unknown-key"}, id="unknown_api_key"),
    ],
)
def test_rejected_credentials_fail_without_retry(
    emulator: EmulatorHandle, credentials: dict[str, str]
) -> None:
    sleep = RecordedSleep()

    async def main() -> None:
        options = {"api_key": emulator.api_key, "secret": emulator.api_secret, **credentials}
        adapter = CcxtExchange(
            "binance",
            "testnet",
            options["api_key"],
            options["secret"],
            rest_url=emulator.url,
            timeout=2.0,
            enable_rate_limit=False,
            retry_policy=POLICY,
            sleep=sleep,
        )
        try:
            with pytest.raises(AuthenticationFailed):
                await adapter.fetch_balances()
        finally:
            await adapter.close()

    asyncio.run(main())
    assert len(emulator.requests("GET", ACCOUNT)) == 1
    assert sleep.delays == []


def test_clock_skew_resyncs_and_retries(emulator: EmulatorHandle) -> None:
    emulator.configure(time_offset_ms=30_000)  # venue clock 30 s ahead of ours
    sleep = RecordedSleep()

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.fetch_balances()

    run(emulator, scenario, sleep=sleep, retry_policy=POLICY)
    statuses = [r.get("status") for r in emulator.requests("GET", ACCOUNT)]
    assert statuses == [400, 200]
    assert len(emulator.requests("GET", "/api/v3/time")) == 1
