"""Posts brought up to date after their subject changed (a suggestion edited or answered).

A cog declares how a subject looks now (`PostViews.add("sg", view)`: the public message for
`sg:12`, or None when it should no longer be shown). A handler that changed a subject calls
`ctx.subject_changed("sg:12")`; each serving adapter that can edit its messages registered an
editor (`PostViews.on_change`), which finds the messages it posted about the subject
(`message_refs`) and edits them with the view. The edits run in the background, after the
answer; a failed edit leaves the message as it was (logged).

The community's other platforms, those this process does not serve (a process that serves
Telegram only, beside one that serves Discord), get the view through the outbox
(`Outbox.edit_posts`, kind `post_edit`): the process that serves the platform edits its
messages when it delivers the row, unless a newer view of the subject is queued for it.
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
# (community, subject, its view, the platforms edited here) -> hand it to the other platforms.
Elsewhere = Callable[[int, str, "Reply | None", frozenset[str]], Awaitable[object]]


class PostViews:
    def __init__(self) -> None:
        self._views: dict[str, PostView] = {}
        self._editors: list[tuple[str, PostEditor]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # What a view gets before it is shown (its "view on the web" link): (community, reply,
        # locale) -> reply.
        self.decorate: Callable[[int, Reply, str], Awaitable[Reply]] | None = None
        # Where the view goes for the platforms this process does not edit (the outbox).
        self.elsewhere: Elsewhere | None = None

    def add(self, prefix: str, view: PostView) -> None:
        self._views[prefix] = view

    def on_change(self, platform: str, editor: PostEditor) -> Callable[[], None]:
        """Register an adapter's editor of its platform's messages; returns what unregisters
        it (the adapter stops)."""
        entry = (platform, editor)
        self._editors.append(entry)
        return lambda: self._editors.remove(entry) if entry in self._editors else None

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
        if split_action(subject)[0] not in self._views:
            return
        task = asyncio.create_task(self._edit(replace(ctx, locale=locale), subject))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _edit(self, ctx: Context, subject: str) -> None:
        try:
            reply = await self.view(ctx, subject)
            editors = list(self._editors)
            for _, editor in editors:
                try:
                    await editor(ctx, subject, reply)
                except Exception as exc:
                    log_unexpected(exc, f"editing posts about {subject}")
            if self.elsewhere is not None:
                here = frozenset(platform for platform, _ in editors)
                await self.elsewhere(ctx.community.id, subject, reply, here)
        except Exception as exc:
            log_unexpected(exc, f"viewing {subject}")

    async def settle(self) -> None:
        """Wait for the edits under way (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
