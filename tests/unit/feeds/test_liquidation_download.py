"""`qtbot download-data --liquidations --exchange bitfinex` against a loopback fake of
Bitfinex's public liquidation history."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner, Result

from bot.cli.main import app
from bot.feeds.liquidation_download import coin_of
from bot.signals.liquidation_history import parse_liquidation_bars
from tests.http_loopback import serving

DAY0 = 1_704_067_200_000  # 2024-01-01 UTC
HOUR = 3_600_000


def _entry(pos: int, mts: int, market: str, amount: float, price: float, match: int = 0) -> Any:
    return ["pos", pos, mts, None, market, amount, price, None, match, 1, None, price]


class FakeBitfinex:
    """`/v2/liquidations/hist?start&end&limit&sort=1` over `events` (sorted by time)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.queries: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(split.query).items()}
                fake.queries.append(query)
                start, end = int(query["start"]), int(query["end"])
                rows = [[e] for e in fake.events if start <= e[2] <= end][: int(query["limit"])]
                body = json.dumps(rows).encode()
                self.send_response(200 if split.path == "/v2/liquidations/hist" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def bitfinex() -> Iterator[FakeBitfinex]:
    fake = FakeBitfinex()
    with serving(fake.httpd):
        yield fake


def _run(fake: FakeBitfinex, tmp_path: Path, *args: str) -> Result:
    env: dict[str, str | None] = dict.fromkeys(k for k in os.environ if k.startswith("QTBOT_"))
    env.update({"QTBOT_EXCHANGE__ID": "bitfinex", "QTBOT_EXCHANGE__REST_URL": fake.url})
    base = ["download-data", "--liquidations", "--symbols", "BTC/USD,ETH/USD", "--timeframe"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        return CliRunner().invoke(app, [*base, "1h", *args], env=env)


def test_market_ids_name_their_coin() -> None:
    assert coin_of("tBTCUSD") == ("BTC", "USD")
    assert coin_of("tBTCF0:USTF0") == ("BTC", "UST")
    assert coin_of("tTESTBTC:TESTUSD") == ("TESTBTC", "TESTUSD")
    assert coin_of("tWEIRD") is None  # neither six letters nor BASE:QUOTE


def test_liquidations_are_summed_per_closed_bar_and_extended_on_rerun(
    bitfinex: FakeBitfinex, tmp_path: Path
) -> None:
    # 600 BTC long liquidations in hour 0 (more than a page of 500, the page boundary inside
    # one millisecond), one short in hour 5; what must not count: an execution record
    # (IS_MATCH 1), a BTC/EUR market, and ETH, whose file stays all zeros except hour 23.
    events = [_entry(i, DAY0 + i // 3, "tBTCF0:USTF0", 0.01, 40_000.0) for i in range(600)]
    events += [
        _entry(900, DAY0 + 5 * HOUR, "tBTCUSD", -2.0, 45_000.0),
        _entry(900, DAY0 + 5 * HOUR + 1, "tBTCUSD", -2.0, 45_000.0, match=1),
        _entry(901, DAY0 + 6 * HOUR, "tBTCEUR", 1.0, 40_000.0),
        _entry(902, DAY0 + 23 * HOUR, "tETHUSD", 3.0, 2_000.0),
        _entry(903, DAY0 + 30 * HOUR, "tBTCUSD", 1.0, 50_000.0),
    ]
    bitfinex.events = sorted(events, key=lambda e: e[2])
    result = _run(bitfinex, tmp_path, "--from", "2024-01-01", "--to", "2024-01-02")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "bitfinex liquidations BTC 1h: +24 bars (601 liquidations), "
        "24 rows in data/bitfinex_1h_BTC.csv"
    )
    path = tmp_path / "data" / "bitfinex_1h_BTC.csv"
    bars = parse_liquidation_bars(path.read_text(), "BTC", timedelta(hours=1), str(path))
    assert len(bars) == 24
    assert bars[0].long_usd == pytest.approx(600 * 0.01 * 40_000)
    assert bars[5].short_usd == pytest.approx(90_000) and bars[5].long_usd == 0
    assert sum(b.long_usd + b.short_usd for b in bars[1:]) == pytest.approx(90_000)
    eth = (tmp_path / "data" / "bitfinex_1h_ETH.csv").read_text().splitlines()
    assert eth[24] == f"{DAY0 + 23 * HOUR},6000.0,0.0"

    bitfinex.queries.clear()
    again = _run(bitfinex, tmp_path, "--to", "2024-01-03")
    assert again.exit_code == 0, again.stderr
    assert "BTC 1h: +24 bars (1 liquidations), 48 rows" in again.stdout
    assert int(bitfinex.queries[0]["start"]) == DAY0 + 24 * HOUR  # nothing fetched twice
    text = path.read_text().splitlines()
    assert text[31] == f"{DAY0 + 30 * HOUR},50000.0,0.0"


def test_a_venue_without_history_is_one_line(bitfinex: FakeBitfinex, tmp_path: Path) -> None:
    result = _run(bitfinex, tmp_path, "--exchange", "okx", "--from", "2024-01-01")
    assert result.exit_code == 2
    assert result.stderr.startswith("qtbot: --liquidations: okx publishes no liquidation history")
    assert result.stderr.count("\n") == 1 and bitfinex.queries == []
