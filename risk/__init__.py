"""Pure risk rules: positions from fills, take-profit tiers, stops, limits, one engine.

No I/O, no clock reads: every function takes what it needs, `now` included. Fractions
inside (0.2 = 20 %), Decimal for every amount and price.
"""
