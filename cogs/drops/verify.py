"""Check a lottery draw: the seed matches the commitment, the entrant list matches its hash,
and the winners are the ones the draw function gives (what `fanloop verify-draw` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from cogs.drops import lottery
from cogs.drops.modes import WinSource
from storage.drops.drops import DropsRepo
from storage.drops.reservations import ReservationsRepo
from storage.drops.wins import WinsRepo


@dataclass
class DrawCheck:
    commitment_ok: bool | None
    entrants_ok: bool | None
    winners: list[lottery.Entrant]
    waiting: list[lottery.Entrant]
    stored_ok: bool | None = None  # the database's winners agree with the recomputation
    problems: list[str] = field(default_factory=list)
    handles_ok: bool | None = None  # the entrant file's handles are the ones the seed gives
    seed: str = ""

    @property
    def ok(self) -> bool:
        checks = (self.commitment_ok, self.entrants_ok, self.stored_ok, self.handles_ok)
        return all(v is not False for v in checks)


def check_draw(
    seed: str,
    entrants: list[lottery.Entrant],
    slots: int,
    *,
    commitment: str | None = None,
    entrants_hash: str | None = None,
    waitlist: int = 0,
    handles: dict[int, str] | None = None,
) -> DrawCheck:
    """`handles` (account id -> handle, as the entrant file lists them) are checked too."""
    result = lottery.draw(seed, entrants, slots, waitlist)
    check = DrawCheck(
        commitment_ok=None if commitment is None else lottery.commitment(seed) == commitment,
        entrants_ok=None
        if entrants_hash is None
        else lottery.entrants_hash(entrants) == entrants_hash,
        winners=result.winners,
        waiting=result.waiting,
        seed=seed,
    )
    if handles:
        check.handles_ok = all(lottery.handle(seed, a) == h for a, h in handles.items())
        if not check.handles_ok:
            check.problems.append("an entrant's handle is not the one the seed gives")
    if check.commitment_ok is False:
        check.problems.append("sha256(seed) does not match the commitment")
    if check.entrants_ok is False:
        check.problems.append("the entrant list does not match its published hash")
    return check


async def check_stored_draw(engine: AsyncEngine, drop_id: int) -> DrawCheck:
    """Recompute a drop's draw from the database and compare with the stored winners."""
    drops, wins = DropsRepo(engine), WinsRepo(engine)
    drop = await drops.get(drop_id)
    if drop is None or drop.drawn_at is None or drop.drawn_slots is None:
        raise LookupError(f"drop {drop_id} has no draw")
    entrants = await ReservationsRepo(engine).draw_entrants(
        drop_id, excluded_source=WinSource.FCODE
    )
    check = check_draw(
        drop.seed,
        entrants,
        drop.drawn_slots,
        commitment=drop.commitment,
        entrants_hash=drop.entrants_hash,
        waitlist=drop.waitlist,
    )
    rows = await wins.export(drop_id)
    stored = {r.account_id for r in rows}
    lottery_wins = {r.account_id for r in rows if r.source == WinSource.LOTTERY}
    lapsed = await wins.lapsed_accounts(drop_id)
    drawn = {a for a, _ in check.winners}
    missing = drawn - stored - lapsed
    extra = lottery_wins - drawn
    check.stored_ok = not missing and not extra
    if missing:
        check.problems.append(f"{len(missing)} drawn winners are not in the database")
    if extra:
        check.problems.append(f"{len(extra)} lottery wins in the database were not drawn")
    return check
