"""Parameter studies over the backtest: sweeps, walk-forward validation, robustness."""
