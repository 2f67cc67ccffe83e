"""A drop's phase: scheduled → reserving → waiting (window closed) → open (drop time passed),
or cancelled. Read from the drop's times and the injected clock's `now`; nothing stores it.
The time-driven work at each phase change is in `cogs.drops.phase_runner`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from storage.drops.drops import DropRow


class DropPhase(StrEnum):
    SCHEDULED = "scheduled"  # reservations not open yet
    RESERVING = "reserving"  # the reservation window is open
    WAITING = "waiting"  # the window closed, drop time not reached
    OPEN = "open"  # drop time passed: claims open, or the draw happened
    CANCELLED = "cancelled"


# A reservation may still be withdrawn in these phases.
WITHDRAWABLE = (DropPhase.SCHEDULED, DropPhase.RESERVING)


def phase(drop: DropRow, now: datetime) -> DropPhase:
    if drop.cancelled_at is not None:
        return DropPhase.CANCELLED
    if now < drop.opens_at:
        return DropPhase.SCHEDULED
    if now < drop.closes_at:
        return DropPhase.RESERVING
    if now < drop.drop_at:
        return DropPhase.WAITING
    return DropPhase.OPEN
