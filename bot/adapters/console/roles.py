"""The console's roles (`/as NAME admin`), kept in the data folder so that a restarted
`fanloop console` knows who is an admin or an owner. A console has no platform to ask for roles:
this file plays the part of Discord's roles or Telegram's chat administrators."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from bot.core.commands import Role

log = logging.getLogger(__name__)

FILE_NAME = "console-roles.json"


def load(path: Path) -> dict[str, Role]:
    """The roles kept at `path`; none when there is no file, and none (logged) when it is not
    one this console wrote."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("console roles in %s could not be read (%s): starting without them", path, exc)
        return {}
    roles = data.get("roles") if isinstance(data, dict) else None
    if not isinstance(roles, dict):
        log.warning("console roles in %s are not in the expected form: starting without them", path)
        return {}
    out = {}
    for name, role in roles.items():
        if isinstance(name, str) and isinstance(role, str) and role.upper() in Role.__members__:
            out[name] = Role[role.upper()]
    return out


def save(path: Path, roles: dict[str, Role]) -> None:
    """Write the roles whole: to a file beside it first, then moved into place, so a console
    stopped half-way leaves the old file or the new one, never a part."""
    data = {"roles": {name: role.name.lower() for name, role in sorted(roles.items())}}
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
        os.replace(part, path)
    except OSError as exc:  # the role holds until the console stops, all the same
        log.warning("console roles could not be kept in %s: %s", path, exc)
