"""The review queue: posts held before publishing (review on, or a filtered word) and fans'
reports of suggestions. Admins approve or reject posts, dismiss reports or hide what was
reported; authors and reporters are told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.actions import make_action
from bot.core.clock import Clock
from bot.core.errors import UserError
from bot.core.outbox import Outbox
from bot.core.reply import Button, Reply
from bot.core.settings import SettingsService
from cogs.moderation.words import first_match
from cogs.suggestions.service import Held, Pending, SuggestionRow, SuggestionService
from storage.moderation.queue import PENDING, QueueItem, QueueRepo
from storage.moderation.words import WordRepo

REVIEW_SETTING = "review_queue"
# Reasons an admin picks from a menu; a reason typed with /reject is kept as typed.
REJECT_CODES = ("spam", "offtopic", "duplicate", "rules")
CODE = "code:"

Translate = Callable[..., str]


def reason_text(translate: Translate, locale: str, note: str) -> str:
    """A rejection reason in `locale`: a menu reason translated, a typed one as typed."""
    if note.startswith(CODE):
        return str(translate(locale, f"review.reason.{note[len(CODE) :]}"))
    return note or str(translate(locale, "mute.no_reason"))


class QueueService:
    def __init__(
        self,
        repo: QueueRepo,
        words: WordRepo,
        suggestions: SuggestionService,
        settings: SettingsService,
        outbox: Outbox,
        translate: Translate,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.words = words
        self.suggestions = suggestions
        self.settings = settings
        self.outbox = outbox
        self.translate = translate
        self.clock = clock

    # -- holding -----------------------------------------------------------------------------

    async def gate(self, post: Pending) -> Held | None:
        """The suggestion service's gate: hold a post when the community reviews every post,
        or when it contains a filtered word."""
        cid = post.community_id
        word = first_match(await self.words.words(cid), f"{post.title}\n{post.details}")
        if word is None and not await self.settings.get(cid, REVIEW_SETTING):
            return None
        item = await self.repo.hold(
            cid,
            post.author_id,
            post.title,
            post.details,
            post.category,
            f"word:{word}" if word is not None else "review",
            post.draft_id,
            self.clock.now(),
        )
        if item.state != PENDING:
            return Held("review.held_decided", {"id": item.id})
        return Held("review.held", {"id": item.id})

    # -- deciding ----------------------------------------------------------------------------

    async def item(self, community_id: int, item_id: int, kind: str) -> QueueItem:
        item = await self.repo.get(community_id, item_id)
        if item is None or item.kind != kind:
            raise UserError(f"review.unknown_{kind}", id=item_id)
        if item.state != PENDING:
            raise UserError("review.decided", id=item_id, state=item.state)
        return item

    async def _decide(
        self, item: QueueItem, state: str, by: int, note: str = "", sid: int | None = None
    ) -> None:
        done = await self.repo.decide(
            item.community_id, item.id, state, by, note, self.clock.now(), suggestion_id=sid
        )
        if not done:  # another admin was quicker
            raise UserError("review.decided", id=item.id, state=state)

    async def approve(self, community_id: int, item_id: int, by: int) -> SuggestionRow:
        item = await self.item(community_id, item_id, "post")
        await self._decide(item, "approved", by)
        sub = await self.suggestions.submit(
            community_id,
            item.author_id,
            item.title,
            item.details,
            item.category,
            force=True,
            reviewed=True,
        )
        assert sub.posted is not None
        row = sub.posted
        await self.repo.decide_suggestion(community_id, item.id, row.id)
        await self.outbox.announce(community_id, self._card(row))
        await self.outbox.notify(
            community_id,
            [item.author_id],
            self._notice("review.notice.approved", id=row.id, title=row.title),
            dedup_key=f"review:{item.id}",
            force=True,
        )
        return row

    async def reject(self, community_id: int, item_id: int, by: int, note: str) -> QueueItem:
        item = await self.item(community_id, item_id, "post")
        await self._decide(item, "rejected", by, note)
        await self.outbox.notify(
            community_id,
            [item.author_id],
            self._notice("review.notice.rejected", title=item.title, reason=note),
            dedup_key=f"review:{item.id}",
            force=True,
        )
        return item

    async def dismiss(self, community_id: int, item_id: int, by: int) -> QueueItem:
        item = await self.item(community_id, item_id, "report")
        await self._decide(item, "dismissed", by)
        return item

    async def hide_reported(self, community_id: int, item_id: int, by: int) -> SuggestionRow:
        """Hide the reported suggestion; every pending report of it is then closed."""
        item = await self.item(community_id, item_id, "report")
        assert item.suggestion_id is not None
        row = await self.suggestions.set_hidden(community_id, item.suggestion_id, True, by)
        reporters = await self.repo.close_reports(
            community_id, item.suggestion_id, "hidden", by, self.clock.now()
        )
        await self.outbox.notify(
            community_id,
            reporters,
            self._notice("report.notice.hidden", id=row.id, title=row.title),
            dedup_key=f"report-hidden:{row.id}",
        )
        return row

    # -- reporting ---------------------------------------------------------------------------

    async def report(self, community_id: int, sid: int, by: int, reason: str) -> int:
        row = await self.suggestions.get(community_id, sid)
        if row.author_id == by:
            raise UserError("report.own", id=sid)
        item_id = await self.repo.report(community_id, row.id, by, reason, self.clock.now())
        if item_id is None:
            raise UserError("report.already", id=sid)
        return item_id

    # -- rendering for other members ---------------------------------------------------------

    def _notice(self, key: str, **params: Any) -> Callable[[str], Reply]:
        def render(locale: str) -> Reply:
            extra = {}
            if "reason" in params:
                extra["reason"] = reason_text(self.translate, locale, params["reason"])
            return Reply(text=self.translate(locale, key, **{**params, **extra}))

        return render

    def _card(self, row: SuggestionRow) -> Callable[[str], Reply]:
        """An approved post as the community sees a new suggestion: a card to vote on."""

        def render(locale: str) -> Reply:
            t = self.translate
            return Reply(
                title=f"{t(locale, 'review.posted')}\n#{row.id} {row.title}",
                text=row.details,
                buttons=[
                    Button(
                        t(locale, "suggest.button.vote", id=row.id, votes=row.votes),
                        make_action("sv", row.id),
                        "primary",
                    )
                ],
                subject=f"sg:{row.id}",
                web_path=f"/s/{row.id}",
            )

        return render
