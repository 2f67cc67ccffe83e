"""F-codes: single-use priority codes that guarantee their holder a slot in one drop."""

from __future__ import annotations

from enum import StrEnum

from cogs.drops.redemption_codes import random_symbols


class FcodeRedemption(StrEnum):
    """What redeeming an F-code did (the values `storage.drops.fcodes` answers with)."""

    WON = "won"  # the code's slot is now the account's win
    AGAIN = "again"  # this account already redeemed it
    USED = "used"  # someone else redeemed it
    NOT_YOURS = "not_yours"  # it was given to another account
    ALREADY_WON = "already_won"  # the account holds a win without it
    FULL = "full"  # no slot left


REFUSED = (
    FcodeRedemption.USED,
    FcodeRedemption.NOT_YOURS,
    FcodeRedemption.ALREADY_WON,
    FcodeRedemption.FULL,
)


def new_fcode() -> str:
    """F-XXXX-XXXX-XXXX-XXXX: 80 random bits."""
    raw = random_symbols(16)
    return "F-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_fcode(code: str) -> str:
    """Accept codes typed in lower case, with spaces or without dashes."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    if raw.startswith("F") and len(raw) == 17:
        raw = raw[1:]
        return "F-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))
    return code.strip().upper()
