"""The registry as Telegram commands: names Telegram accepts, and the per-language menus."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import datetime

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
)

from bot.core.app import App
from bot.core.commands import CommandSpec, Role
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# Telegram locale code per catalog: the English menu is the default one.
MENU_LANGUAGES = {"en": None, "zh_CN": "zh"}
MAX_COMMANDS = 100


def telegram_name(name: str) -> str:
    """A registry name as a Telegram command: [a-z0-9_], at most 32 characters."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())[:32]


class CommandMenu:
    """Maps Telegram command names to the registry's (a group such as `drop` is one entry)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.heads: dict[str, list[CommandSpec]] = {}
        for spec in app.commands.all():
            if spec.platforms and PLATFORM not in spec.platforms:
                continue
            self.heads.setdefault(spec.group or spec.name, []).append(spec)
        self.by_telegram = {telegram_name(head): head for head in self.heads}

    def resolve(self, telegram_command: str) -> str | None:
        """The registry head (`suggest`, or the group `drop`) a typed command stands for."""
        low = telegram_command.lower()
        if low in self.heads:
            return low
        return self.by_telegram.get(low)

    def is_group(self, head: str) -> bool:
        return any(spec.group == head for spec in self.heads.get(head, []))

    def subcommands(self, head: str) -> list[str]:
        return [spec.leaf for spec in self.heads.get(head, []) if spec.group == head]

    def spec(self, head: str) -> CommandSpec | None:
        return self.app.commands.get(head)

    def entries(self, locale: str, max_role: Role) -> list[BotCommand]:
        tr = self.app.translator
        out: list[BotCommand] = []
        for head, specs in sorted(self.heads.items()):
            visible = [s for s in specs if s.role <= max_role]
            if not visible:
                continue
            if len(specs) == 1 and specs[0].group is None:
                description = tr(locale, specs[0].help_key)
            elif tr.has(f"help.{head}"):
                description = tr(locale, f"help.{head}")
            else:
                description = tr(
                    locale, "telegram.menu.group", subcommands=" · ".join(s.leaf for s in visible)
                )
            out.append(BotCommand(telegram_name(head), _fit(description)))
        return out[:MAX_COMMANDS]

    def menus(self) -> list[tuple[BotCommandScope, str | None, list[BotCommand]]]:
        """Everyone sees the fan commands; administrators see every command. English is the
        default menu, Chinese is shown to members whose Telegram is set to Chinese."""
        scopes: list[tuple[BotCommandScope, Role]] = [
            (BotCommandScopeDefault(), Role.FAN),
            (BotCommandScopeAllChatAdministrators(), Role.OWNER),
        ]
        return [
            (scope, code, self.entries(locale, role))
            for scope, role in scopes
            for locale, code in MENU_LANGUAGES.items()
        ]

    async def publish(self, bot: Bot) -> None:
        for scope, code, entries in self.menus():
            await bot.set_my_commands(entries, scope=scope, language_code=code)

    def fingerprint(self) -> str:
        """What the menus say, in 32 hex digits: equal for every process of one release."""
        shown = [
            [scope.type, code, [(c.command, c.description) for c in entries]]
            for scope, code, entries in self.menus()
        ]
        return hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:32]

    async def publish_once(self, bot: Bot, messages: MessagesRepo, now: datetime) -> bool:
        """Publish the menus unless a process on this database published these very menus in
        the last `event_retention_days` (remembered as a platform event): several processes
        starting together, or one restarting, set them once. False when skipped."""
        key = f"menu:{self.fingerprint()}"
        if not await messages.first_time(PLATFORM, key, now):
            log.info("telegram: the command menu is up to date")
            return False
        try:
            await self.publish(bot)
        except BaseException:
            await messages.forget_event(PLATFORM, key)  # the next start tries again
            raise
        return True


def _fit(text: str) -> str:
    line = " ".join(text.split()) or "—"
    return line if len(line) <= 256 else line[:255] + "…"
