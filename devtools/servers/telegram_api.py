"""A local server that speaks the Telegram Bot API, for tests and `fanloop bench telegram`.

It answers the wire protocol of api.telegram.org (`POST /bot<token>/<method>` with form-encoded
or multipart parameters, `{"ok": …}` answers) closely enough that python-telegram-bot runs
unchanged against it: long polling with real offsets, messages and photos, inline keyboards,
callback answers, edits of text and keyboards, command menus, chat administrators. It also
enforces the rules of Telegram's that the library itself does not check, so a test notices when
the bot breaks them: HTML must parse (unescaped user text fails like it does on Telegram),
callback data is at most 64 bytes, text at most 4096 characters, a user who never started the
bot cannot be messaged, and an edit that changes nothing is refused ("message is not modified").
Tests can make a method answer 429 with `retry_after` (`flood`), or fail as Telegram's front
servers do in an outage: 502 Bad Gateway, 503, 504 (`fail`), until `recover`.

`fanloop bench telegram` drives it, in its own process or inline, through the control routes
under `/_fake/`: `POST /_fake/updates` hands out updates, `POST /_fake/answered` waits until
callback queries are answered, `GET /_fake/sent` lists the bot's messages and `GET /_fake/times`
gives when each update was handed out and each query answered, `GET /_fake/answers` with what
text.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER: dict[str, Any] = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "fanloop",
    "username": "fanloop_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# Server errors as Telegram's front servers answer them in an outage.
_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}

ALLOWED_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z]+);")


class ApiError(Exception):
    """An error answer: HTTP status, description and optional `parameters`."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities, or ApiError(400)."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        c = source[i]
        if c == "<":
            end = source.find(">", i)
            if end < 0:
                raise ApiError(400, f"Bad Request: can't parse entities: unclosed tag at {i}")
            tag = source[i + 1 : end].strip()
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not stack or stack[-1][0] != name:
                    raise ApiError(
                        400, f'Bad Request: can\'t parse entities: unmatched end tag "{name}"'
                    )
                opened, start = stack.pop()
                length = _utf16_len("".join(out)) - start
                if length:
                    entities.append(
                        {"type": ALLOWED_TAGS[opened], "offset": start, "length": length}
                    )
            else:
                name = (tag.split()[0] if tag.split() else "").lower().rstrip("/")
                if name not in ALLOWED_TAGS:
                    raise ApiError(
                        400, f'Bad Request: can\'t parse entities: unsupported start tag "{name}"'
                    )
                stack.append((name, _utf16_len("".join(out))))
            i = end + 1
        elif c == "&":
            m = _ENTITY.match(source, i)
            if m is None:
                raise ApiError(400, f"Bad Request: can't parse entities: stray '&' at {i}")
            ref = m.group(1)
            if ref.startswith("#x"):
                out.append(chr(int(ref[2:], 16)))
            elif ref.startswith("#"):
                out.append(chr(int(ref[1:])))
            elif ref in _NAMED:
                out.append(_NAMED[ref])
            else:
                raise ApiError(400, f"Bad Request: can't parse entities: unknown entity &{ref};")
            i = m.end()
        else:
            out.append(c)
            i += 1
    if stack:
        raise ApiError(400, f'Bad Request: can\'t parse entities: unclosed tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: e["offset"])


def _decode(value: str) -> Any:
    """Parameters arrive as form fields: strings raw, everything else JSON-encoded. Only JSON
    containers are decoded; scalars stay strings, as the real server receives them."""
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeTelegram:
    """The fake server. `start()` listens on 127.0.0.1 (port 0 picks a free one)."""

    host: str = "127.0.0.1"
    port: int = 0
    bot_user: dict[str, Any] = field(default_factory=lambda: dict(BOT_USER))
    # Record every call (tests); the benchmark turns this off to measure the bot, not the list.
    record: bool = True

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # chat id -> {user id: "creator" | "administrator"}
        self.admins: dict[int, dict[int, str]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.titles: dict[int, str] = {}
        # Users who never started a private chat with the bot (or blocked it): 403 on send.
        self.unreachable: set[int] = set()
        self.webhook: dict[str, Any] | None = None
        self.delivered_at: dict[int, float] = {}
        self.pushed_at: dict[int, float] = {}
        self.answered_at: dict[str, float] = {}
        self.answer_texts: dict[str, str] = {}  # callback query id -> the text it was answered
        # method -> (status, retry_after) of its next answers: 429s and 5xx, in the order asked
        self._failures: dict[str, deque[tuple[int, int]]] = {}
        self._down: dict[str, int] = {}  # method -> its status until `recover`
        self._polling = 0  # getUpdates requests under way
        self.poll_conflicts = 0  # getUpdates answered 409: another one was under way
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1)
        self._seq = itertools.count()
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._new_update = asyncio.Condition()
        self._new_call = asyncio.Event()
        self._new_answer = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._webhook_workers: list[asyncio.Task[None]] = []
        # Methods performed from webhook answers' bodies (method, parameters), in order.
        self.in_response: list[tuple[str, dict[str, Any]]] = []
        self._client: Any = None
        self.handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda p: self.bot_user,
            "logOut": lambda p: True,
            "close": lambda p: True,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._webhook_info,
            "setMyCommands": self._set_commands,
            "deleteMyCommands": self._delete_commands,
            "getMyCommands": self._get_commands,
            "answerCallbackQuery": self._answer_callback,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_text,
            "editMessageReplyMarkup": self._edit_markup,
            "deleteMessage": lambda p: (
                self.messages.pop((int(p["chat_id"]), int(p["message_id"]))) and True
            ),
            "getChatAdministrators": self._chat_admins,
            "getChatMember": self._chat_member,
            "getChat": self._get_chat,
            "setMessageReaction": lambda p: True,
        }

    # -- server -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._http)
        app.router.add_post("/_fake/updates", self._control_updates)
        app.router.add_post("/_fake/answered", self._control_answered)
        app.router.add_get("/_fake/sent", self._control_sent)
        app.router.add_get("/_fake/times", self._control_times)
        app.router.add_get("/_fake/answers", self._control_answers)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing = True
        async with self._new_update:
            self._new_update.notify_all()
        for task in self._webhook_workers:
            task.cancel()
        for task in self._webhook_workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _http(self, request: web.Request) -> web.Response:
        raw: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, str):
                        raw[key] = value
                    elif isinstance(value, web.FileField):  # an uploaded file
                        raw[key] = {"file_name": value.filename, "size": len(value.file.read())}
        params = {k: _decode(v) if isinstance(v, str) else v for k, v in raw.items()}
        status, payload = await self.handle(request.match_info["method"], params)
        return web.json_response(payload, status=status)

    async def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one API call (transport-independent)."""
        if method == "getUpdates":
            if self._polling:  # Telegram allows one poller per token
                self.poll_conflicts += 1
                return 409, {
                    "ok": False,
                    "error_code": 409,
                    "description": "Conflict: terminated by other getUpdates request; make sure "
                    "that only one bot instance is running",
                }
            self._polling += 1
            try:
                return 200, {"ok": True, "result": await self._get_updates(params)}
            finally:
                self._polling -= 1
        if self.record:
            self.calls.append(Call(method, params, time.perf_counter()))
            self._new_call.set()
        failures = self._failures.get(method)
        status, retry_after = failures.popleft() if failures else (self._down.get(method), 0)
        if status is not None and status != 429:
            return status, {"ok": False, "error_code": status, "description": _REASONS[status]}
        if status == 429:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
        handler = self.handlers.get(method)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            return 200, {"ok": True, "result": handler(params)}
        except ApiError as exc:
            answer: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                answer["parameters"] = exc.parameters
            return exc.code, answer

    # -- control routes (the benchmark, from another process) ---------------------------------

    async def _control_updates(self, request: web.Request) -> web.Response:
        """Hand out `{"updates": [...]}` at the next getUpdates."""
        updates = (await request.json())["updates"]
        await self.push_updates(updates)
        return web.json_response({"count": len(updates)})

    async def _control_answered(self, request: web.Request) -> web.Response:
        """Answer once every query of `{"query_ids": [...], "within": seconds}` is answered;
        504 with the number missing if they are not in time."""
        body = await request.json()
        ids = {str(q) for q in body["query_ids"]}
        try:
            await self.wait_answered(ids, within=float(body.get("within", 60.0)))
        except TimeoutError:
            missing = len(ids - self.answered_at.keys())
            return web.json_response({"missing": missing}, status=504)
        return web.json_response({"missing": 0})

    async def _control_sent(self, request: web.Request) -> web.Response:
        """The bot's messages, as `sent()` gives them (`?chat_id=` for one chat)."""
        chat_id = request.query.get("chat_id")
        return web.json_response(self.sent(int(chat_id) if chat_id else None))

    async def _control_times(self, request: web.Request) -> web.Response:
        """When each update was pushed (the member pressed), handed out, and each callback
        query answered (the server's `perf_counter`, so only differences mean anything), and
        the CPU seconds this server's process has used (the bench's figure is the bot's only if
        the server is not what limits it)."""
        return web.json_response(
            {
                "pushed_at": {str(k): v for k, v in self.pushed_at.items()},
                "delivered_at": {str(k): v for k, v in self.delivered_at.items()},
                "answered_at": self.answered_at,
                "cpu_s": time.process_time(),
            }
        )

    async def _control_answers(self, request: web.Request) -> web.Response:
        """The text each callback query was answered with, by query id."""
        return web.json_response(self.answer_texts)

    # -- test controls ------------------------------------------------------------------------

    def flood(self, method: str, retry_after: int, times: int = 1) -> None:
        """The next `times` calls to `method` answer 429 with `retry_after` (after the 429s and
        failures asked for before: they come in the order asked)."""
        self._failures.setdefault(method, deque()).extend([(429, retry_after)] * times)

    def fail(self, method: str, status: int = 502, times: int | None = 1) -> None:
        """The next `times` calls to `method` (every call until `recover` when None) fail with
        `status` (502, 503 or 504), as they do when Telegram's servers are down; nothing is
        done (no message is sent)."""
        if status not in _REASONS:
            raise ValueError(f"not a server error Telegram answers: {status}")
        if times is None:
            self._down[method] = status
        else:
            self._failures.setdefault(method, deque()).extend([(status, 0)] * times)

    def recover(self, method: str | None = None) -> None:
        """The outage is over: `method` (every method by default) answers again, no failure or
        429 left that `fail` or `flood` asked for."""
        if method is None:
            self._failures.clear()
            self._down.clear()
        else:
            self._failures.pop(method, None)
            self._down.pop(method, None)

    def set_admins(
        self, chat_id: int, creator: int | None = None, admins: tuple[int, ...] = ()
    ) -> None:
        roles = {a: "administrator" for a in admins}
        if creator is not None:
            roles[creator] = "creator"
        self.admins[chat_id] = roles

    async def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        await self.push_updates([update])
        return update

    async def push_updates(self, updates: list[dict[str, Any]]) -> None:
        """Updates for the next getUpdates (the moment a member pressed, for `pushed_at`)."""
        now = time.perf_counter()
        async with self._new_update:
            for u in updates:
                self.pushed_at.setdefault(u["update_id"], now)
            self._updates.extend(updates)
            self._new_update.notify_all()

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def edits(self, chat_id: int, message_id: int) -> list[Call]:
        """The edit calls made on one message (text or keyboard), in order."""
        return [
            c
            for c in self.calls
            if c.method in ("editMessageText", "editMessageReplyMarkup")
            and int(c.params["chat_id"]) == chat_id
            and int(c.params["message_id"]) == message_id
        ]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (in order), optionally to one chat."""
        return [
            m
            for (cid, _), m in sorted(self.messages.items(), key=lambda kv: kv[1]["_seq"])
            if chat_id is None or cid == chat_id
        ]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + within
        while len(self.calls_to(method)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"waited for {count} call(s) to {method}")
            self._new_call.clear()
            try:
                await asyncio.wait_for(self._new_call.wait(), remaining)
            except TimeoutError:
                continue
        return self.calls_to(method)

    async def wait_answered(self, query_ids: set[str], within: float = 60.0) -> None:
        """Wait until every callback query in `query_ids` has been answered."""
        deadline = time.monotonic() + within
        while not query_ids <= self.answered_at.keys():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = len(query_ids - self.answered_at.keys())
                raise TimeoutError(f"{missing} callback queries were not answered")
            self._new_answer.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_answer.wait(), remaining)

    def pending_updates(self) -> int:
        return len(self._updates)

    # -- updates ------------------------------------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset") or 0)
        timeout = min(float(p.get("timeout") or 0), 1.0)  # short long polls: quick shutdown
        limit = int(p.get("limit") or 100)
        async with self._new_update:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
            if not self._updates and timeout and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._new_update.wait_for(lambda: bool(self._updates) or self._closing),
                        timeout,
                    )
            batch = list(itertools.islice(self._updates, limit))
        now = time.perf_counter()
        for u in batch:
            self.delivered_at.setdefault(u["update_id"], now)
        return batch

    # -- methods ------------------------------------------------------------------------------

    def _delete_webhook(self, p: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _set_webhook(self, p: dict[str, Any]) -> bool:
        """From now on updates are POSTed to the URL, as Telegram does: up to
        `max_connections` at once (40), each sent again until it is answered 200; a method in
        the answer's JSON body (`{"method": "answerCallbackQuery", …}`) is performed."""
        self.webhook = dict(p)
        if not self._webhook_workers:
            workers = int(p.get("max_connections") or 40)
            loop = asyncio.get_running_loop()
            self._webhook_workers = [
                loop.create_task(self._webhook_worker()) for _ in range(workers)
            ]
        return True

    async def _webhook_worker(self) -> None:
        while not self._closing:
            async with self._new_update:
                await self._new_update.wait_for(
                    lambda: self._closing or (self.webhook is not None and bool(self._updates))
                )
                if self._closing:
                    return
                update = self._updates.popleft()
            self.delivered_at.setdefault(update["update_id"], time.perf_counter())
            for _ in itertools.count():  # until it is taken: Telegram tries again and again
                if self._closing or await self._post_update(update):
                    break
                await asyncio.sleep(0.1)

    async def _post_update(self, update: dict[str, Any]) -> bool:
        import aiohttp

        hook = self.webhook
        if hook is None:
            return False
        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
        try:
            async with self._client.post(
                str(hook["url"]), data=json.dumps(update), headers=headers
            ) as r:
                if r.status != 200:
                    return False
                body = await r.read()
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False
        if body:
            with contextlib.suppress(ValueError):
                answer = json.loads(body)
                if isinstance(answer, dict) and answer.get("method"):
                    params = {k: v for k, v in answer.items() if k != "method"}
                    self.in_response.append((str(answer["method"]), params))
                    await self.handle(str(answer["method"]), params)
        return True

    def _webhook_info(self, p: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhook or {}
        info: dict[str, Any] = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates) if hook else 0,
        }
        if hook:  # as Telegram shows them (never the secret token)
            info["max_connections"] = int(hook.get("max_connections") or 40)
            if hook.get("allowed_updates") is not None:
                info["allowed_updates"] = list(hook["allowed_updates"])
        return info

    @staticmethod
    def _scope_key(p: dict[str, Any]) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return str(scope.get("type", "default")), str(p.get("language_code") or "")

    def _set_commands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands") or []
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._scope_key(p)] = list(commands)
        return True

    def _delete_commands(self, p: dict[str, Any]) -> bool:
        self.commands.pop(self._scope_key(p), None)
        return True

    def _get_commands(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._scope_key(p), [])

    def _answer_callback(self, p: dict[str, Any]) -> bool:
        qid = str(p["callback_query_id"])
        if qid in self.answered_at:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        if len(str(p.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answered_at[qid] = time.perf_counter()
        self.answer_texts[qid] = str(p.get("text", ""))
        self._new_answer.set()
        return True

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            user = self.users.get(chat_id, {"first_name": str(chat_id)})
            return {"id": chat_id, "type": "private", "first_name": user.get("first_name", "")}
        return {
            "id": chat_id,
            "type": "supergroup",
            "title": self.titles.get(chat_id, str(chat_id)),
        }

    def _get_chat(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(int(p["chat_id"]))
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _check_reachable(self, chat_id: int) -> None:
        if chat_id in self.unreachable:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    @staticmethod
    def _check_markup(markup: Any) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not str(button.get("text", "")).strip():
                    raise ApiError(400, "Bad Request: text buttons are unallowed")

    def _formatted(self, p: dict[str, Any], key: str) -> tuple[str, list[dict[str, Any]]]:
        raw = str(p.get(key, ""))
        if str(p.get("parse_mode", "")).upper() == "HTML":
            return parse_html(raw)
        return raw, []

    def _store(self, chat_id: int, body: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        counter = self._message_ids.setdefault(chat_id, itertools.count(100))
        msg = {
            "message_id": next(counter),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self.bot_user,
            **body,
        }
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        reply = p.get("reply_parameters")
        if isinstance(reply, dict) and (chat_id, int(reply["message_id"])) in self.messages:
            msg["reply_to_message"] = self.messages[(chat_id, int(reply["message_id"]))]
        stored = {**msg, "_seq": next(self._seq), "_html": p.get("text") or p.get("caption")}
        self.messages[(chat_id, msg["message_id"])] = stored
        return msg

    def _send_message(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        self._check_reachable(chat_id)
        self._check_markup(p.get("reply_markup"))
        text, entities = self._formatted(p, "text")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        body: dict[str, Any] = {"text": text}
        if entities:
            body["entities"] = entities
        return self._store(chat_id, body, p)

    def _send_photo(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        self._check_reachable(chat_id)
        self._check_markup(p.get("reply_markup"))
        photo = p.get("photo")
        if not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption, entities = self._formatted(p, "caption")
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        size = photo.get("size", 0) if isinstance(photo, dict) else 0
        body: dict[str, Any] = {
            "photo": [
                {
                    "file_id": f"photo{time.perf_counter_ns()}",
                    "file_unique_id": "u",
                    "width": 640,
                    "height": 480,
                    "file_size": size,
                }
            ],
        }
        if caption:
            body["caption"] = caption
        if entities:
            body["caption_entities"] = entities
        return self._store(chat_id, body, p)

    def _send_document(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        self._check_reachable(chat_id)
        self._check_markup(p.get("reply_markup"))
        document = p.get("document")
        if not isinstance(document, dict):
            raise ApiError(400, "Bad Request: there is no document in the request")
        caption, entities = self._formatted(p, "caption")
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        body: dict[str, Any] = {
            "document": {
                "file_id": f"doc{time.perf_counter_ns()}",
                "file_unique_id": "d",
                "file_name": document.get("file_name", ""),
                "file_size": document.get("size", 0),
            }
        }
        if caption:
            body["caption"] = caption
        if entities:
            body["caption_entities"] = entities
        return self._store(chat_id, body, p)

    def _existing(self, p: dict[str, Any]) -> dict[str, Any]:
        key = (int(p["chat_id"]), int(p["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    @staticmethod
    def _markup_of(p: dict[str, Any]) -> dict[str, Any] | None:
        """The keyboard an edit leaves on the message: the one given, or none at all (an edit
        without `reply_markup` removes the inline keyboard)."""
        markup = p.get("reply_markup")
        return markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None

    @staticmethod
    def _edited(msg: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Apply an edit; like Telegram, an edit that changes nothing is an error."""
        if all(msg.get(k) == v for k, v in changes.items()):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        for k, v in changes.items():
            if v is None:
                msg.pop(k, None)
            else:
                msg[k] = v
        msg["edit_date"] = int(time.time())
        return {k: v for k, v in msg.items() if not k.startswith("_")}

    def _edit_text(self, p: dict[str, Any]) -> dict[str, Any]:
        self._check_markup(p.get("reply_markup"))
        msg = self._existing(p)
        if "text" not in msg:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._formatted(p, "text")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        changes = {"text": text, "entities": entities or None, "reply_markup": self._markup_of(p)}
        edited = self._edited(msg, changes)
        msg["_html"] = p.get("text")
        return edited

    def _edit_markup(self, p: dict[str, Any]) -> dict[str, Any]:
        self._check_markup(p.get("reply_markup"))
        msg = self._existing(p)
        return self._edited(msg, {"reply_markup": self._markup_of(p)})

    def _member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id, {"id": user_id, "is_bot": False, "first_name": str(user_id)})
        status = self.admins.get(chat_id, {}).get(user_id, "member")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                is_anonymous=False,
                can_be_edited=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
            )
        return member

    def _chat_admins(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        chat_id = int(p["chat_id"])
        if chat_id > 0:
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        return [self._member(chat_id, uid) for uid in self.admins.get(chat_id, {})]

    def _chat_member(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._member(int(p["chat_id"]), int(p["user_id"]))


# -- update builders ----------------------------------------------------------------------------

_IDS = itertools.count(1)


def user(
    user_id: int, first_name: str, *, username: str | None = None, language_code: str | None = "en"
) -> dict[str, Any]:
    u: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        u["username"] = username
    if language_code:
        u["language_code"] = language_code
    return u


def group(chat_id: int, title: str) -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": title}


def private(of: dict[str, Any]) -> dict[str, Any]:
    return {"id": of["id"], "type": "private", "first_name": of["first_name"]}


def message_update(
    chat: dict[str, Any],
    sender: dict[str, Any],
    text: str,
    *,
    reply_to: dict[str, Any] | None = None,
    message_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A real-shaped message update; a leading /command gets its bot_command entity."""
    msg: dict[str, Any] = {
        "message_id": message_id or next(_IDS),
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
    if reply_to is not None:
        msg["reply_to_message"] = {k: v for k, v in reply_to.items() if not k.startswith("_")}
    return {"update_id": update_id or next(_IDS), "message": msg}


def callback_update(
    sender: dict[str, Any],
    message: dict[str, Any],
    data: str,
    *,
    query_id: str | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A press of an inline button with `data` on `message` (a message the bot sent)."""
    uid = update_id or next(_IDS)
    return {
        "update_id": uid,
        "callback_query": {
            "id": query_id or f"q{uid}",
            "from": sender,
            "chat_instance": str(message["chat"]["id"]),
            "data": data,
            "message": {k: v for k, v in message.items() if not k.startswith("_")},
        },
    }
