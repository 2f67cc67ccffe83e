"""A suggestion's status and the rules that read it.

new → under_review → planned → in_progress → shipped | declined | duplicate. An admin sets any
status of `STATUS_FLOW`; "duplicate" comes only from a merge. The database stores the values.
"""

from __future__ import annotations

from enum import StrEnum


class SuggestionStatus(StrEnum):
    NEW = "new"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    DECLINED = "declined"
    DUPLICATE = "duplicate"


S = SuggestionStatus

# What an admin may set, in order.
STATUS_FLOW = (S.NEW, S.UNDER_REVIEW, S.PLANNED, S.IN_PROGRESS, S.SHIPPED, S.DECLINED)
# Still being decided or worked on: ranked, searchable for "+1", shown with a vote button.
OPEN_STATUSES = (S.NEW, S.UNDER_REVIEW, S.PLANNED, S.IN_PROGRESS)
# Finished: a vote for these is refused.
CLOSED_FOR_VOTES = (S.SHIPPED, S.DECLINED)
# Accepted by the team: the author earns "suggestion_planned" (participation).
ACCEPTED = (S.PLANNED, S.IN_PROGRESS, S.SHIPPED)
# The public roadmap's lanes, in the order they are shown.
ROADMAP_LANES = (S.IN_PROGRESS, S.PLANNED)


def is_open(status: str) -> bool:
    """Whether a suggestion with this status is still open (see `OPEN_STATUSES`)."""
    return status in OPEN_STATUSES
