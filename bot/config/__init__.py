"""Settings (`QTBOT_*`), validated once and turned into the domain's parameters."""
