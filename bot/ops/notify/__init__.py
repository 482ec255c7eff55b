"""Notifications: journal events -> rate-limited Apprise messages, off the trading path."""
