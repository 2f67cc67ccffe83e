"""Community settings declared by the core and by cogs, stored per community, shown in /settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.commands import Param, ParamType, Role, convert
from bot.core.errors import UserError
from storage.core.settings import SettingsRepo


@dataclass(frozen=True)
class SettingSpec:
    key: str
    help_key: str
    type: ParamType
    default: Any
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    role: Role = Role.OWNER
    # Extra check after conversion; raises UserError.
    validate: Callable[[Any], Any] | None = None
    # How /settings shows a set value (a webhook address, masked); None: as it is.
    show: Callable[[Any], str] | None = None

    def parse(self, raw: str) -> Any:
        param = Param(self.key, self.type, min=self.min, max=self.max, choices=self.choices)
        if self.type is ParamType.DURATION:
            value = int(convert(param, raw).total_seconds())
        else:
            value = convert(param, raw)
        if self.validate is not None:
            value = self.validate(value)
        return value


def validate_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError("error.setting.timezone", value=value) from None
    return value


class SettingsService:
    def __init__(self, repo: SettingsRepo) -> None:
        self.repo = repo
        self._specs: dict[str, SettingSpec] = {}
        self._cache: dict[int, dict[str, Any]] = {}

    def declare(self, spec: SettingSpec) -> None:
        if spec.key in self._specs:
            raise ValueError(f"setting {spec.key!r} declared twice")
        self._specs[spec.key] = spec

    def specs(self) -> list[SettingSpec]:
        return sorted(self._specs.values(), key=lambda s: s.key)

    def spec(self, key: str) -> SettingSpec:
        try:
            return self._specs[key]
        except KeyError:
            raise UserError("error.setting.unknown", key=key) from None

    async def all(self, community_id: int) -> dict[str, Any]:
        stored = await self._stored(community_id)
        return {k: stored.get(k, s.default) for k, s in self._specs.items()}

    async def get(self, community_id: int, key: str) -> Any:
        spec = self.spec(key)
        stored = self._cache.get(community_id)  # on every event: no dict of every setting built
        if stored is None:
            stored = await self._stored(community_id)
        return stored.get(spec.key, spec.default)

    async def _stored(self, community_id: int) -> dict[str, Any]:
        stored = self._cache.get(community_id)
        if stored is None:
            stored = self._cache[community_id] = await self.repo.all(community_id)
        return stored

    async def timezone(self, community_id: int) -> ZoneInfo:
        """The community's time zone (the core's `timezone` setting)."""
        return ZoneInfo(str(await self.get(community_id, "timezone")))

    async def language(self, community_id: int) -> str:
        """The community's default catalog locale (the core's `language` setting)."""
        return str(await self.get(community_id, "language"))

    async def set(self, community_id: int, key: str, raw: str) -> Any:
        spec = self.spec(key)
        value = spec.parse(raw)
        await self.repo.put(community_id, key, value)
        self._cache.pop(community_id, None)
        return value

    async def reset(self, community_id: int, key: str) -> Any:
        spec = self.spec(key)
        await self.repo.remove(community_id, key)
        self._cache.pop(community_id, None)
        return spec.default

    def forget(self, community_id: int) -> None:
        """Drop the cached values (another process may have changed them)."""
        self._cache.pop(community_id, None)
