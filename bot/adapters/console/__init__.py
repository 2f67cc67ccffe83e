"""The local console: a terminal chat that runs every command and button of the registry."""

from bot.adapters.console.adapter import ConsoleAdapter, OutEvent

__all__ = ["ConsoleAdapter", "OutEvent"]
