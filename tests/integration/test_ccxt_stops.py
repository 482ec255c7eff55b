"""Protective stops through CcxtExchange (real ccxt, real HTTP) against the Binance emulator:
STOP_LOSS_LIMIT placement, lookups in every state, fills, replace by cancelReplace and by the
sequential fallbacks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest

from exchanges.base import OrderRequest, OrderStatus, OrderType, Side
from exchanges.ccxt.adapter import CcxtExchange
from exchanges.errors import OrderNotFound, StopReplaceFailed, StopTriggered, StopWouldTrigger
from exchanges.stops import ReplaceMethod, capabilities_of
from exchanges.venues import venue_spec
from tests.contract.ccxt_factory import build_adapter
from tests.emulator import EmulatorHandle

BTC = "BTC/USDT"
ORDER, REPLACE = "/api/v3/order", "/api/v3/order/cancelReplace"
Scenario = Callable[[CcxtExchange], Awaitable[None]]


def run(emulator: EmulatorHandle, scenario: Scenario, **overrides: Any) -> None:
    async def main() -> None:
        adapter = build_adapter(emulator, **overrides)
        try:
            await scenario(adapter)
        finally:
            await adapter.close()

    asyncio.run(main())


def stop(cid: str, amount: str, trigger: str, price: str) -> OrderRequest:
    return OrderRequest(cid, BTC, Side.SELL, OrderType.STOP_LIMIT, D(amount), D(price), D(trigger))


def writes(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    return [
        (r["method"], r["path"])
        for r in emulator.state()["requests"]
        if r["method"] in ("POST", "DELETE")
    ]


def sequential(method: ReplaceMethod) -> Any:
    spec = venue_spec("binance")
    assert spec.stops is not None
    return replace(spec, stops=replace(spec.stops, replace=method))


def test_binance_declares_stop_limit_with_cancel_replace(emulator: EmulatorHandle) -> None:
    caps = capabilities_of(build_adapter(emulator))
    assert caps.stop_orders and caps.stop_order_type is OrderType.STOP_LIMIT
    assert caps.replace_method is ReplaceMethod.CANCEL_REPLACE and not caps.amend_stop
    assert caps.stop_reserves_base


def test_stop_is_sent_as_stop_loss_limit_and_rests(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")

    async def scenario(adapter: CcxtExchange) -> None:
        order = await adapter.create_order(stop("qtbot-s1", "0.5", "48000.004", "47900"))
        assert (order.type, order.status, order.trigger_price, order.price) == (
            OrderType.STOP_LIMIT,
            OrderStatus.OPEN,
            D("48000"),
            D("47900"),
        )
        assert order.waiting_for_trigger
        listed = await adapter.fetch_open_orders(BTC)
        assert [(o.client_order_id, o.waiting_for_trigger) for o in listed] == [("qtbot-s1", True)]
        used = (await adapter.fetch_balances())["BTC"].used
        assert used == D("0.5")

    run(emulator, scenario)
    row = emulator.state()["orders"][0]
    assert (row["type"], row["stopPrice"], row["price"], row["timeInForce"]) == (
        "STOP_LOSS_LIMIT",
        "48000.00000000",
        "47900.00000000",
        "GTC",
    )


def test_stop_found_by_client_id_in_every_state(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(stop("qtbot-wait", "0.2", "48000", "47900"))
        await adapter.create_order(stop("qtbot-gone", "0.2", "47000", "46900"))
        await adapter.cancel_order(BTC, "qtbot-gone")
        waiting = await adapter.fetch_order(BTC, "qtbot-wait")
        assert waiting is not None and waiting.waiting_for_trigger

        await asyncio.to_thread(
            emulator.set_levels, "BTCUSDT", [(48000, "0.05"), (47000, 5)], [(48010, 1)], "48000"
        )
        working = await adapter.fetch_order(BTC, "qtbot-wait")
        assert working is not None and working.is_open and working.triggered
        assert working.filled == D("0.05")

        await asyncio.to_thread(emulator.set_levels, "BTCUSDT", [(47950, 1)], [(47960, 1)], "47950")
        filled = await adapter.fetch_order(BTC, "qtbot-wait")
        assert filled is not None and filled.status is OrderStatus.CLOSED and filled.triggered
        assert filled.type is OrderType.STOP_LIMIT and filled.trigger_price == D("48000")

        gone = await adapter.fetch_order(BTC, "qtbot-gone")
        assert gone is not None and gone.status is OrderStatus.CANCELED and not gone.triggered

        fills = await adapter.fetch_my_trades(BTC)
        assert [(f.client_order_id, f.amount, f.is_maker) for f in fills] == [
            ("qtbot-wait", D("0.05"), False),
            ("qtbot-wait", D("0.15"), True),
        ]

    run(emulator, scenario)


def test_stop_fill_carries_the_client_id_after_a_restart(emulator: EmulatorHandle) -> None:
    """A fresh adapter (no memory of the placement) still names the stop's fills."""
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")

    async def place(adapter: CcxtExchange) -> None:
        await adapter.create_order(stop("qtbot-rs", "0.1", "48000", "47900"))

    async def after(adapter: CcxtExchange) -> None:
        fills = await adapter.fetch_my_trades(BTC)
        assert {f.client_order_id for f in fills} == {"qtbot-rs"}

    run(emulator, place)
    emulator.set_market("BTCUSDT", "47999", "48001", last="47999")
    run(emulator, after)


@pytest.mark.parametrize(
    ("bid", "last"),
    [
        pytest.param("48000", "48000", id="bid_at_trigger"),
        pytest.param("48100", "47990", id="last"),
    ],
)
def test_stop_the_market_reached_is_refused_before_sending(
    emulator: EmulatorHandle, bid: str, last: str
) -> None:
    emulator.set_market("BTCUSDT", bid, "48110", last=last)

    async def scenario(adapter: CcxtExchange) -> None:
        with pytest.raises(StopWouldTrigger, match="would trigger immediately"):
            await adapter.create_order(stop("qtbot-now", "0.1", "48000", "47900"))

    run(emulator, scenario)
    assert emulator.order_creates("qtbot-now") == 0


def test_replace_moves_the_stop_with_one_cancel_replace_request(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")
    emulator.set_balances(BTC="0.5")  # room for one stop only: the venue must cancel first

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(stop("qtbot-old", "0.5", "47000", "46900"))
        result = await adapter.replace_stop(
            BTC, "qtbot-old", stop("qtbot-new", "0.5", "48000", "47900")
        )
        assert result.method is ReplaceMethod.CANCEL_REPLACE and result.unprotected_for is None
        assert (result.order.client_order_id, result.order.trigger_price) == (
            "qtbot-new",
            D("48000"),
        )
        assert result.order.waiting_for_trigger
        assert result.previous.status is OrderStatus.CANCELED
        listed = await adapter.fetch_open_orders(BTC)
        assert [o.client_order_id for o in listed] == ["qtbot-new"]

    run(emulator, scenario)
    assert writes(emulator) == [("POST", ORDER), ("POST", REPLACE)]
    assert emulator.balance("BTC") == (D("0"), D("0.5"))


def test_replace_reply_lost_is_resolved_by_lookup(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(stop("qtbot-o2", "0.5", "47000", "46900"))
        await asyncio.to_thread(
            emulator.add_fault, "drop", method="POST", path=REPLACE, accept=True
        )
        result = await adapter.replace_stop(
            BTC, "qtbot-o2", stop("qtbot-n2", "0.5", "48000", "47900")
        )
        assert result.order.client_order_id == "qtbot-n2" and result.order.is_open
        assert result.previous.status is OrderStatus.CANCELED

    run(emulator, scenario)
    assert emulator.order_creates("qtbot-n2") == 1


def test_replace_whose_new_stop_fails_reports_the_position_unprotected(
    emulator: EmulatorHandle,
) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")
    emulator.set_balances(BTC="0.5")

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(stop("qtbot-o3", "0.5", "47000", "46900"))
        with pytest.raises(StopReplaceFailed) as info:
            await adapter.replace_stop(BTC, "qtbot-o3", stop("qtbot-n3", "0.6", "48000", "47900"))
        assert info.value.protected is False
        assert (info.value.old_client_order_id, info.value.new_client_order_id) == (
            "qtbot-o3",
            "qtbot-n3",
        )
        assert await adapter.fetch_open_orders(BTC) == []

    run(emulator, scenario)


def test_replace_of_an_unknown_stop_places_nothing(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")

    async def scenario(adapter: CcxtExchange) -> None:

        with pytest.raises(OrderNotFound):
            await adapter.replace_stop(BTC, "qtbot-none", stop("qtbot-n4", "0.5", "48000", "47900"))

    run(emulator, scenario)
    assert writes(emulator) == []


def test_triggered_stop_is_left_to_execute(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(stop("qtbot-fired", "0.5", "48000", "47900"))
        await asyncio.to_thread(emulator.set_levels, "BTCUSDT", [(47000, 1)], [(47010, 1)], "47000")
        with pytest.raises(StopTriggered):
            await adapter.replace_stop(
                BTC, "qtbot-fired", stop("qtbot-n5", "0.5", "46000", "45900")
            )

    run(emulator, scenario)
    assert writes(emulator) == [("POST", ORDER)]


def test_cancel_then_place_reports_the_unprotected_window(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")
    emulator.set_balances(BTC="0.5")

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(stop("qtbot-o6", "0.5", "47000", "46900"))
        result = await adapter.replace_stop(
            BTC, "qtbot-o6", stop("qtbot-n6", "0.5", "48000", "47900"), position_amount=D("0.5")
        )
        assert result.method is ReplaceMethod.CANCEL_THEN_PLACE
        assert result.unprotected_for is not None and result.unprotected_for.total_seconds() < 2
        assert result.previous.status is OrderStatus.CANCELED
        assert result.order.client_order_id == "qtbot-n6" and result.order.waiting_for_trigger

    run(emulator, scenario, venue=sequential(ReplaceMethod.CANCEL_THEN_PLACE))
    # Nothing is read between the cancel and the placement.
    requests = [(r["method"], r["path"]) for r in emulator.state()["requests"]]
    cancel_at = requests.index(("DELETE", ORDER))
    assert requests[cancel_at + 1] == ("POST", ORDER)


def test_place_then_cancel_only_when_both_fills_fit_the_position(
    emulator: EmulatorHandle,
) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010", last="50000")

    async def scenario(adapter: CcxtExchange) -> None:
        await adapter.create_order(stop("qtbot-o7", "0.2", "47000", "46900"))
        result = await adapter.replace_stop(
            BTC, "qtbot-o7", stop("qtbot-n7", "0.2", "48000", "47900"), position_amount=D("0.4")
        )
        assert result.method is ReplaceMethod.PLACE_THEN_CANCEL and result.unprotected_for is None
        assert [o.client_order_id for o in await adapter.fetch_open_orders(BTC)] == ["qtbot-n7"]

    run(emulator, scenario, venue=sequential(ReplaceMethod.CANCEL_THEN_PLACE))
    assert writes(emulator) == [("POST", ORDER), ("POST", ORDER), ("DELETE", ORDER)]
