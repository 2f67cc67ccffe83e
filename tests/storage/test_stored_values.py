"""The features' domain types name exactly the values the schema stores and checks."""

from __future__ import annotations

from cogs.drops.modes import DropMode, WinSource
from cogs.suggestions.status import OPEN_STATUSES, STATUS_FLOW, SuggestionStatus
from cogs.weekly.fourgrid import Grid, ReportStatus
from storage.drops.schema import MODES, WIN_SOURCES
from storage.suggestions.schema import STATUSES
from storage.weekly.schema import GRIDS, REPORT_STATUSES


def test_suggestion_statuses() -> None:
    assert tuple(SuggestionStatus) == STATUSES
    assert set(OPEN_STATUSES) <= set(STATUS_FLOW)
    assert SuggestionStatus.DUPLICATE not in STATUS_FLOW  # only a merge sets it


def test_drop_modes_and_win_sources() -> None:
    assert tuple(DropMode) == MODES
    assert tuple(WinSource) == WIN_SOURCES


def test_fourgrid_values() -> None:
    assert tuple(ReportStatus) == REPORT_STATUSES
    assert [int(g) for g in Grid] == list(range(GRIDS))
