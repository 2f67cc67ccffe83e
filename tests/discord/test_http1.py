"""The small HTTP/1.1 client of interaction responses: a response is read the same however the
bytes arrive (Content-Length, chunked, no body), and connections are reused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.http1 import Http1, HttpError, _parse
from devtools.servers.discord_api import FakeDiscord

RESPONSES = [
    (b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"id":"12"}', (200, b'{"id":"12"}', True)),
    (b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", (204, b"", False)),
    (
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"cod\r\nb\r\ne":10062}xy\r\n0\r\n\r\n',
        (404, b'{"code":10062}xy', True),
    ),
]


@given(st.sampled_from(RESPONSES), st.lists(st.integers(1, 40), max_size=20), st.binary(max_size=5))
def test_a_response_parses_the_same_whatever_its_pieces(
    case: tuple[bytes, tuple[int, bytes, bool]], cuts: list[int], next_bytes: bytes
) -> None:
    raw, expected = case
    buffer = bytearray()
    parsed = None
    at = 0
    for size in [*cuts, len(raw)]:
        buffer += raw[at : at + size]
        at += size
        parsed = _parse(buffer)
        if parsed is not None:
            break
        assert at < len(raw)  # incomplete until the last byte
    if parsed is None:
        buffer += raw[at:] + next_bytes  # the start of the next response may follow
        parsed = _parse(buffer)
    assert parsed is not None
    response, used = parsed
    assert response == expected and used == len(raw)


def test_a_bad_status_line_is_an_error() -> None:
    with pytest.raises(HttpError):
        _parse(bytearray(b"HTTP/1.1 abc\r\n\r\n"))


async def test_requests_reuse_their_connections(fake: FakeDiscord) -> None:
    http = Http1(fake.api_base, limit=2)
    for _ in range(5):
        status, body = await http.request("GET", "/users/@me")
        assert status == 200 and b'"id"' in body
    status, body = await http.request("POST", "/interactions/1/nope/callback", b'{"type":6}')
    assert status == 404 and b"10062" in body
    assert len(http._idle) == 1  # one connection, kept alive throughout
    http.close()
