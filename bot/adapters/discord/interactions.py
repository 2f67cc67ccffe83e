"""Discord events in, the one dispatcher of fanloop, replies out.

Slash commands arrive through discord.py's command tree (`command`, `form`, `autocomplete` for
the parameters that declare one); buttons, selects and form submissions straight from the
gateway event (`on_raw`, before discord.py builds anything), routed by their custom id alone,
so that acknowledging them costs no parsing; replies to the bot's messages ("+1") through
`on_message`. Everything that acts goes through the `Responder`, which acknowledges first under
load and works on each interaction once however often Discord delivers it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord import forms
from bot.adapters.discord.acks import COMPONENT, MODAL_SUBMIT, Arrival
from bot.adapters.discord.edits import CardEdits
from bot.adapters.discord.members import PLATFORM, Members
from bot.adapters.discord.outage import outage
from bot.adapters.discord.post_edits import PostEdits
from bot.adapters.discord.render import SELECT_ID, is_private, render
from bot.adapters.discord.respond import SEND_ERRORS, Incoming, Outcome, Responder, Tuning
from bot.adapters.discord.threads import DiscussionThreads
from bot.adapters.discord.translate import clip
from bot.core.app import App
from bot.core.commands import CommandSpec, Param, ParamType, convert
from bot.core.context import Context, Receipt
from bot.core.errors import UserError
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

AUTOCOMPLETE_TIMEOUT = 2.0
CHOICES = 25  # Discord shows at most 25 choices, of at most 100 characters each
CHOICE_LIMIT = 100


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("context for a form failed: %r", task.exception())


class Interactions:
    def __init__(self, client: discord.Client, app: App, tuning: Tuning) -> None:
        self.client = client
        self.app = app
        self.tuning = tuning
        self.members = Members(client, app)
        self.responder = Responder(app, tuning)
        self.cards = CardEdits(client, self.responder)  # live vote counts on buttons
        self.messages = MessagesRepo(app.engine)
        self.threads = DiscussionThreads(client, app)
        # Posts about a changed subject edited in place (bot.core.posts).
        self.posts = PostEdits(client, self.responder, self.messages)
        self._no_posts = app.posts.on_change(PLATFORM, self.posts)
        self.arrived: dict[int, float] = {}  # slash commands read, not yet handed to the tree

    def t(self, interaction: discord.Interaction, key: str, **params: Any) -> str:
        return self.app.translator(interaction.locale.value, key, **params)

    # -- slash commands ------------------------------------------------------------------------

    async def command(
        self, interaction: discord.Interaction, spec: CommandSpec, values: dict[str, Any]
    ) -> None:
        incoming = Incoming.of(interaction, self.arrived.pop(interaction.id, None))
        if self.responder.redelivered(incoming.id, f"/{spec.name}"):
            return

        async def work() -> Outcome:
            ctx = await self._context(interaction, incoming.receipt)

            async def go() -> Reply:
                self.app.dispatcher.check_role(ctx, spec.role)
                params = await self._params(ctx, spec, values)
                return await self.app.dispatcher.run(ctx, spec, params)

            reply = await self.app.dispatcher.guard(ctx, f"/{spec.name}", go)
            return Outcome(reply, ctx.community.id, ctx.receipt_recorded)

        self.responder.admit(incoming, work, f"/{spec.name}")

    async def _params(
        self, ctx: Context, spec: CommandSpec, values: dict[str, Any]
    ) -> dict[str, Any]:
        """Discord's values checked and typed by the core: Discord's client enforces the limits
        it was told, discord.py does not, and an outdated client may send anything."""
        tz = await self.app.community_tz(ctx.community.id)
        out: dict[str, Any] = {}
        for p in spec.params:
            raw = values.get(p.name)
            if raw is None or raw == "":
                if p.required:
                    raise UserError("error.args.missing", name=p.name)
                out[p.name] = p.default
            elif p.type is ParamType.MEMBER and isinstance(raw, discord.abc.User):
                out[p.name] = await self.members.display_name(ctx, raw)
            else:
                out[p.name] = convert(p, raw, tz=tz)
        return out

    async def _context(
        self, interaction: discord.Interaction, receipt: Receipt | None = None
    ) -> Context:
        ctx = await self.members.for_interaction(interaction, receipt)
        if ctx is None:
            raise UserError("discord.unknown_place")
        return ctx

    async def form(self, interaction: discord.Interaction, spec: CommandSpec) -> None:
        """Open the command's modal (the first response, so it cannot wait: the role is checked
        first when that is quick, and always again on submission). Opening a form changes
        nothing, so only this process's memory of the interaction is asked (no database write):
        a redelivery after a restart tries to open the form again, which Discord refuses."""
        incoming = Incoming.of(interaction, self.arrived.pop(interaction.id, None))
        if self.responder.redelivered(incoming.id, f"/{spec.name}"):
            return
        task = asyncio.create_task(self.members.for_interaction(interaction))
        task.add_done_callback(_consume)
        done, _ = await asyncio.wait({task}, timeout=self.tuning.ack_budget)
        locale = interaction.locale.value
        ctx = task.result() if done and task.exception() is None else None
        if ctx is not None:
            locale = ctx.locale
            if ctx.member.role < spec.role:
                denied = await self.app.dispatcher.guard(
                    ctx, f"/{spec.name}", lambda: self._deny(ctx, spec)
                )
                await self.responder.reject(incoming, denied)
                return
        modal = forms.modal(self.app.translator, locale, spec)
        try:
            await interaction.response.send_modal(modal)
        except discord.HTTPException as exc:
            log.warning("could not open the form of /%s: %s", spec.name, exc)

    async def _deny(self, ctx: Context, spec: CommandSpec) -> Reply:
        self.app.dispatcher.check_role(ctx, spec.role)
        return Reply()

    async def autocomplete(
        self, interaction: discord.Interaction, param: Param, current: str
    ) -> list[app_commands.Choice[str]]:
        """The choices of the parameter's own autocomplete, as Discord shows them.

        Not de-duplicated: an autocomplete only reads and changes nothing, so a redelivered one
        costs a lookup at most (and Discord takes the first answer)."""
        try:
            return await asyncio.wait_for(
                self._autocomplete(interaction, param, current), AUTOCOMPLETE_TIMEOUT
            )
        except Exception as exc:  # autocomplete must answer something, and quickly
            log.warning("autocomplete failed: %r", exc)
            return []

    async def _autocomplete(
        self, interaction: discord.Interaction, param: Param, current: str
    ) -> list[app_commands.Choice[str]]:
        if param.autocomplete is None or interaction.guild_id is None:
            return []
        ctx = await self.members.for_interaction(interaction)
        if ctx is None:
            return []
        choices = await param.autocomplete(ctx, current)
        return [
            app_commands.Choice(name=clip(c.label, CHOICE_LIMIT), value=c.value)
            for c in choices[:CHOICES]
        ]

    # -- buttons, selects and forms --------------------------------------------------------------

    def on_raw(self, payload: dict[str, Any], at: float) -> bool:
        """A button, select or form submission, from its gateway event as read (`at`): handled
        here (True) without discord.py's `Interaction`, which is built only if the work runs.
        Called before any await, so a delivery seen before is dropped at once."""
        kind = payload.get("type")
        if kind not in (COMPONENT, MODAL_SUBMIT):
            return False
        data: dict[str, Any] = payload.get("data") or {}
        custom_id = str(data.get("custom_id") or "")
        if kind == COMPONENT:
            if data.get("component_type") == 3 and custom_id == SELECT_ID:
                values = data.get("values") or []
                action = str(values[0]) if values else ""
            else:
                action = custom_id
            if ":" not in action:
                return True
            where = f"action {action}"
        else:
            if not custom_id.startswith(forms.FORM_PREFIX):
                return True
            name = custom_id[len(forms.FORM_PREFIX) :]
            where = f"form /{name}"
        arrival = Arrival.of(payload, at)
        if self.responder.redelivered(arrival.id, where):
            return True
        state = self.client._connection

        def build() -> discord.Interaction:
            return discord.Interaction(data=payload, state=state)  # type: ignore[arg-type]

        incoming = Incoming(arrival, payload, build)
        if kind == COMPONENT:
            self.press(incoming, action)
        else:
            self.submit(incoming, name, forms.submitted(data.get("components") or []))
        return True

    def press(self, incoming: Incoming, action: str) -> None:
        async def work() -> Outcome:
            interaction = incoming.interaction
            ctx = await self.members.for_interaction(interaction, incoming.receipt)
            if ctx is None:
                text = self.app.translator(incoming.locale, "discord.unknown_place")
                return Outcome(Reply(text=text, ephemeral=True, error=True))
            reply = await self.app.dispatcher.press(ctx, action)
            if not reply.error and interaction.message is not None:
                self.cards.changed(ctx, interaction.message, action)  # e.g. its vote count
            return Outcome(reply, ctx.community.id, ctx.receipt_recorded)

        self.responder.admit(incoming, work, f"action {action}")

    def submit(self, incoming: Incoming, name: str, values: dict[str, str]) -> None:
        async def work() -> Outcome:
            ctx = await self._context(incoming.interaction, incoming.receipt)
            spec = self.app.commands.get(name)

            async def go() -> Reply:
                if spec is None or not spec.form:
                    raise UserError("error.command.unknown", name=name)
                self.app.dispatcher.check_role(ctx, spec.role)
                params = await self._params(ctx, spec, dict(values))
                return await self.app.dispatcher.run(ctx, spec, params)

            reply = await self.app.dispatcher.guard(ctx, f"form /{name}", go)
            return Outcome(reply, ctx.community.id, ctx.receipt_recorded)

        self.responder.admit(incoming, work, f"form /{name}")

    async def close(self) -> None:
        self._no_posts()
        await self.responder.close()

    # -- replies to the bot's messages -----------------------------------------------------------

    async def _in_thread(self, message: discord.Message) -> bool:
        """A message in a suggestion's discussion thread is a comment on it (or a vote, when it
        says "+1"). Only a refusal is answered: the message itself is what members read."""
        thread = await self.threads.find(message.channel.id)
        if thread is None:
            return False
        if not message.content.strip():
            return True  # without the message content intent, only messages mentioning the bot
        now = self.app.clock.now()
        if not await self.messages.first_time(PLATFORM, f"message:{message.id}", now):
            return True
        ctx = await self.members.for_message(message)
        if ctx is None or ctx.community.id != thread.community_id:
            return True
        # Read by the suggestion cog: the message the comment came from, written in the thread.
        ctx.extras = {**(ctx.extras or {}), "origin": f"message:{message.id}", "in_thread": True}
        reply = await self.app.dispatcher.on_reply(ctx, thread.subject, message.content)
        if reply is None or not reply.error:
            return True
        try:
            kwargs = render(reply).send()
            kwargs["delete_after"] = self.tuning.reply_ttl
            await message.reply(mention_author=False, **kwargs)
        except SEND_ERRORS as exc:
            log.warning("could not answer message %s in a thread: %s", message.id, exc)
        return True

    async def on_message(self, message: discord.Message) -> None:
        """A reply such as "+1" to one of the bot's messages about a subject, or a message in
        a suggestion's discussion thread."""
        if message.author.bot:
            return
        in_thread = isinstance(message.channel, discord.Thread | discord.PartialMessageable)
        if in_thread and message.guild is not None and await self._in_thread(message):
            return
        ref = message.reference
        me = self.client.user
        if ref is None or ref.message_id is None or me is None:
            return
        if isinstance(ref.resolved, discord.Message) and ref.resolved.author.id != me.id:
            return
        if not message.content.strip():
            return  # without the message content intent, only replies that mention the bot
        subject = await self.messages.subject_of(
            PLATFORM, str(message.channel.id), str(ref.message_id)
        )
        if not subject:
            return
        now = self.app.clock.now()
        if not await self.messages.first_time(PLATFORM, f"message:{message.id}", now):
            return
        ctx = await self.members.for_message(message)
        if ctx is None:
            return
        ctx.extras = {**(ctx.extras or {}), "origin": f"message:{message.id}"}
        reply = await self.app.dispatcher.on_reply(ctx, subject, message.content)
        if reply is None:
            return
        if not reply.error and isinstance(ref.resolved, discord.Message):
            self.cards.changed(ctx, ref.resolved)  # the vote count on its button
        private = is_private(reply)
        try:
            kwargs = render(reply).send()
            if private:
                kwargs["delete_after"] = self.tuning.reply_ttl
            sent = await message.reply(mention_author=False, **kwargs)
        except SEND_ERRORS as exc:
            # A public answer Discord cannot take now is posted later (without the reply link).
            kept = outage(exc) and await self.responder.later.park(
                reply, ctx.community.id, str(message.channel.id), exc
            )
            if not kept:
                log.warning("could not answer message %s: %s", message.id, exc)
            return
        if reply.subject and not private:
            await self.messages.remember(
                PLATFORM,
                str(message.channel.id),
                str(sent.id),
                reply.subject,
                ctx.community.id,
                now,
            )
