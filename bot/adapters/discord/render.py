"""A `Reply` as a Discord message: one embed, buttons and a select, an attached image.

Text is plain in the reply model, so it is escaped here; every message goes out with
`AllowedMentions.none()`, so user text never pings anyone. Everything is cut to Discord's limits
(embed sizes, 5 rows of 5 buttons, 25 options) rather than refused. Views are built stopped:
discord.py then does not keep them in memory, and every click is routed by its custom id (the
action) instead, which keeps old messages working after a restart.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import discord

from bot.adapters.discord.translate import clip
from bot.core.reply import Button, Reply, SelectOption

BRAND = discord.Colour(0xFF6900)
ERROR = discord.Colour(0xED4245)
SELECT_ID = "fanloop-select"  # never an action: actions always have a ':'
NO_MENTIONS = discord.AllowedMentions.none()
STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}
EMBED_TOTAL = 6000
MAX_ROWS = 5
PER_ROW = 5


_NOT_A_HEADING = re.compile(r"(?m)^\\#(?!#{0,2}\s)")


def escape(text: str) -> str:
    """Plain text shown as such: markdown escaped, except a leading "#12" that is no heading."""
    return _NOT_A_HEADING.sub("#", discord.utils.escape_markdown(text))


def cut(text: str, limit: int) -> str:
    """Shorten to `limit` characters, keeping line breaks."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def file_name(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "chart.png"
    return safe[:64]


def embed(reply: Reply) -> discord.Embed:
    title = reply.title.strip()
    heading = ""
    if "\n" in title:  # "💡 New suggestion\n#12 Dark mode": the first line goes above the title
        heading, _, title = title.partition("\n")
    e = discord.Embed(
        title=clip(escape(title), 256) if title else None,
        description=cut(escape(reply.text), 4096) if reply.text.strip() else None,
        colour=ERROR if reply.error else BRAND,
    )
    if heading:
        e.set_author(name=clip(heading, 256))
    for f in reply.fields[:25]:
        e.add_field(
            name=clip(escape(f.name), 256) or "\u200b",
            value=cut(escape(f.value), 1024) or "—",
            inline=f.inline,
        )
    if reply.footer:
        e.set_footer(text=cut(reply.footer, 2048))
    if reply.image:
        e.set_image(url=f"attachment://{file_name(reply.image_name)}")
    overflow = len(e) - EMBED_TOTAL
    if overflow > 0 and e.description:
        e.description = e.description[: max(0, len(e.description) - overflow - 1)] + "…"
    if not (e.title or e.description or e.fields or e.footer.text or reply.image):
        e.description = "\u200b"
    return e


def _unique_buttons(buttons: list[Button], limit: int) -> list[Button]:
    seen: set[str] = set()
    out = []
    for b in buttons:
        if b.action not in seen:
            seen.add(b.action)
            out.append(b)
    return out[:limit]


def _unique_options(options: tuple[SelectOption, ...]) -> list[SelectOption]:
    seen: set[str] = set()
    out = []
    for o in options:
        if o.action not in seen:
            seen.add(o.action)
            out.append(o)
    return out[:25]


def view(reply: Reply) -> discord.ui.View | None:
    has_select = bool(reply.select and reply.select.options)
    rows_for_buttons = MAX_ROWS - (1 if has_select else 0)
    links = list(reply.links)[: rows_for_buttons * PER_ROW]
    buttons = _unique_buttons(list(reply.buttons), rows_for_buttons * PER_ROW - len(links))
    if not buttons and not has_select and not links:
        return None
    v = discord.ui.View(timeout=None)
    for i, b in enumerate(buttons):
        v.add_item(
            discord.ui.Button(
                label=clip(b.label, 80) or "·",
                style=STYLES.get(b.style, discord.ButtonStyle.secondary),
                custom_id=b.action,
                row=i // PER_ROW,
            )
        )
    for j, link in enumerate(links, start=len(buttons)):
        # A link button (style 5): it opens the address, no interaction comes back.
        v.add_item(
            discord.ui.Button(
                label=clip(link.label, 80) or "·",
                style=discord.ButtonStyle.link,
                url=link.url,
                row=j // PER_ROW,
            )
        )
    if reply.select and has_select:
        v.add_item(
            discord.ui.Select(
                custom_id=SELECT_ID,
                placeholder=clip(reply.select.placeholder, 150) or None,
                options=[
                    discord.SelectOption(
                        label=clip(o.label, 100) or "·",
                        value=o.action,
                        description=clip(o.description, 100) or None,
                    )
                    for o in _unique_options(reply.select.options)
                ],
                row=(len(buttons) + len(links) + PER_ROW - 1) // PER_ROW,
            )
        )
    v.stop()
    return v


@dataclass
class Rendered:
    """Keyword arguments for discord.py's send and edit calls (a file can be sent only once,
    so render again for each attempt)."""

    embed: discord.Embed
    view: discord.ui.View | None
    file: discord.File | None

    def send(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"embed": self.embed, "allowed_mentions": NO_MENTIONS}
        if self.view is not None:
            kw["view"] = self.view
        if self.file is not None:
            kw["file"] = self.file
        return kw

    def edit(self) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "embed": self.embed,
            "allowed_mentions": NO_MENTIONS,
            "view": self.view,
        }
        if self.file is not None:
            kw["attachments"] = [self.file]
        return kw


def render(reply: Reply) -> Rendered:
    file = None
    if reply.image:
        file = discord.File(io.BytesIO(reply.image), filename=file_name(reply.image_name))
    elif reply.file:  # a document, e.g. a CSV export
        file = discord.File(io.BytesIO(reply.file), filename=file_name(reply.file_name))
    return Rendered(embed(reply), view(reply), file)


def is_private(reply: Reply) -> bool:
    return reply.ephemeral or reply.error
