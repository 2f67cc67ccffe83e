""" "View on the web": a message about a page of the community's public site (`Reply.web_path`,
e.g. "/s/12") gets a link to it when the community's page is on (`web` on or private) and the
process knows its public address (`web_base_url`). Nothing is linked otherwise.

Listed communities are at `<base>/c/<id>`, private ones at `<base>/p/<token>` (bot/web/site).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.core.builtin_settings import WEB_PRIVATE
from bot.core.reply import Link, Reply
from bot.core.settings import SettingsService

LABEL_KEY = "web.view_on_web"


def community_base(base_url: str | None, community_id: int, web: object) -> str | None:
    """The address of the community's pages, or None when they are off or unaddressable."""
    if not base_url:
        return None
    value = str(web or "off")
    if value == "on":
        return f"{base_url}/c/{community_id}"
    if value.startswith(WEB_PRIVATE) and len(value) > len(WEB_PRIVATE):
        return f"{base_url}/p/{value[len(WEB_PRIVATE) :]}"
    return None


class WebLinks:
    def __init__(
        self,
        settings: SettingsService,
        base_url: Callable[[], str | None],
        translate: Callable[..., str],
    ) -> None:
        self.settings = settings
        self.base_url = base_url
        self.translate = translate

    async def url(self, community_id: int, path: str) -> str | None:
        """The public address of `path` on the community's pages, or None."""
        base = self.base_url()
        if not base:
            return None
        root = community_base(base, community_id, await self.settings.get(community_id, "web"))
        return root + path if root else None

    async def apply(self, community_id: int | None, reply: Reply, locale: str) -> Reply:
        """`reply` with its "view on the web" link when it has a page and the page is on."""
        if not reply.web_path or community_id is None:
            return reply
        url = await self.url(community_id, reply.web_path)
        if url is None or any(link.url == url for link in reply.links):
            return reply
        label = self.translate(locale, LABEL_KEY)
        return replace(reply, links=[*reply.links, Link(label, url)])
