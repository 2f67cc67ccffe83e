"""A small HTTP/1.1 client for the requests of a burst: Discord's interaction responses and
follow-ups, Telegram's answers to button presses.

Under a burst every press costs one or two requests (on Discord the acknowledgement and the
follow-up, on Telegram the callback query's answer), all to one host, with small JSON bodies
built in advance. aiohttp's client costs a few hundred
microseconds of the event loop for each (request and response objects, cookies, tracing,
timeouts, headers parsed into multidicts); this client keeps `limit` kept-alive connections
(TLS for https), writes a request as one buffer and reads back the status, the body and
whether the connection stays open, nothing else. Content-Length and chunked bodies are
understood; anything unexpected closes the connection and raises `HttpError`.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import cast
from urllib.parse import urlsplit

TIMEOUT = 15.0  # seconds for one request
USER_AGENT = "fanloop"


class HttpError(Exception):
    """The request failed before a response was read (connection lost, timeout, bad reply)."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(HttpError(f"connection lost: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is None or self._waiter.done():
            return
        try:
            parsed = _parse(self._buffer)
        except HttpError as exc:
            self._waiter.set_exception(exc)
            return
        if parsed is not None:
            response, used = parsed
            del self._buffer[:used]
            self._waiter.set_result(response)

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _parse(buffer: bytearray) -> tuple[tuple[int, bytes, bool], int] | None:
    """(status, body, keep-alive) and the bytes used, or None when more is needed."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    try:
        status = int(head[0].split(" ", 2)[1])
    except (IndexError, ValueError) as exc:
        raise HttpError(f"bad status line {head[0]!r}") from exc
    length: int | None = None
    chunked = False
    keep = True
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            keep = False
    start = end + 4
    if status in (204, 304) or 100 <= status < 200:
        return (status, b"", keep), start
    if chunked:
        body = bytearray()
        at = start
        while True:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
            at = line_end + 2
            if size == 0:
                trailer_end = buffer.find(b"\r\n", at)
                if trailer_end < 0:
                    return None
                return (status, bytes(body), keep), trailer_end + 2
            if len(buffer) < at + size + 2:
                return None
            body += buffer[at : at + size]
            at += size + 2
    if length is None:
        raise HttpError("a response without a length")  # read-until-close: not for a pool
    if len(buffer) < start + length:
        return None
    return (status, bytes(buffer[start : start + length]), keep), start + length


class Http1:
    """Kept-alive HTTP/1.1 connections to the host of `base` (its path is every request's
    prefix): at most `limit` at once, one request on each at a time."""

    def __init__(self, base: str, limit: int = 32, *, user_agent: str = USER_AGENT) -> None:
        url = urlsplit(base.rstrip("/"))
        self.https = url.scheme == "https"
        self.host = url.hostname or "localhost"
        self.port = url.port or (443 if self.https else 80)
        self.prefix = url.path
        default_port = (443 if self.https else 80) == self.port
        self._host_header = self.host if default_port else f"{self.host}:{self.port}"
        self.user_agent = user_agent
        self._ssl = ssl.create_default_context() if self.https else None
        self._free = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(
            _Connection,
            self.host,
            self.port,
            ssl=self._ssl,
            server_hostname=self.host if self.https else None,
        )
        return conn

    def _request(self, method: str, path: str, body: bytes | None) -> bytes:
        head = (
            f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: {self._host_header}\r\n"
            f"User-Agent: {self.user_agent}\r\n"
        )
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method in ("POST", "PATCH", "PUT"):
            head += "Content-Length: 0\r\n"
        raw = (head + "\r\n").encode("latin-1")
        return raw + body if body else raw

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body); `HttpError` when no response could be read."""
        request = self._request(method, path, body)
        async with self._free:
            conn: _Connection | None = None
            while self._idle:
                candidate = self._idle.pop()
                if not candidate.closed:
                    conn = candidate
                    break
            try:
                if conn is None:
                    conn = await self._connect()
                async with asyncio.timeout(TIMEOUT):
                    status, payload, keep = await conn.exchange(request)
            except (OSError, TimeoutError) as exc:
                if conn is not None:
                    conn.close()
                raise HttpError(repr(exc)) from exc
            except HttpError:
                if conn is not None:
                    conn.close()
                raise
            if keep and not conn.closed:
                self._idle.append(conn)
            else:
                conn.close()
            return status, payload

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
