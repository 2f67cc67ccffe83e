"""The public, read-only web pages of the communities that turn them on (`/settings web on`):
board, suggestion, roadmap, changelog, each with a JSON twin under `api/`.

    /                          the communities listed (web = on)
    /c/<id>/ …                 a listed community's pages
    /p/<token>/ …              a private community's pages (web = private: an unguessable link)
    …/ , …/s/<n>, …/roadmap, …/changelog          HTML
    …/api/board, …/api/s/<n>, …/api/roadmap, …/api/changelog, /api/communities   JSON

`routes(app)` gives the aiohttp routes; `bot.web.server.HttpServers` serves them (`fanloop run`
with `web_port`, or `fanloop web`).
"""

from bot.web.site.pages import SitePages, routes

__all__ = ["SitePages", "routes"]
