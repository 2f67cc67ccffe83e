"""Telegram adapter: updates in, rendered replies out. Every command comes from the registry.

Groups: `/cmd args` and `/cmd@botname args`; buttons; replies ("+1") to the bot's messages.
Private chat: the same commands for the member's home group, and forms asked step by step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.adapters.telegram.answers import AnswerSlot, Turn
from bot.adapters.telegram.api import LeanApi, answer_params
from bot.adapters.telegram.edits import KeyboardEdits
from bot.adapters.telegram.forms import Forms, Step
from bot.adapters.telegram.inbox import Inbox
from bot.adapters.telegram.members import RECEIPT, Homes, RoleCache, Who
from bot.adapters.telegram.menu import CommandMenu
from bot.adapters.telegram.ordering import MemberOrderedProcessor
from bot.adapters.telegram.post_edits import PostEdits
from bot.adapters.telegram.reader import UpdateReader
from bot.adapters.telegram.sender import Sender
from bot.adapters.telegram.throttle import SendThrottle, SharedThrottle
from bot.core.app import App
from bot.core.context import Context, Receipt
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo
from storage.platform.telegram import TelegramRepo
from storage.platform.telegram_forms import TelegramFormsRepo
from storage.platform.telegram_inbox import TelegramInboxRepo
from storage.platform.telegram_pace import TelegramPaceRepo

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# The update being handled: the messages that follow its press's answer (sent once the handler
# gave back its place), and whether that answer is out.
DISPATCHED_KEPT = 100_000  # update ids remembered as started in this process (a bound)
TURN: ContextVar[Turn | None] = ContextVar("telegram_turn", default=None)
TOAST_LIMIT = 200  # characters Telegram shows in a callback answer
DEEP_LINK_PREFIX = "g"  # /start g<chat id>: this private chat speaks for that group
# Updates in hand (queued for a handler included) before polling waits. A burst is fetched
# (and stored) whole, so that every press gets an answer in time, even a "busy" one.
MAX_PENDING = 20_000
# A button press not answered this many seconds after it was received is answered "received,
# your answer follows" (Telegram gives up on an unanswered press after about 15 s); the result
# then comes as a private message, or on the button itself for buttons that show their state.
ANSWER_BUDGET = 5.0


def file_url_for(base_url: str | None) -> str | None:
    """Self-hosted Bot API servers serve files beside the methods: …/bot → …/file/bot."""
    if base_url and base_url.rstrip("/").endswith("/bot"):
        return base_url.rstrip("/")[: -len("/bot")] + "/file/bot"
    return None


# Updates handled at once (one member's in order). A burst's writes are committed together
# (votes, claims, ballots, new members), so a batch is as large as the presses in flight: with
# 16, a 10,000-press burst ran at 215 updates/s; with 256, at over 1,000 (docs/bursts.md).
CONCURRENCY = 256
STOP_GRACE = 2.0  # seconds handlers under way get to finish when the adapter stops


@dataclass(frozen=True)
class Command:
    name: str  # as typed, without "/" and "@bot"
    rest: str  # the arguments, as typed
    addressed: bool  # "/cmd@thisbot": certainly for us


class TelegramAdapter:
    def __init__(
        self,
        app: App,
        token: str,
        *,
        base_url: str | None = None,
        concurrency: int = CONCURRENCY,
        throttle: SendThrottle | None = None,
    ) -> None:
        self.app = app
        app.translator.load_package("bot.adapters.telegram")
        builder = ApplicationBuilder().token(token).job_queue(None)
        if base_url:
            builder = builder.base_url(base_url)
            file_url = file_url_for(base_url)
            if file_url:
                builder = builder.base_file_url(file_url)
        if concurrency > 1:
            builder = builder.concurrent_updates(MemberOrderedProcessor(concurrency))
        self.application: Application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.bot = self.application.bot
        self.messages = MessagesRepo(app.engine)
        self.repo = TelegramRepo(app.engine)
        self.menu = CommandMenu(app)
        self.forms = Forms(TelegramFormsRepo(app.engine), app.commands)
        self.roles = RoleCache(self.bot, app)
        self.homes = Homes(self.repo, app)
        self.who = Who(app, self.roles, self.homes)
        if throttle is None:
            # On PostgreSQL several processes may serve the bot: the limits are kept there.
            shared = app.engine.dialect.name == "postgresql"
            throttle = SharedThrottle(TelegramPaceRepo(app.engine)) if shared else SendThrottle()
        self.sender = Sender(self.bot, throttle, self.messages, app.clock, app.outbox)
        self.edits = KeyboardEdits(self.bot, self.sender.throttle)
        # Posts about a changed subject edited in place (bot.core.posts).
        self.posts = PostEdits(self.bot, self.sender.throttle, self.messages)
        self._no_posts = app.posts.on_change(PLATFORM, self.posts)
        self.inbox = Inbox(TelegramInboxRepo(app.engine), app.clock)
        self.api = LeanApi(self.bot.base_url)
        self.reader = UpdateReader(self.bot)
        # Callback queries whose webhook request waits for the answer (webhook.py).
        self.answer_slots: dict[str, AnswerSlot] = {}
        self.room = asyncio.Event()  # set while fewer than MAX_PENDING updates are in hand
        self.room.set()
        self._pending = 0
        self._dispatched: OrderedDict[Any, None] = OrderedDict()  # update ids, oldest first
        self._tasks: set[asyncio.Task[Any]] = set()
        self.answer_budget = ANSWER_BUDGET
        self._deadlines: dict[str, asyncio.TimerHandle] = {}  # presses not answered yet
        # Presses answered "received": the sending of that answer (True once it is out).
        self._answered_busy: dict[str, asyncio.Task[bool]] = {}
        self.busy_answers = 0  # presses answered "received" (for the benchmark)

    # -- updates -------------------------------------------------------------------------------

    async def process(self, update: Update) -> None:
        """Handle one update now, unless it was received before (a redelivery)."""
        repo, now = self.inbox.repo, self.app.clock.now()
        if not await repo.store([update.to_dict()], now):
            return  # Telegram delivered this update before: never handle it twice
        await self._handle(update)
        await repo.mark_handled([update.update_id], self.app.clock.now())

    def received(self, raw: dict[str, Any]) -> None:
        """An update just fetched: a press's answer budget starts now, even if its handling
        starts later (polling fetches a burst before handling it)."""
        query = raw.get("callback_query")
        if not isinstance(query, dict) or "id" not in query:
            return
        query_id = str(query["id"])
        if query_id not in self._deadlines and query_id not in self._answered_busy:
            sender = query.get("from")
            locale = sender.get("language_code") if isinstance(sender, dict) else None
            self._deadlines[query_id] = asyncio.get_running_loop().call_later(
                self.answer_budget, self._answer_busy, query_id, locale
            )

    def dispatch(self, raw: dict[str, Any]) -> None:
        """Start handling an update stored in the inbox (concurrently with others, one
        member's updates in order); it is marked handled when its handling finished."""
        update_id = raw.get("update_id")
        if update_id in self._dispatched:
            # Already under way (or done) in this process: the start's replay of the inbox can
            # read an update the webhook or the poller has just stored and handed over.
            return
        self._dispatched[update_id] = None
        if len(self._dispatched) > DISPATCHED_KEPT:
            self._dispatched.popitem(last=False)
        self.received(raw)
        update = self.reader.read(raw)
        self._pending += 1
        if self._pending >= MAX_PENDING:
            self.room.clear()
        task = asyncio.create_task(self._run(update))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._pending -= 1
        if self._pending < MAX_PENDING:
            self.room.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("telegram update failed", exc_info=task.exception())

    async def _run(self, update: Update) -> None:
        turn = Turn()
        follow_ups = turn.follow_ups
        token = TURN.set(turn)
        try:
            processor = self.application.update_processor
            handling = self._handle(update)
            try:
                await processor.process_update(update, handling)
            finally:
                handling.close()  # cancelled before its turn: never started
            while follow_ups:
                try:
                    await follow_ups.pop(0)
                except TelegramError as exc:
                    log.warning("telegram: a reply to update %s failed: %s", update.update_id, exc)
        finally:
            TURN.reset(token)
            for send in follow_ups:  # cut short by a stop: the update is handled again
                send.close()
        if not turn.answer_out:
            self._dispatched.pop(update.update_id, None)  # to be handled again
            log.warning(
                "telegram: the answer to update %s may not have reached Telegram; the update is"
                " handled again at the next start",
                update.update_id,
            )
            return
        self.inbox.handled(update.update_id)

    @property
    def pending(self) -> int:
        return self._pending

    async def idle(self) -> None:
        """Wait until every dispatched update has been handled (tests, benchmarks)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _handle(self, update: Update) -> None:
        token = RECEIPT.set(Receipt(PLATFORM, str(update.update_id)))
        try:
            # Errors are logged by the error handler; the update counts as handled then too,
            # or it would fail again at every start. A cancelled one (a stop) is handled again.
            await self.application.process_update(update)
        finally:
            RECEIPT.reset(token)

    async def close(self) -> None:
        """Stop handling (what is cut short is handled again at the next start), write the
        handled marks, close the HTTP session."""
        self._no_posts()
        for deadline in self._deadlines.values():
            deadline.cancel()
        self._deadlines.clear()
        if self._tasks:
            # Handlers waiting for a sending slot store their reply in the outbox once the
            # sender stops (`Sender.stopping`): let them, so those updates count as handled.
            await asyncio.wait(list(self._tasks), timeout=STOP_GRACE)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.inbox.close()
        await self.api.close()

    def _answer_busy(self, query_id: str, locale: str | None) -> None:
        """A press still unanswered at its budget: "received, your answer follows". Its update
        is marked handled only once this answer is out (`_busy_answer_out`)."""
        self._deadlines.pop(query_id, None)
        self.busy_answers += 1
        self.app.metrics.missed(PLATFORM)
        self.app.metrics.answered(PLATFORM, self.answer_budget)
        text = self.app.translator(locale, "telegram.busy")[:TOAST_LIMIT]
        task = asyncio.create_task(self._deliver(answer_params(query_id, text)))
        self._answered_busy[query_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, params: dict[str, Any]) -> bool:
        """Send an answer: in the webhook's response when its request still waits, otherwise
        with a request of its own. True once it is out (Telegram performed it, or refused it:
        nothing to try again), False when that could not be confirmed."""
        slot = self.answer_slots.get(str(params["callback_query_id"]))
        if slot is not None and slot.hand_over(params) and await asyncio.shield(slot.out):
            return True
        return await self.api.answer_callback(params)

    def _not_out(self, query_id: str) -> None:
        turn = TURN.get()
        if turn is not None:
            turn.answer_out = False
        else:
            log.warning("telegram: the answer to query %s may not have reached Telegram", query_id)

    async def _busy_answer_out(self, query_id: str) -> None:
        """Wait until the "received" answer to a press (if it had one) is out."""
        task = self._answered_busy.pop(query_id, None)
        if task is not None and not await asyncio.shield(task):
            self._not_out(query_id)

    async def answer_callback(self, query_id: str, text: str = "", alert: bool = False) -> None:
        """Answer a button press: in the webhook's response when its request still waits,
        otherwise with a request of its own (nothing when it was answered "busy"). Returns once
        the answer is out; when that could not be confirmed, the update is not marked handled
        (it is handled again at the next start)."""
        deadline = self._deadlines.pop(query_id, None)
        if deadline is not None:
            deadline.cancel()
            # The deadline was set `answer_budget` after the press was received.
            waited = asyncio.get_running_loop().time() - (deadline.when() - self.answer_budget)
            self.app.metrics.answered(PLATFORM, waited)
        if query_id in self._answered_busy:
            return
        if not await self._deliver(answer_params(query_id, text, alert)):
            self._not_out(query_id)

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await self._on_callback(update.callback_query)
        elif update.message is not None:
            await self._on_message(update.message)
        elif update.my_chat_member is not None:
            await self.roles.changed(update.my_chat_member.chat.id)
        elif update.chat_member is not None:
            await self.roles.changed(update.chat_member.chat.id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %r", update, exc_info=context.error)

    # -- messages ------------------------------------------------------------------------------

    async def _on_message(self, msg: Message) -> None:
        chat = msg.chat
        if msg.migrate_to_chat_id:
            await self._migrated(chat.id, msg.migrate_to_chat_id)
            return
        command = self._command(msg)
        user = msg.from_user
        if msg.sender_chat is not None and msg.sender_chat.id == chat.id:
            # An anonymous administrator: Telegram does not tell us who it is.
            if command is not None and (command.addressed or self.menu.resolve(command.name)):
                await self._say(chat, None, msg, "telegram.anonymous_admin")
            return
        if user is None or user.is_bot:
            return
        if chat.type == Chat.PRIVATE:
            self.sender.reachable_again(user.id)
        if command is not None:
            await self._on_command(msg, chat, user, command)
        elif msg.reply_to_message is not None and self._is_ours(msg.reply_to_message):
            await self._on_reply(msg, chat, user)
        elif chat.type == Chat.PRIVATE and msg.text is not None:
            await self._on_private_text(msg, chat, user)

    def _command(self, msg: Message) -> Command | None:
        text = msg.text or ""
        entity = next((e for e in msg.entities if e.type == "bot_command" and e.offset == 0), None)
        if entity is None:
            return None
        token = msg.parse_entity(entity)[1:]
        name, _, bot_name = token.partition("@")
        if bot_name and bot_name.lower() != (self.bot.username or "").lower():
            return None  # for another bot
        rest = text[len(msg.parse_entity(entity)) :].strip()
        return Command(name.lower(), rest, addressed=bool(bot_name))

    def _is_ours(self, msg: Message) -> bool:
        return msg.from_user is not None and msg.from_user.id == self.bot.id

    async def _on_command(self, msg: Message, chat: Chat, user: User, command: Command) -> None:
        private = chat.type == Chat.PRIVATE
        if (
            private
            and command.name in ("cancel", "skip")
            and self.menu.resolve(command.name) is None
        ):
            await self._form_control(msg, chat, user, command.name)
            return
        if command.name == "start" and self.menu.resolve("start") is None:
            if private or command.addressed:  # a bare /start in a group is for every bot
                await self._start(msg, chat, user, command.rest)
            return
        head = self.menu.resolve(command.name)
        if head is None and not (private or command.addressed):
            return  # probably another bot's command in a shared group
        if private:
            await self.forms.cancel(user.id)  # a new command abandons a form in progress
        ctx = await self.who.context(chat, user)
        if ctx is None:
            await self._say(chat, user, msg, "telegram.private.no_home")
            return
        if head is not None and self.menu.is_group(head):
            subs = self.menu.subcommands(head)
            first = command.rest.split(maxsplit=1)[0].lower() if command.rest else ""
            if first not in subs:
                usage = ctx.t("telegram.group.usage", group=head, subcommands=", ".join(subs))
                await self._respond(ctx, chat, user, msg, Reply(text=usage, ephemeral=True))
                return
        spec = self.menu.spec(head) if head else None
        if private and spec is not None and spec.form and spec.params and not command.rest:
            reply = await self.app.dispatcher.guard(
                ctx, f"/{spec.name}", lambda: self._start_form(ctx, user, spec.name)
            )
            await self._respond(ctx, chat, user, msg, reply)
            return
        line = f"/{head or command.name} {command.rest}".strip()
        reply = await self.app.dispatcher.run_line(ctx, line)
        await self._respond(ctx, chat, user, msg, reply)

    async def _start_form(self, ctx: Context, user: User, name: str) -> Reply:
        spec = self.app.commands.get(name)
        assert spec is not None
        self.app.dispatcher.check_role(ctx, spec.role)
        return await self.forms.start(ctx, user.id, spec)

    async def _form_control(self, msg: Message, chat: Chat, user: User, name: str) -> None:
        ctx = await self.who.context(chat, user)
        if ctx is None:
            await self._say(chat, user, msg, "telegram.private.no_home")
            return
        if name == "cancel":
            cancelled = await self.forms.cancel(user.id)
            key = "telegram.form.cancelled" if cancelled else "telegram.form.none"
            await self._respond(ctx, chat, user, msg, Reply(text=ctx.t(key), ephemeral=True))
            return
        step = await self.forms.skip(ctx, user.id)
        if step is None:
            reply = Reply(text=ctx.t("telegram.form.none"), ephemeral=True)
            await self._respond(ctx, chat, user, msg, reply)
            return
        await self._form_step(ctx, chat, user, msg, step)

    async def _on_private_text(self, msg: Message, chat: Chat, user: User) -> None:
        ctx = await self.who.context(chat, user)
        if ctx is None:
            await self._say(chat, user, msg, "telegram.private.no_home")
            return
        step = await self.forms.answer(ctx, user.id, msg.text or "")
        if step is None:  # no form in progress (or it lapsed)
            reply = Reply(text=ctx.t("telegram.private.hint"), ephemeral=True)
            await self._respond(ctx, chat, user, msg, reply)
            return
        await self._form_step(ctx, chat, user, msg, step)

    async def _form_step(
        self, ctx: Context, chat: Chat, user: User, msg: Message, step: Step
    ) -> None:
        if step.reply is not None:
            await self._respond(ctx, chat, user, msg, step.reply)
        if step.ready is not None:
            reply = await self.app.dispatcher.run(ctx, step.ready.spec, step.ready.values)
            await self._respond(ctx, chat, user, msg, reply)

    async def _start(self, msg: Message, chat: Chat, user: User, payload: str) -> None:
        """/start: Telegram's first message in a private chat, possibly from a group's link."""
        if chat.type == Chat.PRIVATE and payload.startswith(DEEP_LINK_PREFIX):
            with contextlib.suppress(ValueError):
                group_id = int(payload[len(DEEP_LINK_PREFIX) :])
                if group_id < 0 and await self.who.is_member(self.bot, group_id, user.id):
                    group = await self.bot.get_chat(group_id)
                    self.homes.touch(user.id, group_id, group.title or str(group_id))
                    await self.homes.flush()
        ctx = await self.who.context(chat, user)
        if ctx is None:
            await self._say(chat, user, msg, "telegram.private.no_home")
            return
        reply = await self.app.dispatcher.run_line(ctx, "/help")
        if chat.type == Chat.PRIVATE:
            reply.title = ctx.t("telegram.private.home", group=ctx.community.name)
        await self._respond(ctx, chat, user, msg, reply)

    async def _on_reply(self, msg: Message, chat: Chat, user: User) -> None:
        """A reply to one of the bot's messages: "+1" to a suggestion counts as a vote."""
        replied = msg.reply_to_message
        assert replied is not None
        subject = await self.messages.subject_of(PLATFORM, str(chat.id), str(replied.message_id))
        if subject is None:
            return
        ctx = await self.who.context(chat, user)
        if ctx is None:
            return
        # Read by the suggestion cog: a reply that is a comment is kept once per message.
        ctx.extras = {**(ctx.extras or {}), "origin": f"{chat.id}:{msg.message_id}"}
        reply = await self.app.dispatcher.on_reply(ctx, subject, msg.text or msg.caption or "")
        if reply is not None:
            if not reply.error:
                self.edits.changed(self.app.dispatcher, ctx, replied)  # its vote count
            await self._respond(ctx, chat, user, msg, reply)

    async def _migrated(self, old: int, new: int) -> None:
        await self.repo.migrate_chat(str(old), str(new))
        self.homes.moved(old, new)
        self.roles.forget(old)

    # -- buttons -------------------------------------------------------------------------------

    async def _on_callback(self, query: CallbackQuery) -> None:
        answered = False
        try:
            message = query.message
            if message is None or query.data is None:
                return
            chat = message.chat
            ctx = await self.who.context(chat, query.from_user)
            if ctx is None:
                text = self.app.translator(
                    query.from_user.language_code, "telegram.private.no_home"
                )
                answered = True
                await self.answer_callback(query.id, text[:TOAST_LIMIT], alert=True)
                return
            reply = await self.app.dispatcher.press(ctx, query.data)
            if not reply.error and isinstance(message, Message):
                # e.g. the vote count it shows
                self.edits.changed(self.app.dispatcher, ctx, message, query.data)
            late = query.id in self._answered_busy
            if _fits_toast(reply) and not late:
                answered = True
                await self.answer_callback(query.id, reply.plain_text(), alert=reply.error)
                return
            answered = True
            if not late:
                await self.answer_callback(query.id)
            elif _fits_toast(reply) and self.app.dispatcher.refreshes(query.data):
                return  # answered "busy"; the button shows the new state (the vote count)
            source = message.message_id if isinstance(message, Message) else None
            await self._later(self._press_reply(ctx, chat, query.from_user, reply, source))
        finally:
            if not answered:
                await self.answer_callback(query.id)
            await self._busy_answer_out(query.id)

    async def _press_reply(
        self, ctx: Context, chat: Chat, user: User, reply: Reply, source: int | None
    ) -> None:
        await self.sender.respond(
            chat.id,
            user.id,
            reply,
            ctx.community.id,
            reply_to=source,
            **self._start_link(ctx, chat),
        )
        await self._share(ctx, chat, reply)

    async def _later(self, send: Coroutine[Any, Any, None]) -> None:
        """A message that follows a press already answered: sent after the update's handler
        has given back its place among the updates handled at once (messages wait for
        Telegram's sending limits, the next presses need not); the update counts as handled
        once it is sent."""
        turn = TURN.get()
        if turn is None:
            await send
        else:
            turn.follow_ups.append(send)

    # -- output --------------------------------------------------------------------------------

    async def _respond(
        self, ctx: Context, chat: Chat, user: User, msg: Message, reply: Reply
    ) -> None:
        await self.sender.respond(
            chat.id,
            user.id,
            reply,
            ctx.community.id,
            reply_to=msg.message_id,
            **self._start_link(ctx, chat),
        )
        await self._share(ctx, chat, reply)

    async def _share(self, ctx: Context, chat: Chat, reply: Reply) -> None:
        """A public reply in a private chat about something the group has not seen yet (a
        suggestion just made through the form) is posted in the home group too."""
        if chat.type != Chat.PRIVATE or reply.ephemeral or reply.error or not reply.subject:
            return
        if ctx.space_id == str(chat.id) or await self.repo.posted(ctx.space_id, reply.subject):
            return
        try:
            await self.sender.send(int(ctx.space_id), reply, ctx.community.id)
        except TelegramError as exc:
            log.warning("telegram: could not post to group %s: %s", ctx.space_id, exc)

    def _start_link(self, ctx: Context, chat: Chat) -> dict[str, str]:
        if chat.type == Chat.PRIVATE or not self.bot.username:
            return {}
        link = f"https://t.me/{self.bot.username}?start={DEEP_LINK_PREFIX}{chat.id}"
        return {"start_link": link, "start_label": ctx.t("telegram.private.open")}

    async def _say(self, chat: Chat, user: User | None, msg: Message, key: str) -> None:
        """A message of the adapter's own, before any community is known."""
        locale = user.language_code if user is not None else None
        text = self.app.translator(locale, key)
        with contextlib.suppress(TelegramError):
            await self.sender.send(chat.id, Reply(text=text), None, reply_to=msg.message_id)


def _fits_toast(reply: Reply) -> bool:
    """Short ephemeral text is best shown as the button's answer (a toast, or an alert)."""
    return (
        reply.ephemeral
        and not reply.buttons
        and reply.select is None
        and reply.image is None
        and len(reply.plain_text()) <= TOAST_LIMIT
    )
