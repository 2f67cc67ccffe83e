"""Any reply renders into a message Discord accepts; roles from permissions and settings."""

from __future__ import annotations

from typing import Any

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.discord.members import admin_role_match, role_of
from bot.adapters.discord.render import escape, render
from bot.core.commands import Role
from bot.core.reply import Button, Field, Reply, Select, SelectOption
from devtools.servers.discord_api import check_message

text = st.text(max_size=300) | st.text(min_size=1000, max_size=7000)
action = st.from_regex(r"[a-z]{1,4}:[0-9]{1,6}", fullmatch=True)
buttons = st.lists(
    st.builds(
        Button,
        label=st.text(max_size=120),
        action=action,
        style=st.sampled_from(["primary", "secondary", "success", "danger", "weird"]),
    ),
    max_size=30,
)
select = st.none() | st.builds(
    Select,
    placeholder=st.text(max_size=200),
    options=st.lists(
        st.builds(
            SelectOption,
            label=st.text(max_size=150),
            action=action,
            description=st.text(max_size=150),
        ),
        min_size=1,
        max_size=40,
    ).map(tuple),
)
replies = st.builds(
    Reply,
    text=text,
    title=st.text(max_size=400),
    fields=st.lists(
        st.builds(
            Field, name=st.text(max_size=300), value=st.text(max_size=1500), inline=st.booleans()
        ),
        max_size=30,
    ),
    buttons=buttons,
    select=select,
    footer=st.text(max_size=2500),
    error=st.booleans(),
)


def payload(reply: Reply) -> dict[str, Any]:
    out = render(reply)
    data: dict[str, Any] = {"embeds": [out.embed.to_dict()]}
    if out.view is not None:
        data["components"] = out.view.to_components()
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reply=replies)
async def test_every_reply_fits_discords_limits(reply: Reply) -> None:
    data = payload(reply)
    assert check_message(data, files=0) == []
    rows = data.get("components", [])
    shown = [c["custom_id"] for row in rows for c in row["components"] if c["type"] == 2]
    # Buttons keep their actions, each once, in order, as many as fit beside the select.
    unique = list(dict.fromkeys(b.action for b in reply.buttons))
    room = 25 - (5 if reply.select and reply.select.options else 0)
    assert shown == unique[:room]
    selects = [c for row in rows for c in row["components"] if c["type"] == 3]
    if reply.select:
        (menu,) = selects
        assert [o["value"] for o in menu["options"]] == list(
            dict.fromkeys(o.action for o in reply.select.options)
        )[:25]


async def test_embed_layout_and_image() -> None:
    reply = Reply(
        title="💡 New suggestion\n#12 *Dark* mode",
        text="**why** <@123>",
        fields=[Field("Votes", "3", inline=True), Field("Note", "")],
        footer="Reply +1 to vote",
        image=b"\x89PNG fake",
        image_name="four grid.png",
        buttons=[Button("+1", "sv:12", "primary")],
    )
    out = render(reply)
    e = out.embed.to_dict()
    assert e["author"]["name"] == "💡 New suggestion"
    assert e["title"] == "#12 \\*Dark\\* mode"
    assert e["description"] == "\\*\\*why\\*\\* <@123>"
    assert [(f["name"], f["value"], f["inline"]) for f in e["fields"]] == [
        ("Votes", "3", True),
        ("Note", "—", False),
    ]
    assert e["image"]["url"] == "attachment://four_grid.png"
    assert out.file is not None and out.file.filename == "four_grid.png"
    (row,) = out.view.to_components() if out.view else []
    assert row["components"][0]["style"] == discord.ButtonStyle.primary.value
    assert escape("#1 first\n# not a heading?") == "#1 first\n\\# not a heading?"


def test_roles_from_permissions() -> None:
    none = discord.Permissions.none()
    assert role_of(owner=True, permissions=none) is Role.OWNER
    assert role_of(owner=False, permissions=discord.Permissions(administrator=True)) is Role.OWNER
    assert role_of(owner=False, permissions=discord.Permissions(manage_guild=True)) is Role.ADMIN
    assert role_of(owner=False, permissions=discord.Permissions(manage_messages=True)) is Role.FAN


def test_admin_roles_setting() -> None:
    roles = [(11, "Moderators"), (12, "Beta Testers")]
    assert admin_role_match("moderators", roles)
    assert admin_role_match(" @Beta Testers , other", roles)
    assert admin_role_match("<@&12>", roles)
    assert admin_role_match("11", roles)
    assert not admin_role_match("", roles)
    assert not admin_role_match("Mods, 13, <@&14>", roles)
