"""Scheduled jobs, each `job(ctx, now)`: risk, stops, panic, entries, signals."""
