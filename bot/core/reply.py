"""The platform-neutral reply model that every adapter renders.

Text is plain text: adapters escape it for their markup. Buttons and select options carry
*actions*, short strings that fit Telegram's 64-byte callback data and Discord's custom_id.
An image (PNG) is shown inline; a file (`file` + `file_name`, e.g. a CSV) is attached.
A link (`links`) opens an address: a Discord link button, a Telegram URL button, a line on the
console. `web_path` names the community's web page the message is about ("/s/12"); the core
turns it into a "view on the web" link when the community's page is on (bot.core.web_links).
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_ACTION_BYTES = 64


def check_action(action: str) -> str:
    if len(action.encode("utf-8")) > MAX_ACTION_BYTES:
        raise ValueError(f"action longer than {MAX_ACTION_BYTES} bytes: {action!r}")
    if ":" not in action:
        raise ValueError(f"action needs a prefix: {action!r}")
    return action


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    style: str = "secondary"  # primary | secondary | success | danger

    def __post_init__(self) -> None:
        check_action(self.action)


@dataclass(frozen=True)
class Link:
    """A button that opens an address instead of sending an action."""

    label: str
    url: str


@dataclass(frozen=True)
class SelectOption:
    label: str
    action: str
    description: str = ""

    def __post_init__(self) -> None:
        check_action(self.action)


@dataclass(frozen=True)
class Select:
    placeholder: str
    options: tuple[SelectOption, ...]


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass
class Reply:
    """What a handler returns and what the outbox delivers."""

    text: str = ""
    title: str = ""
    fields: list[Field] = field(default_factory=list)
    image: bytes | None = None
    image_name: str = "chart.png"
    buttons: list[Button] = field(default_factory=list)
    select: Select | None = None
    ephemeral: bool = False
    # What the message is about ("sg:12"), so replies to it ("+1") can be routed after a restart.
    subject: str | None = None
    footer: str = ""
    # True when this is an error message (adapters may show it as an alert).
    error: bool = False
    # A file to attach (e.g. a CSV export); adapters send it as a document.
    file: bytes | None = None
    file_name: str = ""
    # The community web page this message is about ("/s/12"), and the links shown.
    web_path: str = ""
    links: list[Link] = field(default_factory=list)

    def plain_text(self) -> str:
        """Title, text, fields and footer as one plain string (console, logs, tests)."""
        parts = []
        if self.title:
            parts.append(self.title)
        if self.text:
            parts.append(self.text)
        for f in self.fields:
            parts.append(f"{f.name}: {f.value}")
        if self.footer:
            parts.append(self.footer)
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["image"] = base64.b64encode(self.image).decode("ascii") if self.image else None
        data["file"] = base64.b64encode(self.file).decode("ascii") if self.file else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        select = data.get("select")
        return cls(
            text=data.get("text", ""),
            title=data.get("title", ""),
            fields=[Field(**f) for f in data.get("fields", [])],
            image=base64.b64decode(data["image"]) if data.get("image") else None,
            image_name=data.get("image_name", "chart.png"),
            buttons=[Button(**b) for b in data.get("buttons", [])],
            select=Select(
                placeholder=select["placeholder"],
                options=tuple(SelectOption(**o) for o in select["options"]),
            )
            if select
            else None,
            ephemeral=bool(data.get("ephemeral", False)),
            subject=data.get("subject"),
            footer=data.get("footer", ""),
            error=bool(data.get("error", False)),
            file=base64.b64decode(data["file"]) if data.get("file") else None,
            file_name=data.get("file_name", ""),
            web_path=data.get("web_path", ""),
            links=[Link(**k) for k in data.get("links", [])],
        )
