"""Unguessable codes: F-codes (priority) and redemption codes (given with every win)."""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O, 1/I


def _random(n: int) -> str:
    """n symbols of 5 uniform random bits each."""
    return "".join(ALPHABET[b & 31] for b in secrets.token_bytes(n))


def new_fcode() -> str:
    """F-XXXX-XXXX-XXXX-XXXX: 80 random bits."""
    raw = _random(16)
    return "F-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def new_redemption_code() -> str:
    """XXXX-XXXX-XXXX: 60 random bits, unique per win (the schema checks)."""
    raw = _random(12)
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normalize(code: str) -> str:
    """Accept codes typed in lower case, with spaces or without dashes."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    if raw.startswith("F") and len(raw) == 17:
        raw = raw[1:]
        return "F-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))
    return code.strip().upper()
