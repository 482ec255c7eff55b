"""Both stores keep a refused intent's refusal class and a resting order's last move the same
way (schema 9): what the order manager's retry and the stop's move limit read."""

from __future__ import annotations

from bot.orders.intents import IntentStatus, Refusal
from exchanges.base import OrderType, Side
from tests.unit.store_contract_kit import LATER, NOW, Backend, intent, report

S = IntentStatus


def test_a_refusal_class_is_kept_and_only_on_rejected_intents(backend: Backend) -> None:
    repo = backend.orders
    repo.insert_intent("qtb-1", intent(), NOW)
    repo.insert_intent("qtb-2", intent(cause="c2"), NOW)

    funds = repo.update("qtb-1", LATER, S.REJECTED, error="short", refusal=Refusal.FUNDS)
    final = repo.update("qtb-2", LATER, S.REJECTED, error="filter")

    assert (funds.refusal, funds.retry_when_free) == (Refusal.FUNDS, True)
    assert (final.refusal, final.retry_when_free) == (Refusal.FINAL, False)
    assert repo.get("qtb-1") == funds and repo.get("qtb-2") == final
    repo.insert_intent("qtb-3", intent(cause="c3"), NOW)
    assert repo.update("qtb-3", LATER, S.OPEN, refusal=Refusal.FUNDS).refusal is None


def test_lookups_change_updated_at_but_not_the_last_move(backend: Backend) -> None:
    repo = backend.orders
    stop = intent(type=OrderType.STOP_LIMIT, side=Side.SELL, trigger_price=None)
    repo.insert_intent("qtb-s", stop, NOW)
    placed = repo.update("qtb-s", NOW, S.OPEN, order=report("qtb-s", "0"), sent=True)

    looked_up = repo.update("qtb-s", LATER, S.OPEN, order=report("qtb-s", "0"))

    assert placed.last_moved == NOW and placed.moved_at is None
    assert looked_up.updated_at == LATER and looked_up.last_moved == NOW
    moved = repo.amend("qtb-s", LATER, stop)
    assert moved.moved_at == LATER and moved.last_moved == LATER
