"""The order manager (`bot.execution.manager`): the only code that sends orders.

Intent -> deterministic client id -> recorded -> sent -> result recorded -> reconciled.
"""
