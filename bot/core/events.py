"""What happened in a community, for whoever listens outside the chat (outgoing webhooks).

A cog emits an `Event` once its change is committed, where it already tells the community (a
suggestion posted, a status changed, a merge or its undoing, a correction, a suggestion hidden
or shown, deleted or restored, a comment added or removed, a release, four-grid results, a
drop's results).
Each event carries a `key` that is the same however often the step that emits it runs (a retry
after a crash, a second process): sinks use it to store the event once. The core knows no sink:
a cog adds one with `FeatureSetup.add_event_sink`. A sink that fails is logged; the change it
follows stands.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import Clock

log = logging.getLogger(__name__)

# The event types, as sent to webhooks.
SUGGESTION_CREATED = "suggestion.created"
SUGGESTION_STATUS = "suggestion.status_changed"
SUGGESTION_MERGED = "suggestion.merged"
SUGGESTION_UNMERGED = "suggestion.unmerged"
SUGGESTION_EDITED = "suggestion.edited"
SUGGESTION_HIDDEN = "suggestion.hidden"
SUGGESTION_SHOWN = "suggestion.shown"
SUGGESTION_DELETED = "suggestion.deleted"
SUGGESTION_RESTORED = "suggestion.restored"
COMMENT_CREATED = "comment.created"
COMMENT_REMOVED = "comment.removed"
RELEASE_PUBLISHED = "release.published"
REPORT_RESULTS = "report.results"
DROP_RESULTS = "drop.results"
EVENT_TYPES = (
    SUGGESTION_CREATED,
    SUGGESTION_STATUS,
    SUGGESTION_MERGED,
    SUGGESTION_UNMERGED,
    SUGGESTION_EDITED,
    SUGGESTION_HIDDEN,
    SUGGESTION_SHOWN,
    SUGGESTION_DELETED,
    SUGGESTION_RESTORED,
    COMMENT_CREATED,
    COMMENT_REMOVED,
    RELEASE_PUBLISHED,
    REPORT_RESULTS,
    DROP_RESULTS,
)


@dataclass(frozen=True)
class Event:
    type: str
    community_id: int
    key: str  # the same for every emission of one happening
    at: datetime
    data: dict[str, Any]

    @property
    def id(self) -> str:
        """A stable, opaque id of the happening (receivers deduplicate on it)."""
        digest = hashlib.sha256(f"{self.community_id}:{self.key}".encode()).hexdigest()
        return f"evt_{digest[:24]}"


Sink = Callable[[Event], Awaitable[object]]


class Events:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._sinks: list[Sink] = []

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    async def emit(self, community_id: int, type: str, data: dict[str, Any], *, key: str) -> Event:
        event = Event(type, community_id, key, self.clock.now(), data)
        for sink in self._sinks:
            try:
                await sink(event)
            except Exception:
                log.exception("event %s (%s): a sink failed", type, key)
        return event
