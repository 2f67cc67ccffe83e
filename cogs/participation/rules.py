"""How many points each kind of contribution earns: per community, with sensible defaults.

Each known kind has an owner setting `points_<kind>` (0 turns it off); `points_daily_cap` limits
how many contributions of one kind earn points per member per day (in the community's time zone),
so that voting on everything in sight is not a way up the leaderboard. Kinds nobody declared a
value for are not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.commands import ParamType
from bot.core.settings import SettingSpec, SettingsService

# Kind -> default points. The suggestion loop, the weekly four-grid report and reservation drops
# report these kinds; each cog registers its own contribution source, loaded or not.
DEFAULT_POINTS: dict[str, int] = {
    "vote": 1,
    "suggestion_planned": 10,
    "suggestion_shipped": 20,
    "report": 3,
    "reservation": 1,
}
KINDS: tuple[str, ...] = tuple(DEFAULT_POINTS)
DEFAULT_DAILY_CAP = 20
CAP_KEY = "points_daily_cap"
MAX_POINTS = 1000


def setting_key(kind: str) -> str:
    return f"points_{kind}"


@dataclass(frozen=True)
class Rules:
    values: dict[str, int]
    daily_cap: int  # 0: no cap

    def value(self, kind: str) -> int:
        return self.values.get(kind, 0)

    def knows(self, kind: str) -> bool:
        return kind in self.values


DEFAULT_RULES = Rules(dict(DEFAULT_POINTS), DEFAULT_DAILY_CAP)


def declare(settings: SettingsService) -> None:
    for kind, default in DEFAULT_POINTS.items():
        settings.declare(
            SettingSpec(
                setting_key(kind),
                f"setting.{setting_key(kind)}",
                ParamType.INT,
                default,
                min=0,
                max=MAX_POINTS,
            )
        )
    settings.declare(
        SettingSpec(
            CAP_KEY, f"setting.{CAP_KEY}", ParamType.INT, DEFAULT_DAILY_CAP, min=0, max=10_000
        )
    )


async def load_rules(settings: SettingsService, community_id: int) -> Rules:
    values = await settings.all(community_id)
    return Rules(
        {kind: int(values[setting_key(kind)]) for kind in KINDS},
        int(values[CAP_KEY]),
    )
