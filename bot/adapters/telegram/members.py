"""Who acts and where: roles from the chat's administrators (cached briefly), and the home
group that a member's private chat with the bot speaks for."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from datetime import datetime, timedelta

from telegram import Bot, Chat, User
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.core.app import App
from bot.core.commands import Role
from bot.core.context import Context, Receipt
from storage.platform.telegram import Home, TelegramRepo

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ROLE_TTL = timedelta(minutes=5)
# The change-feed topic (bot/core/change_feed.py) of a chat whose administrators changed.
ROLES_TOPIC = "telegram_roles"
HOME_REWRITE = timedelta(minutes=10)  # refresh a member's home at most this often
# The update being handled: its receipt goes with the request's context, so that a service
# recording it with its effect acts once when the update is handled again after a crash.
RECEIPT: ContextVar[Receipt | None] = ContextVar("telegram_receipt", default=None)
MEMBER_STATUSES = {
    ChatMemberStatus.OWNER,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
    ChatMemberStatus.RESTRICTED,
}


class RoleCache:
    """The chat's creator is owner, its administrators are admins, everyone else a fan.
    One getChatAdministrators call per chat every few minutes answers for all its members.

    Telegram tells one process (the one its update reaches) that a chat's members changed
    (`chat_member`, `my_chat_member`); `changed` forgets the chat here and, through the change
    feed, in every other process on the same database."""

    def __init__(self, bot: Bot, app: App, ttl: timedelta = ROLE_TTL) -> None:
        self.bot = bot
        self.app = app
        self.ttl = ttl
        self._cache: dict[int, tuple[datetime, dict[int, Role]]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        app.changes.subscribe(ROLES_TOPIC, self._heard)
        app.changes.on_resync(self._cache.clear)

    async def changed(self, chat_id: int) -> None:
        """A chat's members or administrators changed: forget it everywhere."""
        self.forget(chat_id)
        try:
            await self.app.changes.announce(ROLES_TOPIC, {"chat": chat_id})
        except Exception as exc:  # the others see it when their entry expires
            log.warning("telegram: could not tell the other processes of %s: %s", chat_id, exc)

    def _heard(self, data: dict[str, object]) -> None:
        chat = data.get("chat")
        if isinstance(chat, int):
            self.forget(chat)

    async def role(self, chat_id: int, user_id: int) -> Role:
        if chat_id > 0:
            return Role.FAN
        return (await self._admins(chat_id)).get(user_id, Role.FAN)

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)

    async def _admins(self, chat_id: int) -> dict[int, Role]:
        now = self.app.clock.now()
        entry = self._cache.get(chat_id)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            entry = self._cache.get(chat_id)
            if entry is not None and now - entry[0] < self.ttl:
                return entry[1]
            try:
                admins = await self.bot.get_chat_administrators(chat_id)
            except TelegramError as exc:
                log.warning("telegram: cannot read the administrators of %s: %s", chat_id, exc)
                # Keep what we knew a little longer; knowing nothing, everyone is a fan.
                roles = entry[1] if entry is not None else {}
            else:
                roles = {
                    a.user.id: Role.OWNER if a.status == ChatMemberStatus.OWNER else Role.ADMIN
                    for a in admins
                }
            self._cache[chat_id] = (now, roles)
            return roles


class Homes:
    """The group a member last used the bot in: their private chat speaks for its community.

    Kept in memory and written to the database in batches (`flush`), so that using the bot in
    a group costs no extra write per update."""

    def __init__(self, repo: TelegramRepo, app: App) -> None:
        self.repo = repo
        self.app = app
        self._known: dict[int, tuple[Home, datetime]] = {}
        self._pending: dict[int, tuple[Home, datetime]] = {}
        self._writing: asyncio.Future[None] | None = None

    async def get(self, user_id: int) -> Home | None:
        known = self._known.get(user_id)
        if known is not None:
            return known[0]
        home = await self.repo.home(str(user_id))
        if home is not None:
            self._known[user_id] = (home, self.app.clock.now())
        return home

    def touch(self, user_id: int, chat_id: int, title: str) -> None:
        now = self.app.clock.now()
        home = Home(str(chat_id), title)
        known = self._known.get(user_id)
        if known is not None and known[0] == home and now - known[1] < HOME_REWRITE:
            return
        if len(self._known) > 100_000:
            self._known.clear()
        self._known[user_id] = self._pending[user_id] = (home, now)

    async def flush(self) -> None:
        """Write the homes noted since the last flush. The write is shielded: a stop that
        cancels the caller lets it finish (cut short inside its transaction, it would leave
        SQLite's write lock with a half-closed connection and lose the batch), and the next
        flush waits for it first."""
        if self._writing is not None and not self._writing.done():
            await asyncio.wait([self._writing])
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        self._writing = asyncio.ensure_future(self._write(batch))
        # Its error is raised to the caller below, or to nobody after a stop: seen either way.
        self._writing.add_done_callback(lambda f: f.cancelled() or f.exception())
        await asyncio.shield(self._writing)

    async def _write(self, batch: dict[int, tuple[Home, datetime]]) -> None:
        try:
            await self.repo.set_homes([(str(u), home, at) for u, (home, at) in batch.items()])
        except Exception:
            for user_id, entry in batch.items():  # try again at the next flush
                self._pending.setdefault(user_id, entry)
            raise

    def moved(self, old_chat_id: int, new_chat_id: int) -> None:
        for table in (self._known, self._pending):
            for user_id, (home, at) in list(table.items()):
                if home.chat_id == str(old_chat_id):
                    table[user_id] = (Home(str(new_chat_id), home.chat_title), at)


def display_name(user: User) -> str:
    return user.full_name or user.username or str(user.id)


def chat_title(chat: Chat) -> str:
    return chat.title or chat.effective_name or str(chat.id)


class Who:
    def __init__(self, app: App, roles: RoleCache, homes: Homes) -> None:
        self.app = app
        self.roles = roles
        self.homes = homes

    async def context(self, chat: Chat, user: User) -> Context | None:
        """The member's context; None in a private chat before they used any group."""
        if chat.type == Chat.PRIVATE:
            home = await self.homes.get(user.id)
            if home is None:
                return None
            space_id, space_name = home.chat_id, home.chat_title
        else:
            space_id, space_name = str(chat.id), chat_title(chat)
            self.homes.touch(user.id, chat.id, space_name)
        role = await self.roles.role(int(space_id), user.id)
        return await self.app.context(
            platform=PLATFORM,
            space_id=space_id,
            space_name=space_name,
            user_id=str(user.id),
            display_name=display_name(user),
            role=role,
            locale_hint=user.language_code,
            receipt=RECEIPT.get(),
        )

    async def is_member(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError:
            return False
        return member.status in MEMBER_STATUSES
