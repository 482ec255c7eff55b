"""Plans listed oldest first by both stores while plans are added and saved: the in-memory
store keeps its order between calls and must drop it whenever a write could move a plan."""

from dataclasses import replace
from datetime import timedelta

from bot.state.plans_repo import MemoryStrategyRepo
from bot.strategy.plans import PlanStatus
from tests.unit.store_contract_kit import NOW, Backend, plan, tranche


def test_the_order_follows_new_plans_moved_times_and_status_changes(backend: Backend) -> None:
    repo = backend.plans
    a, b = plan("p-a", at=NOW), plan("p-b", at=NOW + timedelta(hours=1))
    repo.insert_plan(b, [tranche("p-b", 1)])
    assert repo.plans() == [b]
    repo.insert_plan(a, [tranche("p-a", 1)])
    assert repo.plans() == [a, b]
    # Saved with the same creation time: its place stays, its new status shows.
    done = replace(b, status=PlanStatus.COMPLETE)
    repo.save(done)
    assert repo.plans() == [a, done]
    assert repo.plans(statuses=[PlanStatus.ACTIVE]) == [a]
    # Saved with an earlier creation time: it moves.
    moved = replace(done, created_at=NOW - timedelta(days=1))
    repo.save(moved)
    assert repo.plans() == [moved, a]
    # A plan first written by `save`: listed in its place, and the order kept after it.
    c = plan("p-c", "ETH/USDT", at=NOW + timedelta(minutes=30))
    repo.save(c)
    assert repo.plans() == [moved, a, c]
    assert repo.plans("ETH/USDT") == [c] and repo.plans("BTC/USDT") == [moved, a]
    closed = replace(a, status=PlanStatus.CLOSED)
    repo.save(closed)
    assert repo.plans() == [moved, closed, c]
    assert repo.plans(statuses=[PlanStatus.CLOSED]) == [closed]


def test_the_memory_store_counts_only_writes_that_change_a_plan_or_tranche() -> None:
    """The replay compares `writes` around a job run to tell a run that changed nothing
    (bot.backtest.quiet_runs): a write that changes anything counts, one that changes
    nothing does not."""
    repo = MemoryStrategyRepo()
    a, first = plan("p-a"), tranche("p-a", 1)
    repo.insert_plan(a, [first])
    assert repo.writes == 1
    repo.save(a, [first])  # the entry job saves whole plans, mostly unchanged
    repo.save(replace(a), [replace(first)])  # equal copies
    assert repo.writes == 1
    repo.save(replace(a, status=PlanStatus.COMPLETE))
    assert repo.writes == 2
    repo.save(tranches=[replace(first, quote_amount=first.quote_amount + 1)])
    assert repo.writes == 3
    repo.save(tranches=[tranche("p-a", 2)])  # a new tranche
    assert repo.writes == 4
