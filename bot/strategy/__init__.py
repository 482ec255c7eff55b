"""The entry strategy: staggered tranches per symbol, gated by regime, FOMC, anti-chase,
alt lag and risk, accelerated by liquidation flushes, restarted in cycles.

Pure: `allocation`, `planner`, `gates`, `cycles`, `status.plan_progress`. Edges: `job`
(the `entry_job`), `execution` (orders of a tranche), `store` (tables and repository).
This package root stays light (no job, no order manager) so the store migration can import
`create_strategy_tables` from it; import `entry_job` from `bot.strategy.job`.
"""

from bot.strategy.allocation import Allocation, SymbolBudget, allocate, split_tranches
from bot.strategy.inputs import (
    FlushView,
    MemoryPriceHistory,
    PriceHistory,
    RegimeView,
    Signals,
    StaticSignals,
)
from bot.strategy.params import (
    AntiChaseAction,
    BudgetMode,
    StrategyParams,
    strategy_params_from_settings,
)
from bot.strategy.plans import Plan, PlanStatus, Tranche, TrancheStatus, tranche_cause
from bot.strategy.status import PlanProgress, plan_progress, plan_status
from bot.strategy.store import STRATEGY_TABLES, StrategyRepo, create_strategy_tables

__all__ = [
    "STRATEGY_TABLES",
    "Allocation",
    "AntiChaseAction",
    "BudgetMode",
    "FlushView",
    "MemoryPriceHistory",
    "Plan",
    "PlanProgress",
    "PlanStatus",
    "PriceHistory",
    "RegimeView",
    "Signals",
    "StaticSignals",
    "StrategyParams",
    "StrategyRepo",
    "SymbolBudget",
    "Tranche",
    "TrancheStatus",
    "allocate",
    "create_strategy_tables",
    "plan_progress",
    "plan_status",
    "split_tranches",
    "strategy_params_from_settings",
    "tranche_cause",
]
