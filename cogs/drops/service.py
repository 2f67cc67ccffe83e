"""The drops domain: create and edit drops, reserve, claim (through the claim engine), confirm,
F-codes.

Every rule reads the injected clock. Bad input raises a `UserError` with a `drop.*` key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock, local_time
from bot.core.errors import Term, UserError
from bot.core.i18n import Translator
from bot.core.participation import Contribution, ScoreProvider
from bot.core.services import ServiceRegistry
from cogs.drops import eligibility, lottery
from cogs.drops.claims import MAX_BATCH, ClaimEngine, ClaimResult, ClaimStatus
from cogs.drops.fcodes import REFUSED, FcodeRedemption, new_fcode, normalize_fcode
from cogs.drops.modes import DropMode, WinSource
from cogs.drops.notices import WinNotices
from cogs.drops.phases import WITHDRAWABLE, DropPhase, phase
from cogs.drops.redemption_codes import new_redemption_code
from cogs.drops.reservation_batcher import ReservationBatcher
from storage.core.identity import IdentityRepo
from storage.drops.claims import ClaimStore
from storage.drops.drops import DropCounts, DropRow, DropsRepo
from storage.drops.reservations import ReservationsRepo
from storage.drops.wins import WinRow, WinsRepo

MAX_PER_ACCOUNT = 10
MAX_QUOTA = 10_000_000
MIN_CONFIRM = timedelta(minutes=1)
MAX_CONFIRM = timedelta(days=30)
PAST_GRACE = timedelta(minutes=1)
# A drop is planned at most this far ahead: further is a typo (year 9999), not a plan.
MAX_AHEAD_YEARS = 3
MAX_AHEAD = timedelta(days=365 * MAX_AHEAD_YEARS + 1)
EDITABLE = (
    "name",
    "description",
    "quota",
    "mode",
    "per_account",
    "waitlist",
    "opens_at",
    "closes_at",
    "drop_at",
    "confirm_seconds",
    "roles",
    "min_days",
    "min_score",
    "tiers",
)
# What may still change once reservations are open: nothing fans reserved under (what, how
# many, when, how it is decided, who may take part) - only how it is described and what
# happens after the drop to wins and to the queue behind them. The confirmation window and the
# waiting list's size stay editable until drop time, before any win or waiting place exists.
OPEN_EDITABLE = ("description", "confirm_seconds", "waitlist")
UNTIL_DROP = ("confirm_seconds", "waitlist")
# The /drop edit parameter each column is set by (named in refusals).
EDIT_PARAMS = {
    "name": "name",
    "description": "description",
    "quota": "quota",
    "mode": "mode",
    "per_account": "limit",
    "waitlist": "waitlist",
    "opens_at": "opens",
    "closes_at": "closes",
    "drop_at": "when",
    "confirm_seconds": "confirm",
    "roles": "roles",
    "min_days": "min_days",
    "min_score": "min_score",
    "tiers": "tiers",
}


def edit_param(column: str) -> Term:
    """The /drop edit parameter that sets `column`, shown in the reader's language."""
    name = EDIT_PARAMS.get(column, column)
    return Term(name, f"discord.option.drop.edit.{name}")


@dataclass(frozen=True)
class Recipient:
    """Where a claimer reads private messages: their platform, user id there, language."""

    platform: str
    target: str
    locale: str


@dataclass(frozen=True)
class Claimed:
    drop: DropRow
    result: ClaimResult
    receipt_recorded: bool = False
    sent: bool = False  # the win's code went out privately too (stored with the win)


@dataclass(frozen=True)
class FcodeOutcome:
    drop: DropRow
    win: WinRow
    again: bool


def split_list(text: str | None) -> list[str] | None:
    """ "VIP, Tester" -> ["VIP", "Tester"]; empty -> None."""
    if not text:
        return None
    items = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
    return items or None


class DropService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        identity: IdentityRepo,
        services: ServiceRegistry,
        *,
        tz_of: Callable[[int], Awaitable[ZoneInfo]] | None = None,
        translator: Translator | None = None,
        on_messages: Callable[[], None] | None = None,
        on_claim: Callable[[str], None] | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.drops = DropsRepo(engine)
        self.reservations = ReservationsRepo(engine)
        self.reserving = ReservationBatcher(self.reservations, clock.now)
        self.tz_of = tz_of
        # Runs the drop phases now (set by the cog), so a drop that opens at once is announced.
        self.kick: Callable[[], Awaitable[None]] | None = None
        self.wins = WinsRepo(engine)
        self.clock = clock
        self.identity = identity
        self.services = services
        # Renders the private message with a winner's code (none without a translator).
        self.translator = translator
        # Told each flash claim's answer (`ClaimStatus` value), for the metrics.
        self.on_claim = on_claim
        self._notices: dict[int, WinNotices] = {}
        self.claims = ClaimEngine(
            ClaimStore(engine),
            clock,
            new_redemption_code,
            max_batch=max_batch,
            on_commit=on_messages,
        )

    async def when(self, drop: DropRow, at: datetime) -> str:
        """A time for a message, in the community's time zone."""
        tz = await self.tz_of(drop.community_id) if self.tz_of else ZoneInfo("UTC")
        return local_time(at, tz)

    @property
    def scores(self) -> ScoreProvider | None:
        return self.services.find(ScoreProvider)  # type: ignore[type-abstract]

    # -- drops ---------------------------------------------------------------------------------

    async def get(self, community_id: int, drop_id: int) -> DropRow:
        drop = await self.drops.get(drop_id, community_id)
        if drop is None:
            raise UserError("drop.error.unknown", id=drop_id)
        return drop

    def validate(self, v: dict[str, Any], now: datetime, *, new: bool) -> None:
        if not 1 <= int(v["quota"]) <= MAX_QUOTA:
            raise UserError("drop.error.quota", max=MAX_QUOTA)
        if not 1 <= int(v["per_account"]) <= MAX_PER_ACCOUNT:
            raise UserError("drop.error.per_account", max=MAX_PER_ACCOUNT)
        if int(v["waitlist"]) < 0 or int(v["min_days"]) < 0 or int(v["min_score"]) < 0:
            raise UserError("drop.error.negative")
        if v["drop_at"] <= now:
            raise UserError("drop.error.past")
        if v["drop_at"] > now + MAX_AHEAD:
            raise UserError("drop.error.too_far", years=MAX_AHEAD_YEARS)
        if new and v["opens_at"] < now - PAST_GRACE:
            raise UserError("drop.error.past")
        if not v["opens_at"] < v["closes_at"] <= v["drop_at"]:
            raise UserError("drop.error.window")
        confirm = timedelta(seconds=int(v["confirm_seconds"]))
        if not MIN_CONFIRM <= confirm <= MAX_CONFIRM:
            raise UserError("drop.error.confirm")

    async def create(
        self,
        community_id: int,
        actor: int,
        *,
        name: str,
        quota: int,
        drop_at: datetime,
        mode: str = DropMode.FLASH,
        opens_at: datetime | None = None,
        closes_at: datetime | None = None,
        confirm: timedelta = timedelta(days=2),
        per_account: int = 1,
        waitlist: int | None = None,
        roles: Sequence[str] | None = None,
        min_days: int = 0,
        min_score: int = 0,
        tiers: Sequence[str] | None = None,
        description: str = "",
    ) -> DropRow:
        now = self.clock.now()
        opens = opens_at or now
        seed = lottery.new_seed()
        values: dict[str, Any] = {
            "community_id": community_id,
            "created_by": actor,
            "name": name,
            "description": description,
            "mode": mode,
            "quota": quota,
            "per_account": per_account,
            "waitlist": quota if waitlist is None else waitlist,
            "opens_at": opens,
            "closes_at": closes_at or drop_at,
            "drop_at": drop_at,
            "confirm_seconds": int(confirm.total_seconds()),
            "roles": list(roles) if roles else None,
            "min_days": min_days,
            "min_score": min_score,
            "tiers": list(tiers) if tiers else None,
            "seed": seed,
            "commitment": lottery.commitment(seed),
        }
        self.validate(values, now, new=True)
        return await self.drops.create(values, now)

    async def edit(self, community_id: int, drop_id: int, changes: dict[str, Any]) -> DropRow:
        now = self.clock.now()
        drop = await self.get(community_id, drop_id)
        if drop.cancelled_at is not None:
            raise UserError("drop.error.cancelled", name=drop.name)
        changes = {k: v for k, v in changes.items() if k in EDITABLE}
        if not changes:
            raise UserError("drop.error.nothing_to_edit")
        opened = drop.opened_at is not None or now >= drop.opens_at
        if opened:
            self._check_open_edit(drop, changes, now)
        merged = {k: getattr(drop, k) for k in EDITABLE} | changes
        if opened:
            # The times are not changing: a drop time now in the past is no error here.
            self._check_open_values(merged)
        else:
            self.validate(merged, now, new="opens_at" in changes)
        held = (await self.drops.counts(drop_id)).taken + await self.wins.unused_fcodes(drop_id)
        if int(merged["quota"]) < held:
            raise UserError("drop.error.quota_below_codes", held=held)
        row = await self.drops.update(drop_id, changes, now)
        if row is None:
            raise UserError("drop.error.quota_below_codes", held=held)
        self.claims.invalidate(drop_id)
        return row

    def _check_open_edit(self, drop: DropRow, changes: dict[str, Any], now: datetime) -> None:
        """Refuse what may not change once reservations are open (`OPEN_EDITABLE`)."""
        structural = [k for k in EDITABLE if k in changes and k not in OPEN_EDITABLE]
        if structural:
            raise UserError(
                "drop.error.structural", name=drop.name, field=edit_param(structural[0])
            )
        late = [k for k in UNTIL_DROP if k in changes]
        if late and (now >= drop.drop_at or drop.started_at is not None):
            raise UserError("drop.error.edit_after_drop", name=drop.name, field=edit_param(late[0]))

    def _check_open_values(self, v: dict[str, Any]) -> None:
        if int(v["waitlist"]) < 0:
            raise UserError("drop.error.negative")
        confirm = timedelta(seconds=int(v["confirm_seconds"]))
        if not MIN_CONFIRM <= confirm <= MAX_CONFIRM:
            raise UserError("drop.error.confirm")

    async def cancel(self, community_id: int, drop_id: int) -> DropRow:
        now = self.clock.now()
        drop = await self.get(community_id, drop_id)
        if drop.cancelled_at is not None:
            return drop
        if now >= drop.drop_at or drop.started_at is not None:
            raise UserError("drop.error.started", name=drop.name)
        await self.drops.mark(drop_id, "cancelled_at", now)
        self.claims.invalidate(drop_id)
        return await self.get(community_id, drop_id)

    # -- fans ----------------------------------------------------------------------------------

    async def reserve(
        self,
        community_id: int,
        drop_id: int,
        account_id: int,
        units: int | None,
        roles: Sequence[str] | None,
    ) -> tuple[DropRow, bool, int]:
        """(drop, newly reserved?, units reserved). Reserving again answers the same."""
        now = self.clock.now()
        drop = await self.get(community_id, drop_id)
        existing = await self.reservations.reservation(drop_id, account_id)
        if existing is not None:
            return drop, False, existing[0]
        now_phase = phase(drop, now)
        if now_phase == DropPhase.CANCELLED:
            raise UserError("drop.error.cancelled", name=drop.name)
        if now_phase == DropPhase.SCHEDULED:
            raise UserError(
                "drop.error.not_open_yet", name=drop.name, at=await self.when(drop, drop.opens_at)
            )
        if now_phase != DropPhase.RESERVING:
            raise UserError("drop.error.reservations_closed", name=drop.name)
        wanted = units or 1
        if not 1 <= wanted <= drop.per_account:
            raise UserError("drop.error.units", max=drop.per_account)
        verdict = await eligibility.check(
            drop, community_id, account_id, roles, now, self.identity, self.scores
        )
        if not verdict.ok:
            raise UserError(verdict.key, **(verdict.params or {}))
        created = await self.reserving.reserve(drop_id, account_id, wanted)
        if not created:  # a concurrent press won the race: answer with what is stored
            stored = await self.reservations.reservation(drop_id, account_id)
            wanted = stored[0] if stored else wanted
        return drop, created, wanted

    async def unreserve(self, community_id: int, drop_id: int, account_id: int) -> DropRow:
        now = self.clock.now()
        drop = await self.get(community_id, drop_id)
        if phase(drop, now) not in WITHDRAWABLE:
            raise UserError("drop.error.reservations_closed", name=drop.name)
        if not await self.reservations.unreserve(drop_id, account_id):
            raise UserError("drop.error.not_reserved", name=drop.name)
        return drop

    async def claim(
        self, community_id: int, drop_id: int, account_id: int, roles: Sequence[str] | None
    ) -> tuple[DropRow, ClaimResult]:
        out = await self.claim_for(community_id, drop_id, account_id, roles)
        return out.drop, out.result

    async def claim_for(
        self,
        community_id: int,
        drop_id: int,
        account_id: int,
        roles: Sequence[str] | None,
        *,
        recipient: Recipient | None = None,
        receipt: tuple[str, str] | None = None,
    ) -> Claimed:
        """Claim; a fresh win's code also goes to `recipient` privately, through the outbox, in
        the win's own transaction. `receipt` (platform, event id) is stored with the claim when
        it is decided in a batch (`Claimed.receipt_recorded`)."""
        now = self.clock.now()
        drop = await self.get(community_id, drop_id)
        if drop.cancelled_at is not None:
            raise UserError("drop.error.cancelled", name=drop.name)
        if drop.mode != DropMode.FLASH:
            raise UserError("drop.error.lottery_no_claim", name=drop.name)
        if now < drop.drop_at:
            raise UserError(
                "drop.error.claim_early", name=drop.name, at=await self.when(drop, drop.drop_at)
            )
        if drop.roles and roles is not None:
            wanted = {r.casefold() for r in drop.roles}
            if not wanted & {r.casefold() for r in roles}:
                held = await self.wins.win_of(drop_id, account_id)
                if held is None:
                    if self.on_claim is not None:
                        self.on_claim(ClaimStatus.NOT_ELIGIBLE.value)
                    return Claimed(drop, ClaimResult(ClaimStatus.NOT_ELIGIBLE))
        notice = None
        if recipient is not None and self.translator is not None:
            notices = await self._win_notices(drop)
            notice = notices.for_member(
                community_id, recipient.platform, recipient.target, recipient.locale
            )
        result, recorded = await self.claims.submit(
            drop_id, account_id, notice=notice, receipt=receipt
        )
        if result.status == ClaimStatus.NOT_RESERVED:
            verdict = await eligibility.check(
                drop, community_id, account_id, roles, now, self.identity, self.scores
            )
            if not verdict.ok:
                result = ClaimResult(ClaimStatus.NOT_ELIGIBLE)
        sent = notice is not None and result.status == ClaimStatus.WON and not result.again
        if self.on_claim is not None:
            self.on_claim(result.status.value)
        return Claimed(drop, result, recorded, sent)

    async def _win_notices(self, drop: DropRow) -> WinNotices:
        assert self.translator is not None
        tz = await self.tz_of(drop.community_id) if self.tz_of else ZoneInfo("UTC")
        notices = self._notices.get(drop.id)
        if notices is None or notices.drop.name != drop.name or notices.tz != tz:
            notices = self._notices[drop.id] = WinNotices(self.translator, drop, tz)
        return notices

    async def confirm(self, community_id: int, drop_id: int, account_id: int) -> WinRow:
        drop = await self.get(community_id, drop_id)
        win = await self.wins.win_of(drop_id, account_id)
        if win is None:
            if await self.wins.lapsed(drop_id, account_id):
                raise UserError("drop.error.deadline_passed", name=drop.name)
            raise UserError("drop.error.no_win", name=drop.name)
        if win.confirmed_at is None and not await self.wins.confirm(
            drop_id, account_id, self.clock.now()
        ):
            raise UserError("drop.error.deadline_passed", name=drop.name)
        confirmed = await self.wins.win_of(drop_id, account_id)
        assert confirmed is not None
        return confirmed

    # -- F-codes -------------------------------------------------------------------------------

    async def issue_fcodes(
        self, community_id: int, drop_id: int, account_ids: list[int], actor: int
    ) -> dict[int, str]:
        """FCodeIssuer: one single-use code per account (the same one if asked again)."""
        issued = await self.issue(community_id, drop_id, list(account_ids), actor)
        return {holder: code for holder, code in issued if holder is not None}

    async def issue(
        self, community_id: int, drop_id: int, holders: list[int | None], actor: int
    ) -> list[tuple[int | None, str]]:
        now = self.clock.now()
        drop = await self.get(community_id, drop_id)
        if drop.cancelled_at is not None:
            raise UserError("drop.error.cancelled", name=drop.name)
        if now >= drop.drop_at:
            raise UserError("drop.error.started", name=drop.name)
        out = await self.wins.issue_fcodes(drop_id, drop.quota, holders, new_fcode, actor, now)
        if out is None:
            raise UserError("drop.error.fcodes_full", quota=drop.quota)
        return out

    async def redeem(self, community_id: int, account_id: int, raw_code: str) -> FcodeOutcome:
        now = self.clock.now()
        code = normalize_fcode(raw_code)
        drop_id = await self.wins.fcode_drop(code)
        drop = await self.drops.get(drop_id, community_id) if drop_id is not None else None
        if drop is None:
            raise UserError("drop.error.fcode_unknown")
        if drop.cancelled_at is not None:
            raise UserError("drop.error.cancelled", name=drop.name)
        confirm_by = now + timedelta(seconds=drop.confirm_seconds)
        if now >= drop.drop_at:
            win = await self.wins.win_of(drop.id, account_id)
            if win is not None and win.source == WinSource.FCODE:
                return FcodeOutcome(drop, win, True)
            raise UserError("drop.error.fcode_expired", name=drop.name)
        status = FcodeRedemption(
            await self.wins.redeem_fcode(
                code,
                drop.id,
                drop.quota,
                drop.per_account,
                account_id,
                new_redemption_code(),
                now,
                confirm_by,
            )
        )
        if status in REFUSED:
            raise UserError(f"drop.error.fcode_{status}", name=drop.name)
        self.claims.invalidate(drop.id)
        win = await self.wins.win_of(drop.id, account_id)
        assert win is not None
        return FcodeOutcome(drop, win, status == FcodeRedemption.AGAIN)

    # -- numbers -------------------------------------------------------------------------------

    async def counts(self, drop_id: int) -> DropCounts:
        return await self.drops.counts(drop_id)

    async def contributions(self, community_id: int, since: datetime | None) -> list[Contribution]:
        """Contribution source: one "reservation" per account and drop."""
        return [
            Contribution(account, "reservation", at, str(drop_id))
            for account, drop_id, at in await self.reservations.reservation_times(
                community_id, since
            )
        ]
