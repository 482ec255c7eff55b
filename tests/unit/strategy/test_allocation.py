"""Budget per symbol: weights, core/alt tags, the alt cap (freed budget left unspent)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.strategy.allocation import allocate, split_tranches, tranche_count
from bot.strategy.params import StrategyParams

PLAYBOOK = (
    ("BTC/USDT", Decimal("0.5")),
    ("ETH/USDT", Decimal("0.3")),
    ("SOL/USDT", Decimal("0.1")),
    ("AAVE/USDT", Decimal("0.1")),
)


@pytest.mark.parametrize(
    ("alt_cap", "expected", "unallocated"),
    [
        pytest.param(
            "0.3",
            {"BTC/USDT": 500, "ETH/USDT": 300, "SOL/USDT": 100, "AAVE/USDT": 100},
            0,
            id="alts_within_cap",
        ),
        pytest.param(
            "0.1",
            {"BTC/USDT": 500, "ETH/USDT": 300, "SOL/USDT": 50, "AAVE/USDT": 50},
            100,
            id="alts_scaled_to_cap_rest_unspent",
        ),
        pytest.param(
            "0",
            {"BTC/USDT": 500, "ETH/USDT": 300, "SOL/USDT": 0, "AAVE/USDT": 0},
            200,
            id="no_alts_allowed",
        ),
    ],
)
def test_alt_weights_are_scaled_down_to_the_cap_and_core_keeps_its_share(
    alt_cap: str, expected: dict[str, int], unallocated: int
) -> None:
    params = StrategyParams(budget=Decimal(1000), allocation=PLAYBOOK, alt_cap=Decimal(alt_cap))
    allocation = allocate(params)
    assert {s.symbol: s.budget for s in allocation.symbols} == {
        k: Decimal(v) for k, v in expected.items()
    }
    assert allocation.unallocated == Decimal(unallocated)
    assert [s.kind for s in allocation.symbols] == ["core", "core", "alt", "alt"]
    sol = allocation.of("SOL/USDT")
    assert sol is not None and sol.scaled is (Decimal(alt_cap) < Decimal("0.2"))


def test_core_set_decides_what_is_an_alt() -> None:
    params = StrategyParams(
        allocation=PLAYBOOK, core_assets=frozenset({"BTC"}), alt_cap=Decimal("0.25")
    )
    budgets = {s.symbol: (s.kind, s.budget) for s in allocate(params).symbols}
    # ETH is now an alt: alts hold 0.5 > 0.25, so each is halved.
    assert budgets["ETH/USDT"] == ("alt", Decimal(150))
    assert budgets["BTC/USDT"] == ("core", Decimal(500))


@given(
    budget=st.decimals(min_value=Decimal(1), max_value=Decimal(10**7), places=2),
    count=st.integers(min_value=1, max_value=50),
)
def test_tranches_sum_exactly_to_the_budget(budget: Decimal, count: int) -> None:
    parts = split_tranches(budget, count)
    assert len(parts) == count and sum(parts) == budget
    assert all(p >= 0 for p in parts) and max(parts) - min(parts) < Decimal("0.0001") * count


@given(
    weights=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=6),
    cap=st.integers(min_value=0, max_value=100),
    core_count=st.integers(min_value=0, max_value=6),
)
def test_allocation_never_exceeds_budget_nor_the_alt_cap(
    weights: list[int], cap: int, core_count: int
) -> None:
    total = sum(weights)
    bases = [f"C{i}" for i in range(len(weights))]
    allocation_pairs = tuple(
        (f"{b}/USDT", Decimal(w) / Decimal(total)) for b, w in zip(bases, weights, strict=True)
    )
    # fix rounding so the weights sum to one exactly
    last_symbol, last_w = allocation_pairs[-1]
    drift = 1 - sum(w for _, w in allocation_pairs)
    allocation_pairs = (*allocation_pairs[:-1], (last_symbol, last_w + drift))
    params = StrategyParams(
        budget=Decimal(1000),
        allocation=allocation_pairs,
        core_assets=frozenset(bases[:core_count]),
        alt_cap=Decimal(cap) / 100,
    )
    allocation = allocate(params)
    spent = sum(s.budget for s in allocation.symbols)
    alts = sum(s.budget for s in allocation.symbols if not s.core)
    assert spent + allocation.unallocated == Decimal(1000)
    assert alts <= Decimal(1000) * params.alt_cap + Decimal("0.000001")
    assert all(s.budget <= Decimal(1000) * s.weight for s in allocation.symbols)


@pytest.mark.parametrize(
    ("budget", "configured", "minimum", "count"),
    [
        pytest.param("1000", 4, "6.25", 4, id="plenty"),
        pytest.param("20", 4, "6.25", 3, id="fewer_larger_tranches"),
        pytest.param("12.5", 4, "6.25", 2, id="exactly_two"),
        pytest.param("6.25", 4, "6.25", 1, id="one_tranche_of_the_whole_budget"),
        pytest.param("6.24", 4, "6.25", 0, id="not_even_one"),
        pytest.param("5", 4, "0", 4, id="no_minimum_known"),
    ],
)
def test_tranche_count_is_the_largest_that_clears_the_minimum(
    budget: str, configured: int, minimum: str, count: int
) -> None:
    assert tranche_count(Decimal(budget), configured, Decimal(minimum)) == count


@given(
    budget=st.decimals(min_value="0.01", max_value="100000", places=2),
    configured=st.integers(min_value=1, max_value=50),
    minimum=st.decimals(min_value="0.01", max_value="1000", places=2),
)
def test_tranche_count_never_leaves_a_tranche_below_the_minimum(
    budget: Decimal, configured: int, minimum: Decimal
) -> None:
    count = tranche_count(budget, configured, minimum)
    assert 0 <= count <= configured
    if count:
        assert min(split_tranches(budget, count)) >= minimum
    if count < configured:  # one more tranche would not clear it
        assert min(split_tranches(budget, count + 1)) < minimum
