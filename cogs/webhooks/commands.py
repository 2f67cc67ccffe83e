"""Owners' webhook commands: `/webhook secret` makes a new signing secret and sends it to the owner
privately (once: it is never shown again), `/webhook test` sends a signed `ping`."""

from __future__ import annotations

import uuid

from bot.core.commands import CommandSpec, Role
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.events import Event
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.webhooks import signing
from cogs.webhooks.config import mask
from cogs.webhooks.service import PING, WebhookService


def svc(ctx: Context) -> WebhookService:
    return ctx.service(WebhookService)


async def secret(ctx: Context) -> Reply:
    cid = ctx.community.id
    value = signing.new_secret()
    await svc(ctx).config.set_secret(cid, value)

    def render(locale: str) -> Reply:
        t = ctx.translator
        return Reply(
            title=t(locale, "webhook.secret.title", community=ctx.community.name),
            text=t(locale, "webhook.secret.body", secret=value, header=signing.HEADER),
        )

    sent = await ctx.outbox.notify(cid, [ctx.member.account_id], render, force=True)
    return Reply(
        text=ctx.t("webhook.secret.sent" if sent else "webhook.secret.unsent"), ephemeral=True
    )


async def test(ctx: Context) -> Reply:
    cid = ctx.community.id
    url, key = await svc(ctx).config.get(cid)
    if not url:
        raise UserError("webhook.none")
    if not key:
        raise UserError("webhook.no_secret")
    event = Event(
        PING, cid, f"ping:{uuid.uuid4().hex}", ctx.now(), {"message": "fanloop webhook test"}
    )
    await svc(ctx).store(event)
    return Reply(text=ctx.t("webhook.test.queued", url=mask(url), id=event.id), ephemeral=True)


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(CommandSpec("webhook secret", "help.webhook_secret", secret, role=Role.OWNER))
    c(CommandSpec("webhook test", "help.webhook_test", test, role=Role.OWNER, audit=False))
