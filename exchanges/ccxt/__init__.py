"""Real venues (testnet or live) through ccxt."""
