"""The private message that carries a flash win's code, stored by the win's own transaction.

A burst has thousands of winners in one batch, so the message is rendered once per language,
units and deadline with a stand-in for the code, and each winner's copy only swaps the code in:
in the payload, and in the payload's JSON text, which the outbox then stores as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.i18n import Translator
from bot.core.reply import Reply
from cogs.drops import views
from cogs.drops.claims import ClaimResult, Notice
from storage.bulk import EncodedJSON, encode_json
from storage.core.outbox import NewMessage
from storage.drops.drops import DropRow

_EMPTY = Reply().to_dict()
_CODE = "\x1fCODE\x1f"  # stands in for the code while rendering; no catalog text holds it
_CODE_JSON = encode_json(_CODE)[1:-1]  # the stand-in inside the template's JSON text


class WinNotices:
    """Win messages of one drop, as the community sees it (its time zone)."""

    def __init__(self, translator: Translator, drop: DropRow, tz: ZoneInfo) -> None:
        self.translator = translator
        self.drop = drop
        self.tz = tz
        self._templates: dict[tuple[str, int, datetime], tuple[dict[str, Any], str]] = {}

    def payload(self, locale: str, code: str, units: int, confirm_by: datetime) -> dict[str, Any]:
        return self.message_payload(locale, code, units, confirm_by)[0]

    def message_payload(
        self, locale: str, code: str, units: int, confirm_by: datetime
    ) -> tuple[dict[str, Any], EncodedJSON]:
        """The payload of a winner's message, and its JSON text (`encode_json(payload)`)."""
        key = (locale, units, confirm_by)
        cached = self._templates.get(key)
        if cached is None:
            if len(self._templates) > 64:  # deadlines move on with every batch
                self._templates.clear()

            def t(k: str, /, **params: Any) -> str:
                return self.translator(locale, k, **params)

            reply = views.you_won_code(t, self.drop, _CODE, units, confirm_by, self.tz)
            reply.ephemeral = False
            # Only what differs from an empty Reply (`Reply.from_dict` fills in the rest): one
            # of these is stored for every winner of a burst.
            template = {k: v for k, v in reply.to_dict().items() if _EMPTY.get(k) != v}
            cached = self._templates[key] = (template, encode_json(template))
        template, text = cached
        # A code of letters, digits and dashes is its own JSON string (redemption codes are).
        plain = code.isascii() and code.replace("-", "").isalnum()
        in_json = code if plain else encode_json(code)[1:-1]
        return (
            {**template, "text": template["text"].replace(_CODE, code)},
            EncodedJSON(text.replace(_CODE_JSON, in_json)),
        )

    def for_member(self, community_id: int, platform: str, target: str, locale: str) -> Notice:
        """The `Notice` for one claimer: their private chat on the platform they pressed on."""

        def notice(account_id: int, result: ClaimResult) -> NewMessage | None:
            if result.code is None or result.confirm_by is None:
                return None
            payload, encoded = self.message_payload(
                locale, result.code, result.units, result.confirm_by
            )
            return NewMessage(
                community_id=community_id,
                platform=platform,
                kind="member",
                target=target,
                account_id=account_id,
                payload=payload,
                # No dedup key: the message is stored in the win's own transaction, and the
                # win's primary key (drop, account) already makes it once. A key would be a
                # second guard costing every batch a random-position insert into the
                # outbox's unique index, the largest in a burst (docs/bursts.md).
                encoded=encoded,
            )

        return notice
