"""Operations over HTTP: health, Prometheus metrics and a read-only status page."""

from __future__ import annotations

from bot.web.runtime import Operations
from bot.web.series import record_equity
from bot.web.server import http_address, start_http, stop_http
from bot.web.state import OPS_SERVICE, VENUE_PROBE_SECONDS, OpsState, track_jobs, venue_probe

__all__ = [
    "OPS_SERVICE",
    "VENUE_PROBE_SECONDS",
    "Operations",
    "OpsState",
    "http_address",
    "record_equity",
    "start_http",
    "stop_http",
    "track_jobs",
    "venue_probe",
]
