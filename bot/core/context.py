"""Who acts, where, in which language, at what time, with which services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot.core.commands import Role

if TYPE_CHECKING:
    from bot.core.app import App

T = TypeVar("T")


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
    app: App
    member: Member
    community: Community
    locale: str
    platform: str
    space_id: str
    # Platform extras an adapter wants to pass to a handler (e.g. the Discord roles of the member).
    extras: dict[str, Any] | None = None

    def t(self, key: str, /, **params: Any) -> str:
        return self.app.translator(self.locale, key, **params)

    def now(self) -> datetime:
        return self.app.clock.now()

    def service(self, cls: type[T]) -> T:
        return self.app.services.get(cls)

    @property
    def is_admin(self) -> bool:
        return self.member.role >= Role.ADMIN
