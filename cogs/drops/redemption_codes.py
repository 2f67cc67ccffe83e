"""Redemption codes: the unguessable code a fan receives with every win (to redeem the prize)."""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O, 1/I


def random_symbols(n: int) -> str:
    """n symbols of 5 uniform random bits each."""
    return "".join(ALPHABET[b & 31] for b in secrets.token_bytes(n))


def new_redemption_code() -> str:
    """XXXX-XXXX-XXXX: 60 random bits, unique per win (the schema checks)."""
    raw = random_symbols(12)
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))
