"""How a webhook delivery is signed, and how a receiver checks it (the README's recipe).

The header `Fanloop-Signature: t=<unix seconds>,v1=<hex>` carries the time of the attempt and
`HMAC-SHA256(secret, "<t>." + body)` in hex, as Stripe does: the time is signed with the body,
so a receiver that refuses old times (`TOLERANCE`) refuses replays of captured deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Fanloop-Signature"
TOLERANCE = 300  # seconds a receiver should accept between the signed time and its clock
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, value: str, body: bytes, now: int, tolerance: int = TOLERANCE) -> bool:
    """Whether a `Fanloop-Signature` header value signs `body` with `secret`, recently enough."""
    parts: dict[str, list[str]] = {}
    for item in value.split(","):
        k, _, v = item.strip().partition("=")
        parts.setdefault(k, []).append(v)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))
