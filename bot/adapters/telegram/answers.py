"""The answer to a button press and whether it is out.

An update is marked handled only once its press's answer has left the process: a request
Telegram replied to (it performed the answer, or refused it: too old, say), or the webhook's
HTTP response written to its connection. An answer that could not be confirmed (the request
failed on the way) leaves the update unhandled: it is handled again at the next start and
answered from what is stored (a claim already decided is answered as decided).

In webhook mode the press's request waits a moment for its answer (`AnswerSlot`): the adapter
hands the answer over and waits until the webhook says whether it went out in the response;
when it did not (the request gave up in the meantime, or its connection broke), the adapter
sends it as a request of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

Params = dict[str, Any]


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


@dataclass
class AnswerSlot:
    """A press whose webhook request waits for its answer."""

    # The answer's parameters, set by the adapter while the request waits.
    params: asyncio.Future[Params] = field(default_factory=_future)
    # Set by the webhook once the request is over: True when the answer was written in its
    # response, False when it was not (the adapter then sends it as a request).
    out: asyncio.Future[bool] = field(default_factory=_future)

    def hand_over(self, params: Params) -> bool:
        """Give the answer to the waiting request; False when it no longer takes one."""
        if self.params.done():  # taken already, or the request stopped waiting
            return False
        self.params.set_result(params)
        return True

    def close(self) -> None:
        """The request stops waiting: from now on `hand_over` refuses."""
        if not self.params.done():
            self.params.cancel()

    def settle(self, out: bool) -> None:
        """The request is over: whether the answer left in its response."""
        if not self.out.done():
            self.out.set_result(out)


@dataclass
class Turn:
    """One update's handling: the messages that follow its press's answer, and whether that
    answer is known to be out (otherwise the update is not marked handled)."""

    follow_ups: list[Coroutine[Any, Any, None]] = field(default_factory=list)
    answer_out: bool = True
