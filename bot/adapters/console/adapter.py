"""Console adapter: lines in, rendered events out. Doubles as the end-to-end test platform.

/as NAME [fan|admin|owner]   act as that member (created on first use)
/command args…               any command of the registry
!N                           press button N of the last reply
> text                       reply to the last message the bot posted
/advance 2d                  with a fake clock: move time, run what became due
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.adapters.console import roles as kept_roles
from bot.core.app import App
from bot.core.clock import FakeClock, parse_duration
from bot.core.commands import Role
from bot.core.context import Context
from bot.core.outbox import LIVE, LIVE_EDIT, POST_EDIT, OutboxItem, OutboxWorker
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo

PLATFORM = "console"
SPACE = "console"
CHANNEL = "channel"
# The longest `/advance`: each simulated hour runs every feature's due work.
LONGEST_ADVANCE = timedelta(days=7)
_NUMBERED = re.compile(r"^(\d+)-")


@dataclass
class OutEvent:
    to: str  # "channel" or a member name
    reply: Reply
    actions: list[tuple[str, str]] = field(default_factory=list)  # numbered (label, action)
    image: str | None = None
    file: str | None = None
    # A live update (a drop's counts): a platform that edits its messages changes the earlier
    # message in place; the console, a transcript, shows it again, marked as an update.
    update: bool = False

    def as_json(self) -> dict[str, Any]:
        data = {
            "to": self.to,
            "text": self.reply.plain_text(),
            "buttons": [
                {"n": i, "label": label, "action": action}
                for i, (label, action) in enumerate(self.actions, start=1)
            ],
            "ephemeral": self.reply.ephemeral,
            "image": self.image,
        }
        if self.file:
            data["file"] = self.file
        if self.reply.links:
            data["links"] = [{"label": k.label, "url": k.url} for k in self.reply.links]
        if self.update:
            data["update"] = True
        return data


class ConsoleAdapter:
    def __init__(
        self, app: App, *, image_dir: Path | None = None, roles_file: Path | None = None
    ) -> None:
        self.app = app
        # Roles given with `/as NAME ROLE` are kept across restarts (`roles.py`).
        self.roles_file = roles_file or (app.settings.data_dir / kept_roles.FILE_NAME)
        self.roles: dict[str, Role] = kept_roles.load(self.roles_file)
        self.current = "you"
        self.roles.setdefault(self.current, Role.OWNER)
        self.last_actions: list[tuple[str, str]] = []
        self.last_public_message: str | None = None
        self._message_ids = itertools.count(1)
        self._images: itertools.count[int] | None = None
        self.image_dir = image_dir or (app.settings.data_dir / "console")
        self.messages = MessagesRepo(app.engine)
        self._pending: list[OutEvent] = []
        self.worker = OutboxWorker(app.outbox, PLATFORM, self._deliver)

    async def context(self, name: str | None = None) -> Context:
        who = name or self.current
        return await self.app.context(
            platform=PLATFORM,
            space_id=SPACE,
            space_name="console",
            user_id=who.casefold(),
            display_name=who,
            role=self.roles.get(who, Role.FAN),
        )

    async def handle_line(self, line: str) -> list[OutEvent]:
        """Run one input line; return everything the bot said because of it."""
        line = line.strip()
        if not line or line.startswith("#"):
            return []
        self._pending = []
        if line.startswith("/as"):
            await self._as(line)
        elif line.startswith("/advance"):
            await self._advance(line)
        elif line.startswith("!"):
            await self._press(line[1:].strip())
        elif line.startswith(">"):
            await self._reply(line[1:].strip())
        elif line.startswith("/"):
            ctx = await self.context()
            await self._emit(ctx, await self.app.dispatcher.run_line(ctx, line))
        else:
            ctx = await self.context()
            self._system(ctx.t("console.not_a_command"))
        await self.flush_outbox()
        return self._pending

    async def flush_outbox(self) -> None:
        while await self.worker.run_once():
            pass

    # -- input kinds ---------------------------------------------------------------------------

    async def _as(self, line: str) -> None:
        parts = line.split()
        ctx = await self.context()
        if len(parts) < 2 or len(parts) > 3:
            self._system(ctx.t("console.as_usage"))
            return
        name = parts[1]
        if len(parts) == 3:
            try:
                role = Role.parse(parts[2])
            except Exception:
                self._system(ctx.t("error.role.unknown", value=parts[2]))
                return
            if self.roles.get(name) != role:
                self.roles[name] = role
                kept_roles.save(self.roles_file, self.roles)
        else:
            self.roles.setdefault(name, Role.FAN)
        self.current = name
        ctx = await self.context(name)
        self._system(
            ctx.t("console.acting", name=name, role=ctx.t(f"role.{self.roles[name].name.lower()}"))
        )

    async def _advance(self, line: str) -> None:
        ctx = await self.context()
        clock = self.app.clock
        if not isinstance(clock, FakeClock):
            self._system(ctx.t("console.advance_needs_fake"))
            return
        try:
            delta = parse_duration(line[len("/advance") :])
        except (ValueError, OverflowError):
            self._system(
                ctx.t("error.param.duration", name="time", value=line[len("/advance") :].strip())
            )
            return
        if delta > LONGEST_ADVANCE:
            self._system(ctx.t("console.advance_too_long", days=LONGEST_ADVANCE.days))
            return
        # Step in hours so that daily and weekly work runs at its own moment, not all at the end.
        step = min(delta, parse_duration("1h"))
        remaining = delta
        while remaining > parse_duration("0s"):
            move = min(step, remaining)
            clock.advance(move)
            remaining -= move
            await self.app.run_due()
            await self.flush_outbox()
        self._system(ctx.t("console.time", now=clock.now().isoformat(timespec="minutes")))

    async def _press(self, which: str) -> None:
        ctx = await self.context()
        try:
            index = int(which) - 1
            if index < 0:
                raise IndexError
            _label, action = self.last_actions[index]
        except (ValueError, IndexError):
            self._system(ctx.t("console.no_button", n=which))
            return
        await self._emit(ctx, await self.app.dispatcher.press(ctx, action))

    async def _reply(self, text: str) -> None:
        ctx = await self.context()
        subject = None
        if self.last_public_message is not None:
            subject = await self.messages.subject_of(PLATFORM, SPACE, self.last_public_message)
        if subject is None:
            self._system(ctx.t("console.nothing_to_reply"))
            return
        reply = await self.app.dispatcher.on_reply(ctx, subject, text)
        if reply is not None:
            await self._emit(ctx, reply)

    # -- output --------------------------------------------------------------------------------

    def _system(self, text: str) -> None:
        self._pending.append(OutEvent(self.current, Reply(text=text, ephemeral=True)))

    async def _emit(self, ctx: Context, reply: Reply) -> None:
        to = self.current if reply.ephemeral else CHANNEL
        await self._post(to, reply, ctx.community.id)

    async def _post(
        self, to: str, reply: Reply, community_id: int, *, update: bool = False
    ) -> None:
        actions = [(b.label, b.action) for b in reply.buttons]
        if reply.select:
            actions += [(o.label, o.action) for o in reply.select.options]
        image = self._save_image(reply) if reply.image else None
        file = self._save_file(reply) if reply.file else None
        event = OutEvent(to, reply, actions, image, file, update)
        self._pending.append(event)
        if actions:
            self.last_actions = actions
        if to == CHANNEL:
            message_id = str(next(self._message_ids))
            self.last_public_message = message_id
            if reply.subject:
                await self.messages.remember(
                    PLATFORM, SPACE, message_id, reply.subject, community_id, self.app.clock.now()
                )

    def _save_image(self, reply: Reply) -> str:
        return self._save(reply.image_name, reply.image or b"")

    def _save_file(self, reply: Reply) -> str:
        return self._save(reply.file_name or "file.bin", reply.file or b"")

    def _save(self, name: str, data: bytes) -> str:
        """Write a file under a number of its own: numbering goes on after the files already
        in the folder, so a second session (or a second console at once) overwrites nothing."""
        self.image_dir.mkdir(parents=True, exist_ok=True)
        if self._images is None:
            taken = [
                int(m.group(1)) for f in self.image_dir.iterdir() if (m := _NUMBERED.match(f.name))
            ]
            self._images = itertools.count(max(taken, default=0) + 1)
        while True:
            path = self.image_dir / f"{next(self._images):04d}-{Path(name).name}"
            try:
                with path.open("xb") as out:
                    out.write(data)
            except FileExistsError:
                continue
            return str(path)

    async def _deliver(self, item: OutboxItem) -> None:
        if item.kind in ("thread", POST_EDIT):  # no threads here, nor messages to edit
            return
        if item.kind == "role":  # the console has no roles: show what a platform would do
            names = await self.app.identity.display_names(
                [item.account_id] if item.account_id else []
            )
            who = names.get(item.account_id or 0, item.target)
            text = f"{item.payload['action']} role {item.payload['role']}: {who}"
            self._pending.append(OutEvent(CHANNEL, Reply(text=text)))
            return
        reply = Reply.from_dict(item.payload)
        if item.kind == "channel":
            await self._post(
                CHANNEL, reply, item.community_id, update=item.payload.get(LIVE) == LIVE_EDIT
            )
        else:
            names = await self.app.identity.display_names(
                [item.account_id] if item.account_id else []
            )
            await self._post(names.get(item.account_id or 0, item.target), reply, item.community_id)
