"""The whole playbook in one real `qtbot run` (paper mode, accelerated clock, loopback market):
four tranches build the position, tier 1 and tier 2 take profit, the trailing stop sells the rest.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.chaos.campaign import MarketDriver
from tests.conftest import qtbot_cmd, run_qtbot, subprocess_env
from tests.emulator.client import start_emulator


def test_paper_run_builds_tranches_takes_tiers_and_trails_the_rest(tmp_path: Path) -> None:
    emulator = start_emulator()
    driver = MarketDriver(emulator, time.monotonic(), seed=3)
    driver.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QTBOT_")}
    env.update(subprocess_env())
    env.update(
        {
            "QTBOT_EXCHANGE__REST_URL": emulator.url,
            "QTBOT_SIGNALS__REGIME_OVERRIDE": "easing",
            "QTBOT_DAEMON__CLOCK_SPEED": "3000",
            "QTBOT_DAEMON__CLOCK_START": datetime.now(UTC).isoformat(),
            "QTBOT_STRATEGY__ALLOCATION": "BTC/USDT:100",
            "QTBOT_STRATEGY__ENTRY_WINDOW_DAYS": "0.15",  # a tranche every 1.4 s of wall time
            # Market tranches: limit ones may miss the 10 s chop on a loaded machine (their
            # pricing is covered by the strategy tests).
            "QTBOT_STRATEGY__ORDER_TYPE": "market",
            "QTBOT_STRATEGY__ENTRY_CHECK_MINUTES": "20",
            "QTBOT_STRATEGY__FOMC_BLACKOUT_HOURS": "0",
            "QTBOT_STRATEGY__ANTI_CHASE_PCT": "off",
            "QTBOT_RISK__CHECK_SECONDS": "600",
            "QTBOT_RISK__TRAILING_STOP_PCT": "10",
            "QTBOT_LOG__FORMAT": "json",
        }
    )
    proc = subprocess.Popen(
        qtbot_cmd("run"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(31)  # chop 0-10 s, rally to +60 % by 20 s, hold, fall to +20 % by 30 s
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        driver.halt.set()
        if proc.poll() is None:
            proc.kill()
        emulator.stop()
    assert proc.returncode == 0, stderr[-2000:]

    db = sqlite3.connect(tmp_path / "data" / "qtbot.sqlite")
    intents = db.execute(
        "SELECT kind, tier, side, filled FROM order_intent ORDER BY created_at"
    ).fetchall()
    tranches = db.execute("SELECT number, status FROM strategy_tranche ORDER BY number").fetchall()
    journal = [row[0] for row in db.execute("SELECT kind FROM journal ORDER BY id")]
    db.close()
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
    status = json.loads(run_qtbot("status", "--json", cwd=tmp_path, env=env).stdout)
    assert status["positions"] == []
