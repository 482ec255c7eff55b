"""A tier sale held by a failed stop shrink must not go out after the position was sold.

Found in review: a tier held (503 on the shrink) was retried in the tick whose trailing stop
sold everything, sized from the book valued before that exit. With other coins on the
account the venue filled it (the user's own coins sold), and the fill history then held a
sale larger than the position, which stopped every later decision for the symbol.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.emulator import EmulatorHandle
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.integration.stop_bench import BTC, StopBench, run

REPLACE = "/api/v3/order/cancelReplace"


def test_a_held_tier_is_not_sent_after_the_exit_sold_the_position(
    tmp_path: Path,
    emulator: EmulatorHandle,  # noqa: F811
) -> None:
    async def scenario(bench: StopBench) -> None:
        await bench.buy("0.1")
        await bench.tick()
        await bench.market("60500")  # tier 1 due
        emulator.add_fault("status", path=REPLACE, status=503, times=1)
        await bench.tick()  # the shrink fails: tier 1 is held
        emulator.set_balances(BTC="0.05")  # coins of the user's own, beside the bot's
        await bench.market("50000")  # under the trailing stop, over the exchange stop
        await bench.tick()
        await bench.tick()

        sells = [o for o in bench.venue_sells() if o["type"] == "MARKET"]
        assert len(sells) == 1, sells  # the trailing exit, nothing after it
        assert bench.orders.position(BTC).size == Decimal(0)
        tier_sells = [
            r for r in bench.orders.repo.all(BTC) if r.kind == "take_profit" and r.filled > 0
        ]
        assert tier_sells == []

    run(tmp_path, emulator, scenario, trailing_arm_after_tiers=0)
