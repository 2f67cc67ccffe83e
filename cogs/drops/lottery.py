"""The verifiable draw: a pure function of (seed, entrants) that anyone can recompute.

- When reservations open, fanloop publishes `commitment = sha256(seed)` (seed: 32 random bytes).
- At the draw it publishes the seed (hex) and `entrants_hash = sha256(lines)`, where `lines` is
  the entrant list sorted by account id, one `account_id,units` line each, each ending in "\\n".
- Each entrant's draw key is `sha256(seed + b":" + str(account_id).encode())`; entrants sorted by
  key (then by account id) are the draw order. Walking that order, each entrant wins
  min(units, slots left) until the slots run out; the next ones form the waiting list in order.

The entrant file (`/drop entrants`) lists `account_id,units,handle` lines. The account id means
nothing to a fan, so each line carries a **handle**: the first 12 hex digits of the entrant's
draw key. A fan sees their own handle in `/drop mine` and finds their line by it; anyone can
recompute every handle from the seed and the account ids, and sorting by handle gives the draw
order. The entrant hash stays over the `account_id,units` lines.

`fanloop verify-draw` and the few lines of Python in docs/drops.md recompute exactly this.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.drops.drops import DropRow

Entrant = tuple[int, int]  # (account id, units asked for)


def new_seed() -> str:
    return secrets.token_hex(32)


def commitment(seed_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def entrant_lines(entrants: Iterable[Entrant]) -> str:
    return "".join(f"{a},{u}\n" for a, u in sorted(entrants))


def entrants_hash(entrants: Iterable[Entrant]) -> str:
    return hashlib.sha256(entrant_lines(entrants).encode("ascii")).hexdigest()


def draw_key(seed: bytes, account_id: int) -> bytes:
    return hashlib.sha256(seed + b":" + str(account_id).encode("ascii")).digest()


HANDLE_DIGITS = 12
ENTRANT_HEADER = "account_id,units,handle\n"


def handle(seed_hex: str, account_id: int) -> str:
    """An entrant's pseudonymous handle in the published list: their draw key's first digits."""
    return draw_key(bytes.fromhex(seed_hex), account_id).hex()[:HANDLE_DIGITS]


def entrant_file(seed_hex: str, entrants: Iterable[Entrant]) -> str:
    """The published entrant list: by account id, each line with the entrant's handle."""
    return ENTRANT_HEADER + "".join(f"{a},{u},{handle(seed_hex, a)}\n" for a, u in sorted(entrants))


def draw_order(seed_hex: str, entrants: Iterable[Entrant]) -> list[Entrant]:
    seed = bytes.fromhex(seed_hex)
    return sorted(entrants, key=lambda e: (draw_key(seed, e[0]), e[0]))


@dataclass(frozen=True)
class Draw:
    winners: list[Entrant]  # (account, units won), in draw order
    waiting: list[Entrant]  # (account, units asked for), in draw order


def draw(seed_hex: str, entrants: Iterable[Entrant], slots: int, waitlist: int) -> Draw:
    """Winners for `slots` units and a waiting list of at most `waitlist` entrants."""
    winners: list[Entrant] = []
    waiting: list[Entrant] = []
    left = slots
    for account, units in draw_order(seed_hex, entrants):
        if left > 0:
            take = min(units, left)
            winners.append((account, take))
            left -= take
        elif len(waiting) < waitlist:
            waiting.append((account, units))
        else:
            break
    return Draw(winners, waiting)


def parse_entrants(text: str) -> list[Entrant]:
    """Read `account_id,units[,handle]` lines (a header line and blank lines are skipped)."""
    return [(a, u) for a, u, _ in parse_entrant_file(text)]


def parse_entrant_file(text: str) -> list[tuple[int, int, str | None]]:
    """The lines of an entrant file: account id, units, and the handle when the line has one."""
    out: list[tuple[int, int, str | None]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or not line[0].isdigit():
            continue
        account, units, shown = ([*line.split(","), "", ""])[:3]
        out.append((int(account), int(units or 1), shown.strip() or None))
    return out


def revealed_seed(drop: DropRow) -> str | None:
    """The drop's seed once it may be shown: it stays secret until the draw."""
    return drop.seed if drop.drawn_at is not None else None
