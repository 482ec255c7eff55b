"""Deterministic client order ids: stable per cause, distinct across causes, valid per venue."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchanges.client_ids import client_order_id, is_valid_client_order_id, make_client_order_id
from exchanges.venues import VENUES, ClientIdRules

VENUE_IDS = [*VENUES, "kraken"]  # kraken: not in the table, gets the strict generic rules
causes = st.lists(st.text(max_size=40), min_size=1, max_size=5).map(tuple)


@given(venue=st.sampled_from(VENUE_IDS), cause=causes)
def test_same_cause_gives_the_same_valid_id(venue: str, cause: tuple[str, ...]) -> None:
    first = client_order_id(venue, *cause)
    assert first == client_order_id(venue, *cause)
    assert is_valid_client_order_id(venue, first)


@given(venue=st.sampled_from(VENUE_IDS), a=causes, b=causes)
def test_different_causes_give_different_ids(
    venue: str, a: tuple[str, ...], b: tuple[str, ...]
) -> None:
    if a != b:
        assert client_order_id(venue, *a) != client_order_id(venue, *b)


def test_part_boundaries_matter() -> None:
    assert client_order_id("binance", "ab", "c") != client_order_id("binance", "a", "bc")


@pytest.mark.parametrize(
    ("venue", "prefix", "length"),
    [
        pytest.param("binance", "qtbot-", 36, id="binance_dash_36"),
        pytest.param("bybit", "qtbot-", 36, id="bybit_dash_36"),
        pytest.param("okx", "qtbot", 32, id="okx_alnum_32"),
    ],
)
def test_ids_fill_each_venue_format(venue: str, prefix: str, length: int) -> None:
    cid = client_order_id(venue, "plan-7", "tranche-2")
    assert cid.startswith(prefix)
    assert len(cid) == length
    assert not cid[len(prefix) :].startswith("-")


def test_okx_ids_have_no_dash_or_underscore() -> None:
    assert client_order_id("okx", "plan-1").isalnum()


@pytest.mark.parametrize(
    ("venue", "cid", "valid"),
    [
        pytest.param("binance", "abc.:/_-XYZ", True, id="binance_punctuation_ok"),
        pytest.param("binance", "x" * 37, False, id="binance_too_long"),
        pytest.param("bybit", "abc/def", False, id="bybit_no_slash"),
        pytest.param("okx", "abc-def", False, id="okx_no_dash"),
        pytest.param("okx", "", False, id="empty"),
    ],
)
def test_validity_follows_venue_rules(venue: str, cid: str, valid: bool) -> None:
    assert is_valid_client_order_id(venue, cid) is valid


def test_an_id_needs_a_cause_and_room() -> None:
    with pytest.raises(ValueError, match="cause"):
        client_order_id("binance")
    with pytest.raises(ValueError, match="too few"):
        make_client_order_id(ClientIdRules(max_length=12, charset="a-z0-9", prefix="qtbot"), "x")
