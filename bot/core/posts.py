"""Posts brought up to date after their subject changed (a suggestion edited or answered).

A cog declares how a subject looks now (`PostViews.add("sg", view)`: the public message for
`sg:12`, or None when it should no longer be shown). A handler that changed a subject calls
`ctx.subject_changed("sg:12")`; each serving adapter that can edit its messages registered an
editor (`PostViews.on_change`), which finds the messages it posted about the subject
(`message_refs`) and edits them with the view. The edits run in the background, after the
answer; a failed edit leaves the message as it was (logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.actions import split_action
from bot.core.errors import UserError, log_unexpected

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.reply import Reply

log = logging.getLogger(__name__)

# (context, subject args) -> the subject's public message as it should look now, or None.
PostView = Callable[["Context", list[str]], Awaitable["Reply | None"]]
# (context in the community's language, subject, its view) -> edit the messages about it.
PostEditor = Callable[["Context", str, "Reply | None"], Awaitable[None]]


class PostViews:
    def __init__(self) -> None:
        self._views: dict[str, PostView] = {}
        self._editors: list[PostEditor] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # What a view gets before it is shown (its "view on the web" link): (community, reply,
        # locale) -> reply.
        self.decorate: Callable[[int, Reply, str], Awaitable[Reply]] | None = None

    def add(self, prefix: str, view: PostView) -> None:
        self._views[prefix] = view

    def on_change(self, editor: PostEditor) -> Callable[[], None]:
        """Register an adapter's editor; returns what unregisters it (the adapter stops)."""
        self._editors.append(editor)
        return lambda: self._editors.remove(editor) if editor in self._editors else None

    async def view(self, ctx: Context, subject: str) -> Reply | None:
        prefix, args = split_action(subject)
        view = self._views.get(prefix)
        if view is None:
            return None
        try:
            reply = await view(ctx, args)
        except UserError:
            return None
        if reply is not None and self.decorate is not None:
            reply = await self.decorate(ctx.community.id, reply, ctx.locale)
        return reply

    def changed(self, ctx: Context, subject: str, locale: str) -> None:
        """`subject` changed: its posts are edited in the background, shown in `locale` (the
        community's language: a post in a channel is everyone's)."""
        if not self._editors or split_action(subject)[0] not in self._views:
            return
        task = asyncio.create_task(self._edit(replace(ctx, locale=locale), subject))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _edit(self, ctx: Context, subject: str) -> None:
        try:
            reply = await self.view(ctx, subject)
            for editor in list(self._editors):
                try:
                    await editor(ctx, subject, reply)
                except Exception as exc:
                    log_unexpected(exc, f"editing posts about {subject}")
        except Exception as exc:
            log_unexpected(exc, f"viewing {subject}")

    async def settle(self) -> None:
        """Wait for the edits under way (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
