"""What every job receives: settings, store, clock and the adapters, built once by the daemon."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config.settings import Settings
from bot.services.clock import Clock
from bot.state.store import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    clock: Clock
    started_at: datetime
    name: str = "daemon"
    # Filled by later stages of composition (exchange adapter, order manager, signals).
    services: dict[str, Any] = field(default_factory=dict)
