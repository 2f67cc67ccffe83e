"""The weekly loop's community settings (owners change them with /settings) and a typed view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.core.commands import ParamType
from bot.core.errors import UserError
from bot.core.settings import SettingSpec, SettingsService
from cogs.weekly.fourgrid import Grid

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_DURATION = timedelta(hours=1)
MAX_DURATION = timedelta(days=6)  # a report closes before the next week's opens
_TIME = re.compile(r"^\s*(\d{1,2})[:：](\d{2})\s*$")


def parse_time(value: str) -> tuple[int, int]:
    match = _TIME.match(value)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise UserError("weekly.setting.bad_time", value=value)
    return int(match.group(1)), int(match.group(2))


def _time(value: Any) -> str:
    hour, minute = parse_time(str(value))
    return f"{hour:02d}:{minute:02d}"


def check_duration(value: Any) -> int:
    """How long a report stays open, in seconds (a setting, or a reopening's length)."""
    seconds = int(value)
    if not MIN_DURATION.total_seconds() <= seconds <= MAX_DURATION.total_seconds():
        raise UserError("weekly.setting.bad_duration", min="1h", max="6d")
    return seconds


def parse_labels(value: str) -> list[str] | None:
    """Four labels separated by "|" (None for the localized defaults)."""
    text = value.strip()
    if not text:
        return None
    labels = [part.strip() for part in re.split(r"[|｜]", text)]
    if len(labels) != len(Grid) or not all(labels) or any(len(x) > 40 for x in labels):
        raise UserError("weekly.setting.bad_labels")
    if len({x.casefold() for x in labels}) != len(labels):
        raise UserError("weekly.setting.bad_labels")
    return labels


def _labels(value: Any) -> str:
    labels = parse_labels(str(value))
    return " | ".join(labels) if labels else ""


SETTINGS = (
    SettingSpec("fourgrid_day", "setting.fourgrid_day", ParamType.CHOICE, "tue", choices=DAYS),
    SettingSpec("fourgrid_time", "setting.fourgrid_time", ParamType.TEXT, "10:00", validate=_time),
    SettingSpec(
        "fourgrid_duration",
        "setting.fourgrid_duration",
        ParamType.DURATION,
        int(timedelta(hours=48).total_seconds()),
        validate=check_duration,
    ),
    SettingSpec("fourgrid_auto", "setting.fourgrid_auto", ParamType.BOOL, True),
    SettingSpec(
        "fourgrid_labels", "setting.fourgrid_labels", ParamType.TEXT, "", max=200, validate=_labels
    ),
    SettingSpec(
        "fourgrid_threshold", "setting.fourgrid_threshold", ParamType.INT, 30, min=1, max=100
    ),
    SettingSpec(
        "fourgrid_min_ballots", "setting.fourgrid_min_ballots", ParamType.INT, 10, min=1, max=10**6
    ),
    SettingSpec("digest_time", "setting.digest_time", ParamType.TEXT, "09:00", validate=_time),
    SettingSpec("roadmap_day", "setting.roadmap_day", ParamType.INT, 1, min=0, max=28),
    SettingSpec("roadmap_time", "setting.roadmap_time", ParamType.TEXT, "10:00", validate=_time),
)


@dataclass(frozen=True)
class WeeklyConfig:
    day: str
    hour: int
    minute: int
    duration: timedelta
    auto: bool
    labels: list[str] | None
    threshold: int  # percent of those who tried that found it "not good enough"
    min_ballots: int  # tried ballots the top item needs for the popcorn award
    digest_hour: int
    digest_minute: int
    roadmap_day: int  # 0: no monthly roadmap post
    roadmap_hour: int
    roadmap_minute: int
    timezone: str

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> WeeklyConfig:
        hour, minute = parse_time(str(values["fourgrid_time"]))
        d_hour, d_minute = parse_time(str(values["digest_time"]))
        r_hour, r_minute = parse_time(str(values["roadmap_time"]))
        return cls(
            day=str(values["fourgrid_day"]),
            hour=hour,
            minute=minute,
            duration=timedelta(seconds=int(values["fourgrid_duration"])),
            auto=bool(values["fourgrid_auto"]),
            labels=parse_labels(str(values["fourgrid_labels"])),
            threshold=int(values["fourgrid_threshold"]),
            min_ballots=int(values["fourgrid_min_ballots"]),
            digest_hour=d_hour,
            digest_minute=d_minute,
            roadmap_day=int(values["roadmap_day"]),
            roadmap_hour=r_hour,
            roadmap_minute=r_minute,
            timezone=str(values["timezone"]),
        )


def declare(settings: SettingsService) -> None:
    for spec in SETTINGS:
        settings.declare(spec)


async def load(
    settings: SettingsService, community_id: int, *, fresh: bool = False
) -> WeeklyConfig:
    """The community's weekly settings; `fresh` rereads them (another process may have changed
    them), as the scheduler does."""
    if fresh:
        settings.forget(community_id)
    return WeeklyConfig.from_values(await settings.all(community_id))
