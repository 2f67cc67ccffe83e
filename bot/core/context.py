"""Who acts, where, in which language, at what time, with which services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from bot.core.commands import Role

if TYPE_CHECKING:
    from bot.core.app import App
    from bot.core.commands import CommandRegistry
    from bot.core.i18n import Translator
    from bot.core.outbox import Outbox
    from bot.core.settings import SettingsService
    from storage.core.identity import IdentityRepo

T = TypeVar("T")


@dataclass(frozen=True)
class Receipt:
    """What identifies one delivery of a request: ("telegram", "<update id>"), say."""

    platform: str
    event_id: str


@dataclass(frozen=True)
class Member:
    account_id: int
    display_name: str
    role: Role
    platform: str
    platform_user_id: str


@dataclass(frozen=True)
class Community:
    id: int
    name: str


@dataclass
class Context:
    """One request: handlers get what they need through it (`t`, `now`, `service`, …)."""

    _app: App = field(repr=False)
    member: Member
    community: Community
    locale: str
    platform: str
    space_id: str
    # Platform extras an adapter wants to pass to a handler (e.g. the Discord roles of the member).
    extras: dict[str, Any] | None = None
    # The delivery that caused this request (platform, event id): a Discord interaction, a
    # Telegram update. A service that commits the request's effect may record it in the same
    # transaction (see docs/bursts.md), so a redelivery after a crash acts once.
    receipt: Receipt | None = None
    # Set by a service that recorded the receipt in the transaction of its effect: the adapter
    # then has nothing left to record for this delivery.
    receipt_recorded: bool = False

    def t(self, key: str, /, **params: Any) -> str:
        """The message `key` in the member's language."""
        return self._app.translator(self.locale, key, **params)

    def now(self) -> datetime:
        return self._app.clock.now()

    async def timezone(self) -> ZoneInfo:
        """The community's time zone."""
        return await self._app.community_settings.timezone(self.community.id)

    def service(self, cls: type[T]) -> T:
        """A cog's service, registered under `cls` (LookupError when its cog is not loaded)."""
        return self._app.services.get(cls)

    def find_service(self, cls: type[T]) -> T | None:
        """A cog's service, or None when its cog is not loaded."""
        return self._app.services.find(cls)

    @property
    def translator(self) -> Translator:
        """Every catalog: for text in other members' languages (notifications)."""
        return self._app.translator

    @property
    def outbox(self) -> Outbox:
        """Announcements and notifications to other members."""
        return self._app.outbox

    @property
    def identity(self) -> IdentityRepo:
        """Accounts, their platform identities and the community's platform spaces."""
        return self._app.identity

    @property
    def community_settings(self) -> SettingsService:
        return self._app.community_settings

    @property
    def commands(self) -> CommandRegistry:
        return self._app.commands

    async def subject_changed(self, subject: str) -> None:
        """What the bot's posts about `subject` ("sg:12") show has changed: platforms that can
        edit their messages bring them up to date (in the background; see `bot.core.posts`)."""
        locale = await self._app.community_locale(self.community.id)
        self._app.posts.changed(self, subject, locale)

    @property
    def is_admin(self) -> bool:
        return self.member.role >= Role.ADMIN
