"""Integration tests run real clients over loopback HTTP against the exchange emulator."""

from tests.emulator.fixtures import emulator

__all__ = ["emulator"]
