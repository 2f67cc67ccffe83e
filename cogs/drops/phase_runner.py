"""Time-driven drop work: reservations open → the reminder before drop time → drop time (claims
open or the draw) → deadlines → waiting list, plus the bounded-rate live count, which edits the
drop's card in place where the platform can.

`run_due` is the cog's due work (`FeatureSetup.add_due_work`): it reads the drops table, so
missed phases are caught up after downtime, and each phase runs through `run_once` with a
per-drop key, so it happens once even with several processes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.core.commands import EARLIEST, LATEST
from bot.core.events import DROP_RESULTS
from bot.core.feature import DueWorkTools
from bot.core.outbox import LIVE_EDIT, LIVE_POST
from bot.core.scheduler import run_once
from cogs.drops import lottery, views
from cogs.drops.modes import DropMode, WinSource
from cogs.drops.redemption_codes import new_redemption_code
from cogs.drops.service import DropService
from storage.drops.drops import DropRow

log = logging.getLogger(__name__)

HORIZON = timedelta(days=60)  # drops older than this have no more work
STATUS_UNTIL = timedelta(days=1)  # live status updates stop a day after drop time
REMINDER_SETTING = "drop_reminder_minutes"  # lead time of the reminder; 0 sends none


class PhaseRunner:
    def __init__(self, service: DropService, tools: DueWorkTools) -> None:
        self.service = service
        self.tools = tools
        self._skipped: set[int] = set()  # drops with times out of range, logged once

    async def run_due(self) -> None:
        now = self.tools.clock.now()
        for drop in await self.service.drops.active(now, now - HORIZON):
            if not self._plannable(drop):
                continue
            try:
                await self._advance(drop.id, now)
            except Exception:
                log.exception("drop %s: scheduled work failed", drop.id)

    def _plannable(self, drop: DropRow) -> bool:
        """Whether the drop's times are in the range the bot plans in. One stored before times
        were bounded (year 9999) would overflow the date arithmetic of every tick: it is left
        alone, with one warning per process."""
        if all(EARLIEST <= at < LATEST for at in (drop.opens_at, drop.closes_at, drop.drop_at)):
            return True
        if drop.id not in self._skipped:
            self._skipped.add(drop.id)
            log.warning(
                "drop %s: drop time %s is out of range; it has no scheduled work (cancel it)",
                drop.id,
                drop.drop_at.isoformat(),
            )
        return False

    async def _fresh(self, drop_id: int) -> DropRow:
        drop = await self.service.drops.get(drop_id)
        assert drop is not None
        return drop

    async def _advance(self, drop_id: int, now: datetime) -> None:
        jobs = self.tools.jobs
        drop = await self._fresh(drop_id)
        if drop.opened_at is None:
            await run_once(jobs, f"drop:{drop.id}:open", now, lambda: self._open(drop, now))
            drop = await self._fresh(drop_id)
        if drop.started_at is None and now < drop.drop_at and await self._remind_due(drop, now):
            await run_once(jobs, f"drop:{drop.id}:remind", now, lambda: self._remind(drop))
        start = f"drop:{drop.id}:start"
        # A start whose process died half-way left `started_at` set and its key unfinished: the
        # key's claim is taken over once its lease runs out, and the start told to the end.
        if now >= drop.drop_at and (drop.started_at is None or await jobs.unfinished(start)):
            await run_once(jobs, start, now, lambda: self._start(drop, now))
            drop = await self._fresh(drop_id)
        if drop.started_at is not None:
            changed = await self._deadlines(drop, now)
            changed = await self._promote(drop, now) or changed
            if changed:
                self.service.claims.invalidate(drop.id)
            if drop.sold_out_at is not None and drop.mode == DropMode.FLASH:
                await run_once(jobs, f"drop:{drop.id}:soldout", now, lambda: self._sold_out(drop))
        await self._status(await self._fresh(drop_id), now)

    # -- phases --------------------------------------------------------------------------------

    async def _open(self, drop: DropRow, now: datetime) -> None:
        counts = await self.service.counts(drop.id)
        tz = await self.tools.settings.timezone(drop.community_id)
        await self.tools.outbox.announce(
            drop.community_id,
            views.render(self.tools.translator, lambda t: views.opened(t, drop, counts, tz, now)),
            dedup_key=f"drop:{drop.id}:open",
            live=LIVE_POST,
        )
        await self.service.drops.mark(drop.id, "opened_at", now)
        await self.service.drops.set_status(drop.id, now, views.status_sig(drop, counts))

    async def _start(self, drop: DropRow, now: datetime) -> None:
        if drop.mode == DropMode.LOTTERY:
            await self._draw(drop, now)
        else:
            await self.service.drops.mark(drop.id, "started_at", now)
            await self.service.claims.prepare(drop.id)
            drop = await self._fresh(drop.id)
            counts = await self.service.counts(drop.id)
            tz = await self.tools.settings.timezone(drop.community_id)
            await self.tools.outbox.announce(
                drop.community_id,
                views.render(
                    self.tools.translator, lambda t: views.claims_open(t, drop, counts, tz)
                ),
                dedup_key=f"drop:{drop.id}:claims",
                live=LIVE_POST,
            )
            reservers = [a for a, _ in await self.service.reservations.entrants(drop.id)]
            await self.tools.outbox.notify(
                drop.community_id,
                reservers,
                views.render(self.tools.translator, lambda t: views.claim_nudge(t, drop)),
                dedup_key=f"drop:{drop.id}:nudge",
            )

    async def _remind_due(self, drop: DropRow, now: datetime) -> bool:
        """Whether the reminder's time came: `drop_reminder_minutes` before drop time. Missed
        during downtime, it is still sent until drop time (never after: the drop has begun)."""
        minutes = int(await self.tools.settings.get(drop.community_id, REMINDER_SETTING))
        return minutes > 0 and now >= drop.drop_at - timedelta(minutes=minutes)

    async def _remind(self, drop: DropRow) -> None:
        """Remind each reserver privately, once: the job's key runs it once, and a run taken
        over after a crash adds only the messages not stored yet (a dedup key per reserver)."""
        drop = await self._fresh(drop.id)
        if drop.cancelled_at is not None or drop.started_at is not None:
            return
        tz = await self.tools.settings.timezone(drop.community_id)
        await self.tools.outbox.notify(
            drop.community_id,
            await self.service.reservations.to_remind(drop.id),
            views.render(self.tools.translator, lambda t: views.reminder(t, drop, tz)),
            dedup_key=f"drop:{drop.id}:remind",
        )

    async def _draw(self, drop: DropRow, now: datetime) -> None:
        entrants = await self.service.reservations.entrants(drop.id)
        counts = await self.service.counts(drop.id)
        slots = max(0, drop.quota - counts.taken)
        result = lottery.draw(drop.seed, entrants, slots, drop.waitlist)
        winners = [(a, u, new_redemption_code()) for a, u in result.winners]
        confirm_by = now + timedelta(seconds=drop.confirm_seconds)
        recorded = await self.service.wins.record_draw(
            drop.id,
            drop.quota,
            drop.per_account,
            lottery.entrants_hash(entrants),
            len(entrants),
            slots,
            winners,
            result.waiting,
            now,
            confirm_by,
        )
        drop = await self._fresh(drop.id)
        if not recorded:
            # Drawn already, by a run of this job whose process died before everyone was told.
            # The draw is the seed's: the same entrants give the same winners and waiting list,
            # and the outbox's dedup keys skip whoever was told before.
            entrants = await self.service.reservations.draw_entrants(drop.id, WinSource.FCODE)
            if drop.drawn_at is None or drop.entrants_hash != lottery.entrants_hash(entrants):
                log.warning("drop %s: drawn with other entrants; not told again", drop.id)
                return
            result = lottery.draw(drop.seed, entrants, drop.drawn_slots or 0, drop.waitlist)
            confirm_by = drop.drawn_at + timedelta(seconds=drop.confirm_seconds)
        tr = self.tools.translator
        tz = await self.tools.settings.timezone(drop.community_id)
        await self.tools.outbox.announce(
            drop.community_id,
            views.render(tr, lambda t: views.draw_result(t, drop, len(result.winners), tz)),
            dedup_key=f"drop:{drop.id}:draw",
        )
        await self._emit_results(
            drop, {"winners": len(result.winners), "waiting": len(result.waiting)}
        )
        await self.tools.outbox.notify(
            drop.community_id,
            [a for a, _ in result.winners],
            views.render(tr, lambda t: views.you_won(t, drop, confirm_by, tz)),
            dedup_key=f"drop:{drop.id}:won",
            force=True,
        )
        await self.tools.outbox.notify(
            drop.community_id,
            [a for a, _ in result.waiting],
            views.render(tr, lambda t: views.you_wait(t, drop)),
            dedup_key=f"drop:{drop.id}:waiting",
        )

    async def _deadlines(self, drop: DropRow, now: datetime) -> bool:
        lapsed = []
        for account in await self.service.wins.pending_deadlines(drop.id, now):
            if await self.service.wins.lapse(drop.id, account, now) is not None:
                lapsed.append(account)
        if lapsed:
            await self.tools.outbox.notify(
                drop.community_id,
                lapsed,
                views.render(self.tools.translator, lambda t: views.lapsed(t, drop)),
                dedup_key=f"drop:{drop.id}:lapsed",
                force=True,
            )
        return bool(lapsed)

    async def _promote(self, drop: DropRow, now: datetime) -> bool:
        confirm_by = now + timedelta(seconds=drop.confirm_seconds)
        promoted = await self.service.wins.promote(
            drop.id, drop.quota, drop.per_account, new_redemption_code, now, confirm_by
        )
        if promoted:
            tz = await self.tools.settings.timezone(drop.community_id)
            await self.tools.outbox.notify(
                drop.community_id,
                [p.account_id for p in promoted],
                views.render(
                    self.tools.translator, lambda t: views.promoted(t, drop, confirm_by, tz)
                ),
                dedup_key=f"drop:{drop.id}:promoted",
                force=True,
            )
        return bool(promoted)

    async def _sold_out(self, drop: DropRow) -> None:
        await self.tools.outbox.announce(
            drop.community_id,
            views.render(self.tools.translator, lambda t: views.sold_out(t, drop)),
            dedup_key=f"drop:{drop.id}:soldout",
        )
        await self._emit_results(drop, {"sold_out_at": drop.sold_out_at})

    async def _emit_results(self, drop: DropRow, extra: dict[str, object]) -> None:
        """Tell listeners outside the chat (webhooks) a drop's results: counts and the lottery's
        proof, never who won."""
        if self.tools.events is None:
            return
        data: dict[str, object] = {
            "id": drop.id,
            "name": drop.name,
            "mode": drop.mode,
            "quota": drop.quota,
            "drop_at": drop.drop_at.isoformat(),
        }
        if drop.mode == DropMode.LOTTERY:
            data |= {
                "commitment": drop.commitment,
                "seed": drop.seed,
                "entrants_hash": drop.entrants_hash,
                "entrants": drop.entrants_count,
            }
        for k, v in extra.items():
            data[k] = v.isoformat() if isinstance(v, datetime) else v
        await self.tools.events.emit(
            drop.community_id, DROP_RESULTS, {"drop": data}, key=f"drop:{drop.id}:results"
        )

    async def _status(self, drop: DropRow, now: datetime) -> None:
        """Show the live count when it changed, at most every `drop_status_seconds`: an update
        of the drop's live card (`LIVE_EDIT`), which the platforms edit in place."""
        if drop.opened_at is None or now > drop.drop_at + STATUS_UNTIL:
            return
        every = int(await self.tools.settings.get(drop.community_id, "drop_status_seconds"))
        if drop.status_at is not None and now - drop.status_at < timedelta(seconds=every):
            return
        counts = await self.service.counts(drop.id)
        sig = views.status_sig(drop, counts)
        if sig == drop.status_sig:
            return
        tz = await self.tools.settings.timezone(drop.community_id)
        await self.tools.outbox.announce(
            drop.community_id,
            views.render(self.tools.translator, lambda t: views.status(t, drop, counts, tz, now)),
            # Per state and time: counts that come back to an earlier state are shown again.
            dedup_key=f"dp:{drop.id}:{sig}:{int(now.timestamp())}",
            live=LIVE_EDIT,
        )
        await self.service.drops.set_status(drop.id, now, sig)
