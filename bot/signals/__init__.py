"""Signals qtbot reads: the Fed regime, the FOMC calendar, liquidations and flushes.

Pure decision code (no clock, no I/O): `regime`, `balance_sheet`, `rate_path`, `calendar`
(`FomcCalendar` methods), `liquidations` (rolling windows), `liquidation_payloads`,
`liquidation_ccxt`, `flush`; parsers for the data files (`fred`, `fed_announcements`,
`liquidation_history`). The I/O edges live in `bot.feeds`: `fred_sources` (`FredSource`,
`SnapshotCache`) and `liquidation_sources` (`LiquidationSink`, ccxt.pro feeds).
Shipped data lives in `bot/data` (see `shipped_data.py` and `bot/data/SOURCES.md`).
"""
