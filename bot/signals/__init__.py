"""Signals qtbot reads: the Fed regime, the FOMC calendar, liquidations and flushes.

Pure decision code (no clock, no I/O): `regime`, `balance_sheet`, `rate_path`, `calendar`
(`FomcCalendar` methods), `liquidations` (rolling windows), `liquidation_payloads`,
`liquidation_ccxt`, `flush`. Edges with I/O behind small protocols: `fred_sources`
(`FredSource`, `SnapshotCache`), `liquidation_sources` (`LiquidationSink`, ccxt.pro feeds).
Shipped data lives in `bot/data` (see `shipped_data.py` and `bot/data/SOURCES.md`).
"""
