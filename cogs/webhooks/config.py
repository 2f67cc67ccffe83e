"""The community's webhook: its address (a setting, shown masked) and its signing secret (stored
beside the settings but never shown by /settings; sent once to the owner who asks for one)."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.core.commands import ParamType
from bot.core.errors import UserError
from bot.core.settings import SettingSpec
from storage.core.settings import SettingsRepo

URL_KEY = "webhook_url"
SECRET_KEY = "webhook_secret"  # not a declared setting: /settings neither shows nor sets it
MAX_URL = 500


def validate_url(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if len(value) > MAX_URL:
        raise UserError("error.webhook.url_long", max=MAX_URL)
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        raise UserError("error.webhook.url", value=value[:80]) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in value)
        or (port is not None and not 0 < port < 65536)
    ):
        raise UserError("error.webhook.url", value=value[:80])
    return value


def mask(value: object) -> str:
    """The address as /settings shows it: scheme and host, the path hidden (it often carries a
    token of the receiver's)."""
    text = str(value)
    if not text:
        return "—"
    parts = urlsplit(text)
    host = parts.netloc.rsplit("@", 1)[-1]
    hidden = "/…" if (parts.path.strip("/") or parts.query) else ""
    return f"{parts.scheme}://{host}{hidden}"


SPEC = SettingSpec(
    URL_KEY,
    "setting.webhook_url",
    ParamType.TEXT,
    "",
    max=MAX_URL,
    validate=validate_url,
    show=mask,
)


class WebhookConfig:
    """Read from the database each time (not the settings cache), so that every process sends
    to the address and with the secret the owner set last."""

    def __init__(self, repo: SettingsRepo) -> None:
        self.repo = repo

    async def get(self, community_id: int) -> tuple[str, str]:
        """(address, secret); either may be empty."""
        stored = await self.repo.all(community_id)
        return str(stored.get(URL_KEY) or ""), str(stored.get(SECRET_KEY) or "")

    async def set_secret(self, community_id: int, secret: str) -> None:
        await self.repo.put(community_id, SECRET_KEY, secret)
