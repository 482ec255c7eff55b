"""The emulator's STOP_LOSS_LIMIT orders and POST /api/v3/order/cancelReplace, over raw HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.emulator import EmulatorHandle
from tests.integration.emulator_client import call, order

D = Decimal


def stop(emulator: EmulatorHandle, cid: str, qty: str, stop_price: str, price: str) -> Any:
    return order(
        emulator,
        side="SELL",
        type="STOP_LOSS_LIMIT",
        timeInForce="GTC",
        quantity=qty,
        stopPrice=stop_price,
        price=price,
        newClientOrderId=cid,
        newOrderRespType="RESULT",
    )


def query(emulator: EmulatorHandle, cid: str) -> dict[str, Any]:
    status, body = call(
        emulator, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": cid}
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def replace(emulator: EmulatorHandle, old: str, new: str, stop_price: str, **extra: str) -> Any:
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "STOP_LOSS_LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.5",
        "stopPrice": stop_price,
        "price": str(D(stop_price) - 100),
        "cancelReplaceMode": "STOP_ON_FAILURE",
        "cancelOrigClientOrderId": old,
        "newClientOrderId": new,
        **extra,
    }
    return call(emulator, "POST", "/api/v3/order/cancelReplace", params)


def test_stop_loss_limit_rests_untriggered_and_locks_base(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    status, body = stop(emulator, "st-1", "0.5", "48000", "47900")

    assert status == 200, body
    assert (body["type"], body["status"], body["stopPrice"]) == (
        "STOP_LOSS_LIMIT",
        "NEW",
        "48000.00000000",
    )
    assert body["workingTime"] == -1
    row = query(emulator, "st-1")
    assert (row["isWorking"], row["workingTime"]) == (False, -1)
    _, open_rows = call(emulator, "GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert [(o["clientOrderId"], o["type"], o["status"]) for o in open_rows] == [
        ("st-1", "STOP_LOSS_LIMIT", "NEW")
    ]
    assert emulator.balance("BTC") == (D("0.5"), D("0.5"))


def test_stop_does_not_fill_before_the_bid_reaches_it(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    stop(emulator, "st-2", "0.5", "48000", "47900")

    emulator.set_market("BTCUSDT", "48000.01", "48010")  # above the limit, not at the stop

    assert query(emulator, "st-2")["isWorking"] is False
    assert emulator.state()["trades"] == []


def test_stop_triggers_at_the_bid_and_fills_as_taker(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    stop(emulator, "st-3", "0.5", "48000", "47900")

    emulator.set_levels("BTCUSDT", bids=[(48000, "0.2"), (47950, 1)], asks=[(48010, 1)])

    row = query(emulator, "st-3")
    assert (row["status"], row["isWorking"], row["executedQty"]) == (
        "FILLED",
        True,
        "0.50000000",
    )
    assert row["workingTime"] > 0
    _, trades = call(emulator, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
    assert [(t["orderId"], t["price"], t["qty"], t["isMaker"]) for t in trades] == [
        (row["orderId"], "48000.00000000", "0.20000000", False),
        (row["orderId"], "47950.00000000", "0.30000000", False),
    ]
    assert emulator.balance("BTC")[1] == 0


def test_triggered_stop_below_its_limit_rests_as_a_limit(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    stop(emulator, "st-4", "0.5", "48000", "47900")

    emulator.set_levels("BTCUSDT", bids=[(47000, 1)], asks=[(47010, 1)])  # gap below the limit
    row = query(emulator, "st-4")
    assert (row["status"], row["isWorking"], row["executedQty"]) == ("NEW", True, "0.00000000")

    emulator.set_levels("BTCUSDT", bids=[(47950, 1)], asks=[(47960, 1)])
    row = query(emulator, "st-4")
    assert row["status"] == "FILLED"
    _, trades = call(emulator, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
    assert [(t["price"], t["isMaker"]) for t in trades] == [("47900.00000000", True)]


def test_stop_the_bid_already_reached_is_refused(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    status, body = stop(emulator, "st-5", "0.5", "50000", "49900")
    assert (status, body) == (400, {"code": -2010, "msg": "Stop price would trigger immediately."})


def test_stop_below_min_notional_is_refused(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    status, body = stop(emulator, "st-6", "0.0001", "48000", "47900")
    assert (status, body["code"], body["msg"]) == (400, -1013, "Filter failure: NOTIONAL")


def test_cancel_replace_moves_the_stop_in_one_request(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    emulator.set_balances(BTC="0.5")  # only enough for one stop: the cancel must come first
    stop(emulator, "old", "0.5", "48000", "47900")

    status, body = replace(emulator, "old", "new", "49000")

    assert status == 200, body
    assert (body["cancelResult"], body["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert body["cancelResponse"]["origClientOrderId"] == "old"
    assert body["cancelResponse"]["status"] == "CANCELED"
    new = body["newOrderResponse"]
    assert (new["clientOrderId"], new["status"], new["stopPrice"]) == (
        "new",
        "NEW",
        "49000.00000000",
    )
    _, open_rows = call(emulator, "GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert [o["clientOrderId"] for o in open_rows] == ["new"]
    assert emulator.balance("BTC") == (D("0"), D("0.5"))
    assert emulator.order_creates("new") == 1


def test_cancel_replace_of_an_unknown_order_places_nothing(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")

    status, body = replace(emulator, "ghost", "new2", "49000")

    assert (status, body["code"]) == (400, -2022)
    assert (body["data"]["cancelResult"], body["data"]["newOrderResult"]) == (
        "FAILURE",
        "NOT_ATTEMPTED",
    )
    assert emulator.state()["orders"] == []


def test_cancel_replace_whose_new_order_fails_leaves_no_order(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    stop(emulator, "old3", "0.5", "48000", "47900")

    status, body = replace(emulator, "old3", "new3", "50000")  # would trigger immediately

    assert (status, body["code"]) == (409, -2021)
    data = body["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["newOrderResponse"]["msg"] == "Stop price would trigger immediately."
    assert query(emulator, "old3")["status"] == "CANCELED"
    _, open_rows = call(emulator, "GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert open_rows == []
    assert emulator.balance("BTC")[1] == 0


def test_cancel_replace_allow_failure_places_the_new_order_when_the_cancel_fails(
    emulator: EmulatorHandle,
) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")

    status, body = replace(emulator, "ghost2", "new4", "49000", cancelReplaceMode="ALLOW_FAILURE")

    assert (status, body["code"]) == (409, -2021)
    assert (body["data"]["cancelResult"], body["data"]["newOrderResult"]) == ("FAILURE", "SUCCESS")
    assert query(emulator, "new4")["status"] == "NEW"


def test_a_scripted_503_on_cancel_replace_changes_nothing(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    stop(emulator, "old5", "0.5", "48000", "47900")
    emulator.add_fault("status", path="/api/v3/order/cancelReplace", status=503, times=1)

    status, body = replace(emulator, "old5", "new5", "49000")

    assert (status, body["code"]) == (503, -1001)
    assert query(emulator, "old5")["status"] == "NEW"
    assert (
        call(emulator, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "new5"})[
            0
        ]
        == 400
    )
    assert emulator.balance("BTC")[1] == D("0.5")  # the old stop still holds its base
    (logged,) = emulator.requests("POST", "/api/v3/order/cancelReplace")
    assert (logged["fault"], logged["status"]) == ("status", 503)


def test_a_503_after_the_venue_acted_has_replaced_the_stop(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    stop(emulator, "old6", "0.5", "48000", "47900")
    emulator.add_fault(
        "status", path="/api/v3/order/cancelReplace", status=503, accept=True, times=1
    )

    status, _ = replace(emulator, "old6", "new6", "49000")

    assert status == 503
    assert (query(emulator, "old6")["status"], query(emulator, "new6")["status"]) == (
        "CANCELED",
        "NEW",
    )


def test_a_fault_can_be_limited_to_stop_orders(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    emulator.add_fault("status", path="/api/v3/order", params={"type": "STOP_LOSS_LIMIT"})

    status, _ = order(emulator, side="BUY", type="MARKET", quantity="0.1")
    assert status == 200
    assert stop(emulator, "st-7", "0.1", "48000", "47900")[0] == 500
    assert emulator.state()["faults"] == []


def test_the_venue_can_end_a_resting_stop_by_itself(emulator: EmulatorHandle) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    stop(emulator, "st-8", "0.5", "48000", "47900")

    ended = emulator.end_order("BTC/USDT", "st-8", "EXPIRED")

    assert ended["status"] == "EXPIRED"
    assert query(emulator, "st-8")["status"] == "EXPIRED"
    assert emulator.balance("BTC")[1] == 0  # its base is free again


def test_the_request_log_says_what_each_order_was_and_why_it_was_refused(
    emulator: EmulatorHandle,
) -> None:
    emulator.set_market("BTCUSDT", "50000", "50010")
    emulator.set_balances(BTC="0.1")
    order(emulator, side="SELL", type="MARKET", quantity="0.2", newClientOrderId="too-much")

    (logged,) = emulator.requests("POST", "/api/v3/order")
    assert (logged["side"], logged["type"], logged["status"], logged["code"]) == (
        "SELL",
        "MARKET",
        400,
        -2010,
    )
    assert logged["msg"] == "Account has insufficient balance for requested action."
