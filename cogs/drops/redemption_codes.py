"""Redemption codes: the unguessable code a fan receives with every win (to redeem the prize)."""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O, 1/I
# Each random byte to one symbol by its low 5 bits (uniform: 256 is a multiple of 32).
_SYMBOL_OF_BYTE = bytes(ord(ALPHABET[b & 31]) for b in range(256))


def random_symbols(n: int) -> str:
    """n symbols of 5 uniform random bits each."""
    return secrets.token_bytes(n).translate(_SYMBOL_OF_BYTE).decode("ascii")


def new_redemption_code() -> str:
    """XXXX-XXXX-XXXX: 60 random bits, unique per win (the schema checks)."""
    raw = random_symbols(12)
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
