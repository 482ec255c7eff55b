"""Notification rate limits: per kind, global, sliding window, critical bypass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ops.notify.rate_limit import RateLimiter, RateLimits


def test_per_kind_budget_refills_as_the_window_slides() -> None:
    limiter = RateLimiter(RateLimits(per_kind=2, total=100, window_seconds=60))
    assert [limiter.allow("fill", t) for t in (0, 1, 2)] == [True, True, False]
    assert not limiter.allow("fill", 59.9)
    assert limiter.allow("fill", 60.0)  # the message sent at 0 has left the window
    assert limiter.take_suppressed("fill") == 2 and limiter.take_suppressed("fill") == 0


def test_global_budget_caps_all_kinds_but_critical_may_pass() -> None:
    limiter = RateLimiter(RateLimits(per_kind=10, total=2, window_seconds=60))
    assert limiter.allow("fill", 0) and limiter.allow("error", 1)
    assert not limiter.allow("take_profit", 2)
    assert limiter.allow("stop_loss", 3, bypass_total=True)


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({"per_kind": 0}, id="zero_per_kind"),
        pytest.param({"total": 0}, id="zero_total"),
        pytest.param({"window_seconds": 0}, id="zero_window"),
    ],
)
def test_limits_must_be_positive(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimits(**limits)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=30), min_size=1, max_size=80),
    kinds=st.lists(st.sampled_from(["fill", "error", "stop_loss"]), min_size=80, max_size=80),
)
def test_no_window_ever_holds_more_than_the_budgets(gaps: list[float], kinds: list[str]) -> None:
    limits = RateLimits(per_kind=3, total=5, window_seconds=60)
    limiter = RateLimiter(limits)
    now, sent = 0.0, []
    for gap, kind in zip(gaps, kinds, strict=False):
        now += gap
        if limiter.allow(kind, now):
            sent.append((now, kind))
    for start, _ in sent:
        window = [k for t, k in sent if start <= t < start + limits.window_seconds]
        assert len(window) <= limits.total
        for kind in set(window):
            assert window.count(kind) <= limits.per_kind
