"""A bare signed HTTP client for testing the emulator itself, without ccxt in the way."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from tests.emulator import EmulatorHandle


def call(
    emulator: EmulatorHandle,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    signed: bool = True,
    secret: str | None = None,
    api_key: str | None = None,
    timestamp_ms: int | None = None,
) -> tuple[int, Any]:
    """(HTTP status, decoded JSON body); signs like ccxt does (all params in the query string,
    or in the body for POST)."""
    query = dict(params or {})
    headers: dict[str, str] = {}
    if signed:
        query["timestamp"] = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        text = urlencode(query)
        signature = hmac.new(
            (secret or emulator.api_secret).encode(), text.encode(), hashlib.sha256
        ).hexdigest()
        text += "&signature=" + signature
        headers["X-MBX-APIKEY"] = api_key if api_key is not None else emulator.api_key
    else:
        text = urlencode(query)
    url = emulator.url + path
    data = None
    if method == "POST":
        data = text.encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif text:
        url += "?" + text
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def order(emulator: EmulatorHandle, **params: Any) -> tuple[int, Any]:
    """POST /api/v3/order with `params` (symbol defaults to BTCUSDT)."""
    return call(emulator, "POST", "/api/v3/order", {"symbol": "BTCUSDT", **params})
