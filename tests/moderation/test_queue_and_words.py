"""The review queue decides each item once, and the word filter's matching rules."""

from __future__ import annotations

import asyncio
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.core.app import App
from bot.core.errors import UserError
from cogs.moderation.queue import QueueService
from cogs.moderation.words import filter_word, first_match
from tests.helpers import member


async def test_two_admins_approving_at_once_post_once(app: App) -> None:
    alice = await member(app, "alice")
    cid = alice.community.id
    await app.community_settings.set(cid, "review_queue", "on")
    queue = app.services.get(QueueService)
    held = await queue.suggestions.submit(cid, alice.member.account_id, "Dark mode", "", None)
    assert held.posted is None and held.held is not None
    item = held.held.params["id"]
    results = await asyncio.gather(
        queue.approve(cid, item, 1), queue.approve(cid, item, 1), return_exceptions=True
    )
    posted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, UserError)]
    assert len(posted) == 1 and len(refused) == 1
    assert refused[0].key == "review.decided"
    assert len(await queue.suggestions.newest(cid)) == 1


LETTERS = st.text(alphabet="夜间模式赌博广告刷单", min_size=2, max_size=4)
NOISE = st.text(alphabet=" \u200b\u200d·、,.!　\ufeff", max_size=2)


@given(word=LETTERS, before=st.text(max_size=10), after=st.text(max_size=10), noise=st.data())
def test_a_chinese_word_is_found_whatever_is_slipped_between_its_characters(
    word: str, before: str, after: str, noise: st.DataObject
) -> None:
    stored = filter_word(word)
    assert stored is not None
    spread = "".join(c + noise.draw(NOISE) for c in word)
    assert first_match([stored], before + spread + after) == stored


@given(word=st.from_regex(r"[a-z]{3,8}", fullmatch=True), case=st.data())
def test_a_latin_word_matches_whole_words_in_any_case(word: str, case: st.DataObject) -> None:
    cased = "".join(c.upper() if case.draw(st.booleans()) else c for c in word)
    assert first_match([word], f"I want {cased}, now") == word
    assert first_match([word], f"I want x{word}y now") is None
    wide = unicodedata.normalize("NFKC", cased)  # full-width letters fold too
    assert first_match([word], "".join(chr(ord(c) + 0xFEE0) for c in wide)) == word


# Words an admin might filter, each in both scripts (simplified, traditional).
SCRIPTS = [
    ("赌博", "賭博"),
    ("刷单", "刷單"),
    ("广告", "廣告"),
    ("贱货", "賤貨"),
    ("诈骗集团", "詐騙集團"),
]


@given(pair=st.sampled_from(SCRIPTS), given_in=st.booleans(), before=st.text(max_size=10))
def test_a_chinese_word_is_found_in_either_script(
    pair: tuple[str, str], given_in: bool, before: str
) -> None:
    """A word typed in simplified characters holds back a post in traditional ones, and the
    reverse; the word is kept as typed."""
    word, other = pair if given_in else pair[::-1]
    stored = filter_word(word)
    assert stored == word
    assert first_match([stored], f"{before}{other}，私聊") == stored
    assert first_match([stored], f"{before}{' '.join(other)}") == stored
    assert first_match([stored], "希望設定頁面支援深色模式") is None


def test_filter_words_are_stored_folded() -> None:
    assert filter_word("  Crypto  ") == "crypto"
    assert filter_word("ＣＲＹＰＴＯ") == "crypto"
    assert filter_word("\u200b") is None


async def test_a_burst_of_first_presses_reads_the_mutes_once(app: App) -> None:
    from cogs.moderation.mutes import MuteService

    fans = [await member(app, f"fan{i}") for i in range(20)]
    mutes = app.services.get(MuteService)
    reads = 0
    read = mutes.repo.of_community

    async def counted(community_id: int, now):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return await read(community_id, now)

    mutes.repo.of_community = counted  # type: ignore[method-assign]
    await asyncio.gather(*(mutes.check(fan, "act:sv") for fan in fans))
    assert reads == 1
    await mutes.mute(fans[0].community.id, fans[1].member.account_id, None, "spam", 1)
    results = await asyncio.gather(
        *(mutes.check(fan, "act:sv") for fan in fans), return_exceptions=True
    )
    assert reads == 2
    assert [i for i, r in enumerate(results) if isinstance(r, UserError)] == [1]
