"""Pure risk rules: positions from fills, take-profit tiers, stops, limits, one engine.

No I/O, no clock reads: every function takes what it needs, `now` included. Fractions
inside (0.2 = 20 %), Decimal for every amount and price.
"""

from risk.actions import Action, ActionKind
from risk.engine import RiskDecision, evaluate, evaluate_position
from risk.limits import (
    AccountState,
    EntryAllowance,
    EquityMarks,
    Exposure,
    allowed_entry,
    exposure,
    kill_switch_reasons,
    roll_equity_marks,
)
from risk.marks import PositionMarks
from risk.params import RiskParams
from risk.position import (
    FillRejected,
    FillSide,
    Position,
    PositionFill,
    apply_fill,
    position_from_fills,
)
from risk.take_profit import (
    DEFAULT_TAKE_PROFIT_TIERS,
    TakeProfitTier,
    TierSpecError,
    format_take_profit_tiers,
    parse_take_profit_tiers,
    validate_tiers,
)

__all__ = [
    "DEFAULT_TAKE_PROFIT_TIERS",
    "AccountState",
    "Action",
    "ActionKind",
    "EntryAllowance",
    "EquityMarks",
    "Exposure",
    "FillRejected",
    "FillSide",
    "Position",
    "PositionFill",
    "PositionMarks",
    "RiskDecision",
    "RiskParams",
    "TakeProfitTier",
    "TierSpecError",
    "allowed_entry",
    "apply_fill",
    "evaluate",
    "evaluate_position",
    "exposure",
    "format_take_profit_tiers",
    "kill_switch_reasons",
    "parse_take_profit_tiers",
    "position_from_fills",
    "roll_equity_marks",
    "validate_tiers",
]
