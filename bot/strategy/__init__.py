"""The entry strategy as pure planning: staggered tranches per symbol, gated by regime, FOMC,
anti-chase, alt lag and risk, accelerated by liquidation flushes, restarted in cycles.

No I/O and no clock here: the entry job (`bot.jobs.entry`) reads the world and acts.
"""
