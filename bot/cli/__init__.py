"""The `qtbot` command line: parse, call, print."""
