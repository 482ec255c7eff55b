"""The exchange emulator itself: Binance auth errors, fill rules, balances, faults, CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from tests.emulator import EmulatorHandle
from tests.integration.emulator_client import call, order

REPO = Path(__file__).resolve().parents[2]


def _state_order(emulator: EmulatorHandle, client_order_id: str) -> dict[str, str]:
    return next(o for o in emulator.state()["orders"] if o["clientOrderId"] == client_order_id)


# ---- auth --------------------------------------------------------------------------------


def test_wrong_secret_is_rejected_as_bad_signature(emulator: EmulatorHandle) -> None:
    status, body = call(emulator, "GET", "/api/v3/account", secret="not-the-secret")
    assert (status, body["code"]) == (400, -1022)


def test_unknown_api_key_is_rejected_with_401(emulator: EmulatorHandle) -> None:
    status, body = call(emulator, "GET", "/api/v3/account", api_key="someone-else")
    assert (status, body["code"]) == (401, -2015)


def test_timestamp_outside_recv_window_is_rejected(emulator: EmulatorHandle) -> None:
    stale = int(time.time() * 1000) - 60_000
    status, body = call(emulator, "GET", "/api/v3/account", timestamp_ms=stale)
    assert (status, body["code"]) == (400, -1021)


def test_public_endpoints_need_no_signature(emulator: EmulatorHandle) -> None:
    status, body = call(
        emulator, "GET", "/api/v3/ticker/bookTicker", {"symbol": "ETHUSDT"}, signed=False
    )
    assert status == 200
    assert Decimal(body["bidPrice"]) < Decimal(body["askPrice"])


# ---- fill rules --------------------------------------------------------------------------


def test_market_buy_walks_the_book_and_pays_fee_in_base(emulator: EmulatorHandle) -> None:
    emulator.set_levels("BTCUSDT", bids=[(49990, 1)], asks=[(50000, "0.01"), (50010, "0.02")])
    emulator.set_balances(USDT="2000", BTC="0")
    status, body = order(
        emulator, side="BUY", type="MARKET", quantity="0.02", newClientOrderId="walk-1"
    )
    assert status == 200
    assert body["status"] == "FILLED"
    assert [(f["price"], f["qty"]) for f in body["fills"]] == [
        ("50000.00000000", "0.01000000"),
        ("50010.00000000", "0.01000000"),
    ]
    assert {f["commissionAsset"] for f in body["fills"]} == {"BTC"}
    assert emulator.balance("USDT") == (Decimal("2000") - Decimal("1000.1"), 0)
    assert emulator.balance("BTC") == (Decimal("0.02") - Decimal("0.00002"), 0)


def test_market_order_bigger_than_the_book_expires_partially_filled(
    emulator: EmulatorHandle,
) -> None:
    emulator.set_levels("BTCUSDT", bids=[(50000, "0.01")], asks=[(50010, 1)])
    status, body = order(emulator, side="SELL", type="MARKET", quantity="0.05")
    assert status == 200
    assert (body["status"], body["executedQty"]) == ("EXPIRED", "0.01000000")
    assert emulator.balance("BTC") == (Decimal("0.99"), 0)  # unfilled part released


def test_resting_limit_fills_at_its_price_partially_when_the_book_is_thin(
    emulator: EmulatorHandle,
) -> None:
    emulator.set_balances(USDT="10000")
    status, body = order(
        emulator,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.03",
        price="49000",
        newClientOrderId="rest-1",
    )
    assert (status, body["status"]) == (200, "NEW")
    assert emulator.balance("USDT") == (Decimal("8530"), Decimal("1470"))

    emulator.set_levels("BTCUSDT", bids=[(48800, 1)], asks=[(48900, "0.01")])
    partial = _state_order(emulator, "rest-1")
    assert (partial["status"], partial["executedQty"]) == ("PARTIALLY_FILLED", "0.01000000")
    trade = emulator.state()["trades"][-1]
    assert (trade["price"], trade["isMaker"]) == ("49000.00000000", True)

    emulator.set_levels("BTCUSDT", bids=[(48800, 1)], asks=[(48950, 1)])
    assert _state_order(emulator, "rest-1")["status"] == "FILLED"
    assert emulator.balance("USDT") == (Decimal("8530"), 0)


def test_crossing_limit_takes_at_book_prices_and_frees_the_difference(
    emulator: EmulatorHandle,
) -> None:
    emulator.set_levels("BTCUSDT", bids=[(49000, 1)], asks=[(49500, 1)])
    emulator.set_balances(USDT="1000")
    status, body = order(
        emulator, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01", price="50000"
    )
    assert (status, body["status"], body["fills"][0]["price"]) == (200, "FILLED", "49500.00000000")
    assert emulator.balance("USDT") == (Decimal("505"), 0)


@pytest.mark.parametrize(
    ("tif", "status", "executed"),
    [
        pytest.param("IOC", "EXPIRED", "0.01000000", id="ioc_keeps_what_it_got"),
        pytest.param("FOK", "EXPIRED", "0.00000000", id="fok_all_or_nothing"),
    ],
)
def test_immediate_limits_never_rest(
    emulator: EmulatorHandle, tif: str, status: str, executed: str
) -> None:
    emulator.set_levels("BTCUSDT", bids=[(49000, 1)], asks=[(49500, "0.01")])
    _, body = order(
        emulator, side="BUY", type="LIMIT", timeInForce=tif, quantity="0.02", price="50000"
    )
    assert (body["status"], body["executedQty"]) == (status, executed)
    assert emulator.balance("USDT")[1] == 0


@pytest.mark.parametrize(
    ("quantity", "price", "filter_name"),
    [
        pytest.param("0.000015", "50000", "LOT_SIZE", id="quantity_off_step"),
        pytest.param("0.001", "50000.001", "PRICE_FILTER", id="price_off_tick"),
        pytest.param("0.00001", "50000", "NOTIONAL", id="notional_below_minimum"),
    ],
)
def test_orders_breaking_a_filter_are_rejected_with_1013(
    emulator: EmulatorHandle, quantity: str, price: str, filter_name: str
) -> None:
    status, body = order(
        emulator, side="BUY", type="LIMIT", timeInForce="GTC", quantity=quantity, price=price
    )
    assert (status, body) == (400, {"code": -1013, "msg": f"Filter failure: {filter_name}"})


def test_order_beyond_free_balance_is_rejected(emulator: EmulatorHandle) -> None:
    emulator.set_balances(USDT="100")
    status, body = order(
        emulator, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01", price="40000"
    )
    assert (status, body["code"]) == (400, -2010)
    assert body["msg"] == "Account has insufficient balance for requested action."


def test_client_id_is_unique_among_open_orders_like_binance(emulator: EmulatorHandle) -> None:
    resting = {
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "40000",
        "newClientOrderId": "dup-1",
    }
    assert order(emulator, **resting)[0] == 200
    assert order(emulator, **resting) == (400, {"code": -2010, "msg": "Duplicate order sent."})
    call(emulator, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "dup-1"})
    assert order(emulator, **resting)[0] == 200  # closed orders free the id on Binance
    emulator.configure(unique_client_ids="all")
    call(emulator, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "dup-1"})
    assert order(emulator, **resting)[1]["code"] == -2010


def test_cancel_reply_moves_our_id_to_orig_client_order_id(emulator: EmulatorHandle) -> None:
    order(
        emulator,
        side="SELL",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price="60000",
        newClientOrderId="cx-1",
    )
    status, body = call(
        emulator, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "cx-1"}
    )
    assert (status, body["status"], body["origClientOrderId"]) == (200, "CANCELED", "cx-1")
    assert body["clientOrderId"] != "cx-1"
    assert emulator.balance("BTC") == (Decimal("1"), 0)


@pytest.mark.parametrize(
    ("method", "code"),
    [pytest.param("DELETE", -2011, id="cancel"), pytest.param("GET", -2013, id="query")],
)
def test_unknown_order_errors(emulator: EmulatorHandle, method: str, code: int) -> None:
    status, body = call(
        emulator, method, "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "never-sent"}
    )
    assert (status, body["code"]) == (400, code)


def test_request_log_counts_creates_per_client_id(emulator: EmulatorHandle) -> None:
    for _ in range(2):
        order(emulator, side="BUY", type="MARKET", quantity="0.001", newClientOrderId="log-1")
    call(emulator, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "log-1"})
    assert emulator.order_creates("log-1") == 2
    assert len(emulator.requests("GET", "/api/v3/order")) == 1


# ---- faults ------------------------------------------------------------------------------


def test_status_fault_answers_once_with_retry_after(emulator: EmulatorHandle) -> None:
    emulator.add_fault("status", path="/api/v3/ping", status=429, retry_after="3")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(emulator.url + "/api/v3/ping", timeout=5)
    assert (caught.value.code, caught.value.headers["Retry-After"]) == (429, "3")
    assert json.loads(caught.value.read())["code"] == -1003
    assert call(emulator, "GET", "/api/v3/ping", signed=False) == (200, {})


def test_timeout_fault_records_the_order_and_holds_the_reply(emulator: EmulatorHandle) -> None:
    emulator.add_fault("timeout", method="POST", path="/api/v3/order", delay=5)
    payload = b"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&newClientOrderId=slow-1"
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        # An unsigned create is refused, but only after the held reply: the client times out.
        urllib.request.urlopen(
            urllib.request.Request(emulator.url + "/api/v3/order", data=payload), timeout=0.3
        )
    assert emulator.order_creates("slow-1") == 1


def test_drop_fault_closes_the_connection_without_reply(emulator: EmulatorHandle) -> None:
    emulator.add_fault("drop", path="/api/v3/time")
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(emulator.url + "/api/v3/time", timeout=5)


def test_malformed_fault_truncates_the_json(emulator: EmulatorHandle) -> None:
    emulator.add_fault("malformed", path="/api/v3/exchangeInfo", times=2)
    for _ in range(2):
        with (
            urllib.request.urlopen(emulator.url + "/api/v3/exchangeInfo", timeout=5) as resp,
            pytest.raises(json.JSONDecodeError),
        ):
            json.loads(resp.read())
    assert emulator.state()["faults"] == []


def test_latency_fault_slows_the_reply_but_answers(emulator: EmulatorHandle) -> None:
    emulator.add_fault("latency", path="/api/v3/time", delay=0.2)
    start = time.perf_counter()
    status, body = call(emulator, "GET", "/api/v3/time", signed=False)
    assert time.perf_counter() - start >= 0.2
    assert status == 200 and "serverTime" in body
    assert [r.get("fault") for r in emulator.requests(path="/api/v3/time")] == ["latency"]


def test_standalone_module_prints_its_url_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/api/v3/ping", timeout=5) as resp:
            assert json.loads(resp.read()) == {}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
