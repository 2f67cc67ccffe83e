"""How a drop hands out its slots (`DropMode`) and how a win came about (`WinSource`).

The database stores the values (and checks them: `storage.drops.schema`).
"""

from __future__ import annotations

from enum import StrEnum


class DropMode(StrEnum):
    FLASH = "flash"  # first come, first served among reservers, when the claim button opens
    LOTTERY = "lottery"  # a verifiable draw among reservers at drop time


class WinSource(StrEnum):
    FLASH = "flash"  # a flash claim
    LOTTERY = "lottery"  # drawn in the lottery
    FCODE = "fcode"  # a priority code redeemed before drop time
    WAITLIST = "waitlist"  # promoted from the waiting list after a lapsed win
