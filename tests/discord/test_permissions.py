"""Roles on Discord: hidden from fans by default permissions, refused at run time by the payload's
permissions, granted by ownership, Administrator, Manage Server or the configured admin roles."""

from __future__ import annotations

from bot.core.app import App
from bot.core.commands import CommandSpec, Role
from bot.core.context import Context
from bot.core.reply import Reply
from devtools.servers.discord_api import ADMINISTRATOR, EVERYONE, MANAGE_GUILD, FakeDiscord
from tests.discord.conftest import Bot, StartBot, is_ephemeral, sample, text_of

EXPECTED_PERMISSIONS = {Role.ADMIN: MANAGE_GUILD, Role.OWNER: ADMINISTRATOR}


async def test_every_admin_and_owner_command_is_refused_to_a_fan(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    fan = fake.add_member("Fan")
    schema = {c["name"]: c for c in fake.commands[None]}
    privileged = [s for s in app.commands.all() if s.role > Role.FAN]
    assert len(privileged) >= 6
    for spec in privileged:
        options = {} if spec.form else {p.name: sample(p, fan) for p in spec.params}
        answer = await bot.slash(fan, spec.name, **options)
        assert answer.modal is None, f"/{spec.name} opened its form for a fan"
        assert is_ephemeral(answer.message), spec.name
        role = "admin" if spec.role is Role.ADMIN else "owner"
        assert text_of(answer.message) == f"This needs the {role} role.", spec.name
        top = schema[spec.group or spec.name]
        if spec.group is None:
            assert top["default_member_permissions"] == EXPECTED_PERMISSIONS[spec.role]
        else:  # a group is hidden only when all of its subcommands are privileged
            roles = [s.role for s in app.commands.all() if s.group == spec.group]
            expected = EXPECTED_PERMISSIONS.get(min(roles))
            assert top["default_member_permissions"] == expected
    fan_commands = [s for s in app.commands.all() if s.role is Role.FAN and s.group is None]
    assert all(schema[s.name]["default_member_permissions"] is None for s in fan_commands)


async def _whoami(ctx: Context) -> Reply:
    roles = ",".join((ctx.extras or {}).get("roles", []))
    return Reply(text=f"{ctx.member.role.name} [{roles}]", ephemeral=True)


async def test_role_matrix(app: App, fake: FakeDiscord, start_bot: StartBot) -> None:
    app.commands.add(CommandSpec("whoami", "help.help", _whoami))
    guild = fake.guild
    guild.add_role("Moderators")
    guild.add_role("Managers", MANAGE_GUILD)
    guild.add_role("Admins", ADMINISTRATOR)
    guild.add_role("Testers")
    bot = await start_bot()

    async def role(user: dict[str, object], **kw: object) -> str:
        return text_of((await bot.slash(user, "whoami", **kw)).message)

    fan = fake.add_member("Fan", "Testers")
    mod = fake.add_member("Mod", "Moderators")
    manager = fake.add_member("Manager", "Managers")
    admin = fake.add_member("Admin", "Admins")
    assert await role(fan) == "FAN [Testers]"
    assert await role(mod) == "FAN [Moderators]"
    assert await role(manager) == "ADMIN [Managers]"
    assert await role(admin) == "OWNER [Admins]"
    assert await role(fake.owner, _permissions=EVERYONE) == "OWNER []"  # the server's owner
    # The payload's permissions decide (Discord computes them, overwrites included).
    assert await role(manager, _permissions=EVERYONE) == "FAN [Managers]"
    # Roles configured for the community count as admins: by name, id or mention.
    owner_says = await bot.slash(
        fake.owner, "settings", key="admin_roles", value="moderators, Team"
    )
    assert "admin_roles" in text_of(owner_says.message)
    assert await role(mod) == "ADMIN [Moderators]"
    assert await role(fan) == "FAN [Testers]"
    testers = guild.role_id("Testers")
    await bot.slash(fake.owner, "settings", key="admin_roles", value=f"<@&{testers}>")
    assert await role(fan) == "ADMIN [Testers]"
    assert await role(mod) == "FAN [Moderators]"


async def test_admin_command_runs_for_an_admin(bot: Bot, fake: FakeDiscord) -> None:
    fake.guild.add_role("Managers", MANAGE_GUILD)
    manager = fake.add_member("Manager", "Managers")
    opened = await bot.slash(manager, "suggest")
    await bot.run(fake.submit(manager, opened.modal or {}, {"title": "Dark mode"}))
    answer = await bot.slash(manager, "status", id="1", status="planned", note="next sprint")
    assert not is_ephemeral(answer.message)
    assert "Planned" in text_of(answer.message)
    refused = await bot.slash(manager, "settings")
    assert text_of(refused.message) == "This needs the owner role."
