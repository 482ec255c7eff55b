"""Backtests and the thesis report: the daemon's own jobs replayed over candles.

- `runner.run_backtest(BacktestConfig) -> BacktestResult`: the replay (`replay`), on the real
  paper engine, order manager, risk job and entry job (`world`), measured (`results`,
  `metrics`) and reported (`report`, `export`, `plot`).
- `thesis.thesis_report`: what crypto did after every Fed pivot the classifier finds.

The bodies of `qtbot backtest` and `qtbot thesis` are in `bot.cli.backtest`.

Import from the submodules; this package root stays empty so importing it costs nothing.
"""
