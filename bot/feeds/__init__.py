"""Where the signals' inputs come from: FRED downloads and cache, liquidation feeds."""
