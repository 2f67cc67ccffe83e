"""A win message's JSON text is made from its template with the code swapped in (not encoded
per winner): it must be exactly the text the outbox would have encoded from the payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.i18n import Translator
from cogs.drops.claims import ClaimResult, ClaimStatus
from cogs.drops.notices import WinNotices
from cogs.drops.redemption_codes import ALPHABET, new_redemption_code
from storage.bulk import EncodedJSON, encode_json
from storage.drops.drops import DropRow

AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _notices(name: str, tz: str) -> WinNotices:
    translator = Translator()
    translator.load_package("cogs.drops")
    drop = DropRow(
        id=7, community_id=3, created_by=1, name=name, description="", mode="flash", quota=10,
        per_account=3, waitlist=0, opens_at=AT - timedelta(days=1), closes_at=AT, drop_at=AT,
        confirm_seconds=3600, roles=None, min_days=0, min_score=0, tiers=None, seed="0" * 64,
        commitment="0" * 64, entrants_hash=None, entrants_count=None, drawn_slots=None,
        drawn_at=None, cancelled_at=None, opened_at=AT, started_at=AT, sold_out_at=None,
        attempts=0, status_at=None, status_sig=None, created_at=AT, updated_at=AT,
    )  # fmt: skip
    return WinNotices(translator, drop, ZoneInfo(tz))


codes = st.one_of(
    st.builds(lambda _: new_redemption_code(), st.integers()),
    st.text(alphabet=ALPHABET + "-", max_size=20),
    st.text(),  # anything a code maker might return: quotes, backslashes, controls, emoji
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(min_size=1, max_size=30),
    tz=st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York"]),
    locale=st.sampled_from(["en", "zh_CN"]),
    code=codes,
    units=st.integers(1, 3),
    later=st.integers(0, 10**6),
)
def test_the_message_text_is_the_payload_encoded(
    name: str, tz: str, locale: str, code: str, units: int, later: int
) -> None:
    notices = _notices(name, tz)
    confirm_by = AT + timedelta(seconds=later)
    payload, text = notices.message_payload(locale, code, units, confirm_by)
    assert type(text) is EncodedJSON
    assert text == encode_json(payload)
    assert json.loads(text) == payload
    assert code in payload["text"]
    # The same template serves the next winner: only the code differs.
    other, other_text = notices.message_payload(locale, code + "Z", units, confirm_by)
    assert other_text == encode_json(other) and other["text"] != payload["text"]


def test_the_notice_carries_the_payload_and_its_text() -> None:
    notices = _notices("bench", "UTC")
    notice = notices.for_member(3, "telegram", "42", "en")
    code = new_redemption_code()
    message = notice(5, ClaimResult(ClaimStatus.WON, code, 1, AT + timedelta(hours=1)))
    assert message is not None
    assert message.encoded == encode_json(message.payload)
    assert code in message.payload["text"]
    # Once per win by the win's own primary key, in the same transaction: no key of its own.
    assert (message.account_id, message.target, message.dedup_key) == (5, "42", None)
    assert notice(5, ClaimResult(ClaimStatus.WAITLISTED, position=1)) is None
