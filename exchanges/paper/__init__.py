"""The paper engine: a simulated venue on real or recorded market data."""
