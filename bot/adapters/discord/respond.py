"""Answering interactions within Discord's 3 seconds: answer at once, or defer and follow up.

The work of an interaction (context, command, button) starts at once. When it is done within
`ack_budget` seconds, its reply is the interaction's response. When it is not, the interaction
is deferred (a "thinking…" state for commands and forms, a silent acknowledgement for buttons)
and the reply follows when the work ends. When `max_concurrency` interactions are already being
worked on, a new one is deferred right away: a burst of clicks never holds acknowledgements
back behind the database.

Deferred commands think privately; a public reply then replaces the private placeholder by a
public follow-up, so a private answer (an error, a vote confirmation) is never shown to all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

from bot.adapters.discord.render import is_private, render
from bot.core.app import App
from bot.core.errors import log_unexpected
from bot.core.reply import Reply
from storage.messages import MessagesRepo

log = logging.getLogger(__name__)

PLATFORM = "discord"


@dataclass(frozen=True)
class Tuning:
    ack_budget: float = 1.5  # seconds of work before an interaction is deferred
    max_concurrency: int = 32  # interactions worked on at once; more are deferred at once
    guild_ready_timeout: float = 2.0  # discord.py's wait for the guilds after READY
    reply_ttl: float = 30.0  # seconds a private answer to a plain message stays visible


@dataclass
class Outcome:
    reply: Reply
    community_id: int | None = None


Work = Callable[[], Awaitable[Outcome]]


class Responder:
    def __init__(self, app: App, tuning: Tuning) -> None:
        self.app = app
        self.tuning = tuning
        self.messages = MessagesRepo(app.engine)
        self._gate = asyncio.Semaphore(tuning.max_concurrency)

    @property
    def busy(self) -> bool:
        return self._gate.locked()

    async def answer(self, interaction: discord.Interaction, work: Work, where: str) -> None:
        locale = interaction.locale.value
        task = asyncio.create_task(self._run(work, locale, where))
        deferred: bool | None = False
        if self.busy:
            deferred = await self._defer(interaction)
        else:
            done, _ = await asyncio.wait({task}, timeout=self.tuning.ack_budget)
            if not done:
                deferred = await self._defer(interaction)
        outcome = await task
        if deferred is None:
            log.warning("interaction %s expired before it was acknowledged", interaction.id)
            return
        await self._answer(interaction, outcome, deferred, where)

    async def reject(self, interaction: discord.Interaction, reply: Reply) -> None:
        """Answer at once with a reply that needed no work (an error before a form, say)."""
        await self._answer(interaction, Outcome(reply), False, "reject")

    async def _answer(
        self, interaction: discord.Interaction, outcome: Outcome, deferred: bool, where: str
    ) -> None:
        try:
            await self._deliver(interaction, outcome, deferred)
        except discord.HTTPException as exc:
            log.warning("could not answer interaction %s: %s", interaction.id, exc)
        except Exception as exc:  # a reply that cannot be rendered: say so, never hang
            ref = log_unexpected(exc, f"answering {where}")
            text = self.app.translator(interaction.locale.value, "error.unexpected", ref=ref)
            error = render(Reply(text=text, ephemeral=True, error=True))
            with contextlib.suppress(discord.HTTPException):
                if interaction.response.is_done():
                    await interaction.followup.send(ephemeral=True, **error.send())
                else:
                    await interaction.response.send_message(ephemeral=True, **error.send())

    async def _run(self, work: Work, locale: str, where: str) -> Outcome:
        async with self._gate:
            try:
                return await work()
            except Exception as exc:
                ref = log_unexpected(exc, where)
                text = self.app.translator(locale, "error.unexpected", ref=ref)
                return Outcome(Reply(text=text, ephemeral=True, error=True))

    async def _defer(self, interaction: discord.Interaction) -> bool | None:
        """Acknowledge now; None when Discord no longer knows the interaction."""
        try:
            if interaction.type is discord.InteractionType.component:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.NotFound:
            return None
        return True

    async def _deliver(
        self, interaction: discord.Interaction, outcome: Outcome, deferred: bool
    ) -> None:
        reply = outcome.reply
        private = is_private(reply)
        out = render(reply)
        message: discord.Message | None = None
        if not deferred:
            response = await interaction.response.send_message(ephemeral=private, **out.send())
            if isinstance(response.resource, discord.InteractionMessage):
                message = response.resource
        elif interaction.type is discord.InteractionType.component:
            message = await interaction.followup.send(ephemeral=private, wait=True, **out.send())
        elif private:
            message = await interaction.edit_original_response(**out.edit())
        else:
            await interaction.delete_original_response()
            message = await interaction.followup.send(wait=True, **out.send())
        await self.remember(interaction, outcome, message)

    async def remember(
        self, interaction: discord.Interaction, outcome: Outcome, message: discord.Message | None
    ) -> None:
        """Record what a sent message is about, so replies and DM buttons route after a restart."""
        reply = outcome.reply
        if message is None or outcome.community_id is None or interaction.channel_id is None:
            return
        in_dm = interaction.guild_id is None
        has_controls = bool(reply.buttons or reply.select)
        if (reply.subject and not is_private(reply)) or (in_dm and (reply.subject or has_controls)):
            await self.messages.remember(
                PLATFORM,
                str(interaction.channel_id),
                str(message.id),
                reply.subject or "",
                outcome.community_id,
                self.app.clock.now(),
            )
