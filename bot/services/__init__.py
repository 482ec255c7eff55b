"""What every job is handed: the context (settings, store, clock, services)."""
