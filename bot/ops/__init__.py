"""Read models for people: `qtbot status`, the HTTP page and API, notifications."""
