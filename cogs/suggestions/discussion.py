"""Discussion of a suggestion: comments, following them, and telling followers.

Followers are told privately through the outbox, summed up: a follower told of new comments
is told again only after `TELL_EVERY`, then of everything written meanwhile in one message
(the count and the newest few). The comment's own request tells the followers who are due at
once; the scheduler's tick (`tell_due`) tells those whose pause ran out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.actions import make_action
from bot.core.clock import Clock
from bot.core.commands import strip_blank, visible_length
from bot.core.errors import UserError
from bot.core.events import COMMENT_CREATED, COMMENT_REMOVED, Events
from bot.core.i18n import Translator
from bot.core.outbox import Outbox
from bot.core.reply import Button, Reply
from cogs.suggestions import views
from cogs.suggestions.status import SuggestionStatus
from storage.core.identity import IdentityRepo
from storage.suggestions.comments import CommentRepo, CommentRow, Due
from storage.suggestions.discussion_schema import COMMENT_MAX
from storage.suggestions.posts import SuggestionRow

log = logging.getLogger(__name__)

#: A follower is told of new comments at most this often.
TELL_EVERY = timedelta(minutes=10)
#: How far back the scheduler's tick looks for discussions with followers to tell.
CATCH_UP = timedelta(days=7)
#: Comments quoted in a notification (the rest are counted).
TOLD_AT_MOST = 3
#: Characters of a comment quoted in a notification or a list.
QUOTE = 200
#: Thread names: Discord takes 100 characters.
THREAD_NAME_MAX = 100


@dataclass(frozen=True)
class Posted:
    comment: CommentRow
    suggestion: SuggestionRow


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def thread_name(row: SuggestionRow) -> str:
    return clip(f"#{row.id} {row.title}", THREAD_NAME_MAX)


class DiscussionService:
    def __init__(
        self,
        repo: CommentRepo,
        clock: Clock,
        outbox: Outbox,
        translator: Translator,
        identity: IdentityRepo,
        events: Events | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.outbox = outbox
        self.translator = translator
        self.identity = identity
        self.events = events

    @staticmethod
    def clean(body: str) -> str:
        """The comment as kept: no invisible characters at its ends, within the limits."""
        text = strip_blank(body.replace("\x00", ""))
        if visible_length(text) < 1:
            raise UserError("comment.empty")
        if len(text) > COMMENT_MAX:
            raise UserError("comment.too_long", max=COMMENT_MAX, length=len(text))
        return text

    async def comment(
        self,
        suggestion: SuggestionRow,
        author_id: int,
        author_name: str,
        body: str,
        *,
        platform: str,
        origin: str | None = None,
        in_thread: bool = False,
    ) -> Posted | None:
        """Keep a comment, post it into the suggestion's threads and tell the followers who
        are due; None if this platform message was kept already (a redelivery)."""
        if suggestion.status == SuggestionStatus.DUPLICATE and suggestion.merged_into:
            raise UserError("comment.merged", id=suggestion.id, into=suggestion.merged_into)
        text = self.clean(body)
        row = await self.repo.add(
            suggestion.id,
            suggestion.author_id,
            author_id,
            text,
            platform,
            origin,
            self.clock.now(),
        )
        if row is None:
            return None
        await self.outbox.discuss(
            suggestion.community_id,
            views.subject(suggestion.id),
            Reply(text=f"{author_name}: {text}"),
            thread_name=thread_name(suggestion),
            dedup_key=f"comment:{row.id}",
            skip_platform=platform if in_thread else None,
        )
        await self.tell_due(suggestion_id=suggestion.id)
        if self.events is not None and not suggestion.hidden:  # as the suggestion's own events
            data = {
                "suggestion": {"id": suggestion.id, "title": suggestion.title},
                "comment": {
                    "id": row.id,
                    "text": row.body,
                    "created_at": row.created_at.isoformat(),
                },
            }
            await self.events.emit(
                suggestion.community_id, COMMENT_CREATED, data, key=f"comment:{row.id}"
            )
        return Posted(row, suggestion)

    async def latest(self, suggestion_id: int, limit: int = 5) -> tuple[list[CommentRow], int]:
        return await self.repo.latest(suggestion_id, limit)

    async def delete(self, community_id: int, comment_id: int, account_id: int) -> CommentRow:
        """The author deletes their own comment."""
        row = await self._visible(comment_id)
        if row.author_id != account_id:
            raise UserError("comment.not_yours", id=comment_id)
        await self.repo.remove(comment_id, account_id, hide=False, now=self.clock.now())
        await self._removed(community_id, row, "author")
        return row

    async def hide(self, community_id: int, comment_id: int, account_id: int) -> CommentRow:
        """An admin hides anyone's comment (the command is an admin's, so it is audited)."""
        row = await self._visible(comment_id)
        await self.repo.remove(comment_id, account_id, hide=True, now=self.clock.now())
        await self._removed(community_id, row, "admin")
        return row

    async def _removed(self, community_id: int, row: CommentRow, by: str) -> None:
        """Tell the listeners a comment is gone: its ids alone, never its text."""
        if self.events is not None:
            data = {"suggestion": {"id": row.suggestion_id}, "comment": {"id": row.id}, "by": by}
            await self.events.emit(
                community_id, COMMENT_REMOVED, data, key=f"comment-removed:{row.id}"
            )

    async def _visible(self, comment_id: int) -> CommentRow:
        row = await self.repo.get(comment_id)
        if row is None or not row.visible:
            raise UserError("comment.unknown", id=comment_id)
        return row

    async def get(self, comment_id: int) -> CommentRow | None:
        return await self.repo.get(comment_id)

    async def follow(self, suggestion: SuggestionRow, account_id: int) -> bool:
        """Follow a suggestion's comments: its author, its voters, and those who commented."""
        sid = suggestion.id
        allowed = suggestion.author_id == account_id or await self.repo.voted(sid, account_id)
        if not allowed and await self.repo.following(sid, account_id) is None:
            raise UserError("follow.not_allowed", id=suggestion.id)
        return await self.repo.set_following(suggestion.id, account_id, True, self.clock.now())

    async def unfollow(self, suggestion: SuggestionRow, account_id: int) -> bool:
        return await self.repo.set_following(suggestion.id, account_id, False, self.clock.now())

    async def follows(self, suggestion: SuggestionRow, account_id: int) -> bool:
        state = await self.repo.following(suggestion.id, account_id)
        return state if state is not None else suggestion.author_id == account_id

    # -- telling followers ----------------------------------------------------------------------

    async def tell_followers(self) -> None:
        """The scheduler's tick: tell the followers whose pause ran out, of the discussions
        that moved in the last week (longer downtime than that loses a summary, not a
        comment: /show still lists them)."""
        await self.tell_due(since=self.clock.now() - CATCH_UP)

    async def tell_due(
        self, *, suggestion_id: int | None = None, since: datetime | None = None
    ) -> int:
        """Tell every follower who is due of the comments they have not heard of."""
        now = self.clock.now()
        due = await self.repo.due(now - TELL_EVERY, suggestion_id, commented_since=since)
        told = 0
        for item in due:
            try:
                told += await self._tell(item)
            except Exception:
                log.exception("could not tell %s of comments", item)
        return told

    async def _tell(self, item: Due) -> int:
        rows, count = await self.repo.unseen(
            item.suggestion_id, item.account_id, item.told_through, TOLD_AT_MOST
        )
        if not rows:
            return 0
        through = rows[-1].id
        found = await self.repo.community_and_title(item.suggestion_id)
        if found is None:
            return 0
        community_id, title = found
        names = await self.identity.display_names([r.author_id for r in rows])
        sid = item.suggestion_id

        def render(locale: str) -> Reply:
            t = self.translator
            lines = [
                t(
                    locale,
                    "comment.line",
                    name=names.get(r.author_id, "?"),
                    text=clip(r.body, QUOTE),
                )
                for r in rows
            ]
            if count > len(rows):
                lines.insert(0, t(locale, "comment.notice.more", count=count - len(rows)))
            return Reply(
                title=t(locale, "comment.notice.title", id=sid, title=title, count=count),
                text="\n".join(lines),
                footer=t(locale, "comment.notice.footer", id=sid),
                buttons=[Button(t(locale, "comment.button.show", id=sid), make_action("ss", sid))],
            )

        key = f"comments:{sid}:{item.account_id}:{through}"
        sent = await self.outbox.notify(community_id, [item.account_id], render, dedup_key=key)
        # Moved even when the member turned notifications off: nothing piles up for later.
        await self.repo.mark_told(
            sid, item.account_id, item.told_through, through, self.clock.now()
        )
        return sent
