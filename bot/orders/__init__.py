"""Orders as pure data: intents, their status transitions, the protective stop a position needs.

The order manager (`bot.execution.manager`), the only code that sends orders, acts on them:
intent -> deterministic client id -> recorded -> sent -> result recorded -> reconciled.
"""
