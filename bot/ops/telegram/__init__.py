"""The Telegram command bot (QTBOT_TELEGRAM__ENABLED), on the control API's actions."""
