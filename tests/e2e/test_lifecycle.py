"""The whole playbook in one real `qtbot run` (paper mode, accelerated clock, loopback market):
four tranches build the position, tier 1 and tier 2 take profit, the trailing stop sells the rest.

The market moves on what the daemon has done, read from its store, not on a timetable: it
chops until the four tranches are filled, rises past tier 1 (+20 %) and holds until that tier
is sold, rises to +60 % (past tier 2, +50 %) and holds until tier 2 is sold, then falls to +20 %
(through the 10 % trailing stop) and holds until the rest is sold and no order is left open.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tests.chaos.campaign import BASES
from tests.conftest import run_qtbot
from tests.daemon_process import DaemonRun, query, start_daemon, wait_until
from tests.emulator.client import EmulatorHandle, start_emulator

TIER_1_LEVEL = 1.3
TIER_2_LEVEL = 1.6
FALL_LEVEL = 1.2
ACTIVE = ("pending", "unknown", "open")


class Market(threading.Thread):
    """Holds the emulator's prices at `level` times the start price, with a little noise."""

    def __init__(self, emulator: EmulatorHandle) -> None:
        super().__init__(daemon=True)
        self.emulator = emulator
        self.level = 1.0
        self.halt = threading.Event()
        self.rng = random.Random(3)

    def run(self) -> None:
        while not self.halt.wait(0.1):
            chop = 0.01 * self.rng.uniform(-1, 1) if self.level == 1.0 else 0.0
            for symbol, base in BASES.items():
                noise = 1 + chop + self.rng.uniform(-0.001, 0.001)
                bid = (base * Decimal(str(self.level * noise))).quantize(Decimal("0.01"))
                try:
                    self.emulator.set_market(symbol, bid, bid + Decimal("0.5"), qty="5")
                except OSError:
                    continue  # a call slowed past its timeout on a loaded machine: next tick

    def stop(self) -> None:
        self.halt.set()
        self.join()


def _filled_sells(db: Path) -> list[tuple[str, int | None]]:
    return [
        (kind, tier)
        for kind, tier in query(
            db,
            "SELECT kind, tier FROM order_intent WHERE side = 'sell' AND CAST(filled AS REAL) > 0"
            " ORDER BY created_at",
        )
    ]


def _await(daemon: DaemonRun, what: str, done: Callable[[], object]) -> None:
    wait_until(done, what, proc=daemon.proc, log=daemon.log)


def _tranches_filled(db: Path) -> int:
    rows = query(db, "SELECT count(*) FROM strategy_tranche WHERE status = 'filled'")
    return int(rows[0][0]) if rows else 0


def test_paper_run_builds_tranches_takes_tiers_and_trails_the_rest(tmp_path: Path) -> None:
    emulator = start_emulator()
    market = Market(emulator)
    market.start()
    env = {
        "QTBOT_EXCHANGE__REST_URL": emulator.url,
        "QTBOT_SIGNALS__REGIME_OVERRIDE": "easing",
        # The accelerated clock starts with the daemon (no CLOCK_START): a slow start-up
        # does not eat into the entry window.
        "QTBOT_DAEMON__CLOCK_SPEED": "3000",
        "QTBOT_STRATEGY__ALLOCATION": "BTC/USDT:100",
        "QTBOT_STRATEGY__ENTRY_WINDOW_DAYS": "0.15",  # a tranche every ~1.4 s of wall time
        # Market tranches: this test is about the playbook; limit pricing is covered by the
        # strategy tests.
        "QTBOT_STRATEGY__ORDER_TYPE": "market",
        "QTBOT_STRATEGY__ENTRY_CHECK_MINUTES": "20",
        "QTBOT_STRATEGY__FOMC_BLACKOUT_HOURS": "0",
        "QTBOT_STRATEGY__ANTI_CHASE_PCT": "off",
        "QTBOT_RISK__CHECK_SECONDS": "600",
        "QTBOT_RISK__TRAILING_STOP_PCT": "10",
        "QTBOT_LOG__FORMAT": "json",
    }
    db = tmp_path / "data" / "qtbot.sqlite"
    try:
        with start_daemon(tmp_path, env, log=tmp_path.parent / "lifecycle-daemon.log") as daemon:
            daemon.wait_ready()
            _await(daemon, "four tranches filled", lambda: _tranches_filled(db) >= 4)
            market.level = TIER_1_LEVEL
            _await(daemon, "tier 1 sold", lambda: ("take_profit", 1) in _filled_sells(db))
            market.level = TIER_2_LEVEL
            _await(daemon, "tier 2 sold", lambda: ("take_profit", 2) in _filled_sells(db))
            market.level = FALL_LEVEL
            _await(
                daemon,
                "the rest sold and no order left open",
                lambda: (
                    len(_filled_sells(db)) >= 3
                    and not query(
                        db, "SELECT 1 FROM order_intent WHERE status IN (?, ?, ?)", *ACTIVE
                    )
                ),
            )
            status = daemon.stop()
            stderr = daemon.stderr
    finally:
        market.stop()  # before the emulator, so no price update is cut off mid-call
        emulator.stop()
    assert status == 0, stderr[-2000:]

    conn = sqlite3.connect(db)
    intents = conn.execute(
        "SELECT kind, tier, side, filled FROM order_intent ORDER BY created_at"
    ).fetchall()
    tranches = conn.execute(
        "SELECT number, status FROM strategy_tranche ORDER BY number"
    ).fetchall()
    journal = [row[0] for row in conn.execute("SELECT kind FROM journal ORDER BY id")]
    conn.close()
    filled = [i for i in intents if float(i[3]) > 0]
    buys = [i for i in filled if i[2] == "buy"]
    sells = [(i[0], i[1]) for i in filled if i[2] == "sell"]
    assert len(buys) >= 4, intents
    assert [status for _, status in tranches] == ["filled"] * 4, tranches
    assert sells[:2] == [("take_profit", 1), ("take_profit", 2)], intents
    # The rest goes at the trailing level: sold by the daemon, or by the stop it keeps
    # resting on the venue at that level, whichever sees the fall first; never both.
    assert len(sells) == 3 and sells[2][0] in ("trailing_stop", "exchange_stop"), intents
    for kind in ("plan_started", "tranche_filled", "plan_complete", "take_profit"):
        assert kind in journal, kind
    assert "exchange_stop_placed" in journal
    status_view = json.loads(run_qtbot("status", "--json", cwd=tmp_path, env=env).stdout)
    assert status_view["positions"] == []
