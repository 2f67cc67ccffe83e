"""A Reply as Telegram messages: HTML with every piece of text escaped, inline keyboards whose
callback data are the action strings, photos for charts, long text split at line ends."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.reply import MAX_ACTION_BYTES, Field, Reply

TEXT_LIMIT = 4096  # characters of a message, after HTML parsing
CAPTION_LIMIT = 1024


@dataclass(frozen=True)
class Outgoing:
    html: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: bytes | None = None
    photo_name: str = "chart.png"
    document: bytes | None = None
    document_name: str = "export.csv"


@dataclass(frozen=True)
class _Line:
    text: str  # plain
    tag: str = ""  # "b" | "i" | ""

    def html(self) -> str:
        body = html.escape(self.text)
        return f"<{self.tag}>{body}</{self.tag}>" if self.tag and body else body


def _lines(reply: Reply) -> list[_Line]:
    blocks: list[list[_Line]] = []
    if reply.title:
        blocks.append([_Line(t, "b") for t in reply.title.splitlines()])
    if reply.text:
        blocks.append([_Line(t) for t in reply.text.splitlines()])
    if reply.fields:
        blocks.append(_field_lines(reply.fields))
    if reply.footer:
        blocks.append([_Line(t, "i") for t in reply.footer.splitlines()])
    out: list[_Line] = []
    for block in blocks:
        if out:
            out.append(_Line(""))
        out.extend(block)
    return out


def _field_lines(fields: list[Field]) -> list[_Line]:
    """Fields as `name: value`; consecutive inline fields share one line."""
    out: list[_Line] = []
    run: list[Field] = []

    def flush() -> None:
        if run:
            out.append(_Line(" · ".join(f"{f.name}: {f.value}" for f in run)))
            run.clear()

    for f in fields:
        if f.inline:
            run.append(f)
            continue
        flush()
        value_lines = f.value.splitlines() or [""]
        out.append(_Line(f"{f.name}: {value_lines[0]}"))
        out.extend(_Line(v) for v in value_lines[1:])
    flush()
    return out


def _split_long(line: _Line, limit: int) -> list[_Line]:
    if len(line.text) <= limit:
        return [line]
    return [_Line(line.text[i : i + limit], line.tag) for i in range(0, len(line.text), limit)]


def _chunks(lines: list[_Line], limit: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in (piece for ln in lines for piece in _split_long(ln, limit)):
        if not current and not line.text.strip():
            continue  # no blank line at the top of a message
        extra = len(line.text) + (1 if current else 0)
        if current and size + extra > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
            extra = len(line.text)
        current.append(line.html())
        size += extra
    if current:
        chunks.append("\n".join(current))
    return [c for c in chunks if c.strip()]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    buttons = list(reply.buttons)
    if buttons:
        short = len(buttons) <= 3 and sum(len(b.label) for b in buttons) <= 36
        if short:
            rows.append([_button(b.label, b.action) for b in buttons])
        else:
            rows.extend([_button(b.label, b.action)] for b in buttons)
    if reply.select:
        for option in reply.select.options:
            label = f"{option.label} — {option.description}" if option.description else option.label
            rows.append([_button(label, option.action)])
    # Links (a URL button each, on a row of its own): they open the address.
    rows.extend(
        [InlineKeyboardButton(link.label.strip() or "·", url=link.url)] for link in reply.links
    )
    return InlineKeyboardMarkup(rows) if rows else None


def _button(label: str, action: str) -> InlineKeyboardButton:
    if len(action.encode("utf-8")) > MAX_ACTION_BYTES:
        raise ValueError(f"callback data longer than {MAX_ACTION_BYTES} bytes: {action!r}")
    return InlineKeyboardButton(label.strip() or "·", callback_data=action)


def _caption_split(lines: list[_Line]) -> tuple[list[_Line], list[_Line]]:
    """All of the text as the photo's caption when it fits, else the title (then the text)."""
    if sum(len(ln.text) for ln in lines) + max(0, len(lines) - 1) <= CAPTION_LIMIT:
        return lines, []
    n = 0
    while n < len(lines) and lines[n].tag == "b":
        n += 1
    if sum(len(ln.text) + 1 for ln in lines[:n]) > CAPTION_LIMIT:
        return [], lines
    return lines[:n], lines[n:]


def render(reply: Reply, *, extra_row: list[InlineKeyboardButton] | None = None) -> list[Outgoing]:
    """The messages that show `reply`; the keyboard goes on the last one."""
    markup = keyboard(reply)
    if extra_row:
        rows = [list(r) for r in markup.inline_keyboard] if markup else []
        markup = InlineKeyboardMarkup([*rows, extra_row])
    lines = _lines(reply)
    out: list[Outgoing] = []
    if reply.image:
        head, rest = _caption_split(lines)
        caption = _chunks(head, CAPTION_LIMIT)
        out.append(Outgoing(caption[0] if caption else "", None, reply.image, reply.image_name))
        out.extend(Outgoing(chunk) for chunk in _chunks(rest, TEXT_LIMIT))
    else:
        out.extend(Outgoing(chunk) for chunk in _chunks(lines, TEXT_LIMIT))
    if reply.file:
        out.append(Outgoing("", document=reply.file, document_name=reply.file_name))
    if not out:
        if markup is None:
            return []
        out.append(Outgoing("·"))
    out[-1] = replace(out[-1], keyboard=markup)
    return out
