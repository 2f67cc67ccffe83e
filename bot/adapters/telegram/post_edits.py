"""Posts about a changed subject (a suggestion edited, deleted, answered) edited in place: the
messages the bot sent about it (`message_refs`) get the subject's current text and keyboard by
`editMessageText`, each edit taking its slot in the send throttle like a message. A message
Telegram no longer lets the bot edit (deleted, too old) is left alone; "not modified" is no
failure. A post that was a photo is not a card and is not edited. See `bot.core.posts`."""

from __future__ import annotations

import logging

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.adapters.telegram.render import Outgoing, render
from bot.adapters.telegram.throttle import SendThrottle
from bot.core.context import Context
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

PLATFORM = "telegram"


def one_text(reply: Reply) -> Outgoing | None:
    """The reply as the one text message an edit can show; None when it is more (several
    messages, a photo, a file)."""
    shown = render(reply)
    if len(shown) != 1 or shown[0].photo is not None or shown[0].document is not None:
        return None
    return shown[0]


async def edit_text(bot: Bot, chat_id: int, message_id: int, out: Outgoing) -> None:
    """Show `out` in place of a message of the bot's; "message is not modified" (it shows that
    already) is no failure. Other refusals raise (BadRequest, TelegramError)."""
    try:
        await bot.edit_message_text(
            out.html,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=out.keyboard,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


class PostEdits:
    def __init__(self, bot: Bot, throttle: SendThrottle, messages: MessagesRepo) -> None:
        self.bot = bot
        self.throttle = throttle
        self.messages = messages
        self.edits = 0

    async def __call__(self, ctx: Context, subject: str, reply: Reply | None) -> None:
        await self.edit(ctx.community.id, subject, reply)

    async def edit(self, community_id: int, subject: str, reply: Reply | None) -> None:
        """Show `reply` (the subject's view) on this platform's messages about `subject`."""
        if reply is None:
            return
        out = one_text(reply)
        if out is None:
            return  # not one text message: nothing a card edit could show
        for chat_id, message_id in await self.messages.messages_about(
            PLATFORM, subject, community_id
        ):
            await self.throttle.wait(int(chat_id))
            try:
                await edit_text(self.bot, int(chat_id), int(message_id), out)
                self.edits += 1
            except TelegramError as exc:  # BadRequest included: deleted, too old
                log.info("post %s/%s about %s not edited: %s", chat_id, message_id, subject, exc)
