"""The world of `fanloop bench telegram --scenario claim`: a Telegram group whose community has
a flash drop open for claims, and N members (Telegram identities) who all reserved it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.commands import Role
from cogs.drops import lottery
from storage.core.schema import accounts, identities, members
from storage.drops.schema import drops, reservations, slots, wins

CHUNK = 5_000


async def seed_claim_world(
    app: App,
    *,
    group_id: int,
    first_member: int,
    pressers: int,
    quota: int,
    waitlist: int,
) -> int:
    """The group's community (created through the adapter's own path), a flash drop whose
    claims opened a minute ago, and `pressers` members who reserved it; the drop's id."""
    owner = await app.context(
        platform="telegram",
        space_id=str(group_id),
        space_name="Bench fans",
        user_id=str(first_member - 1),
        display_name="Owner",
        role=Role.OWNER,
    )
    now = app.clock.now()
    before = now - timedelta(days=1)
    drop_at = now - timedelta(minutes=1)
    engine = app.engine
    async with engine.begin() as conn:
        seed_hex = lottery.new_seed()
        drop_id = (
            await conn.execute(
                insert(drops).values(
                    community_id=owner.community.id, created_by=owner.member.account_id,
                    name="Flash bench", mode="flash", quota=quota, per_account=1,
                    waitlist=waitlist, opens_at=before, closes_at=drop_at, drop_at=drop_at,
                    confirm_seconds=86400, seed=seed_hex, commitment=lottery.commitment(seed_hex),
                    created_at=before, updated_at=before, opened_at=before, started_at=drop_at,
                )
            )
        ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
        first_account = (
            int(
                (await conn.execute(select(func.coalesce(func.max(accounts.c.id), 0)))).scalar_one()
            )
            + 1
        )
    for start in range(0, pressers, CHUNK):
        n = min(CHUNK, pressers - start)
        ids = [(first_account + start + i, first_member + start + i) for i in range(n)]
        async with engine.begin() as conn:
            await conn.execute(insert(accounts), [{"id": a, "created_at": before} for a, _ in ids])
            await conn.execute(
                insert(identities),
                [
                    {
                        "platform": "telegram",
                        "platform_user_id": str(u),
                        "account_id": a,
                        "display_name": f"Fan {u - first_member}",
                        "created_at": before,
                    }
                    for a, u in ids
                ],
            )
            await conn.execute(
                insert(members),
                [
                    {
                        "community_id": owner.community.id,
                        "account_id": a,
                        "joined_at": before,
                        "last_seen_at": now,
                    }
                    for a, _ in ids
                ],
            )
            await conn.execute(
                insert(reservations),
                [{"drop_id": drop_id, "account_id": a, "reserved_at": before} for a, _ in ids],
            )
    await _fix_sequences(engine)
    return int(drop_id)


async def _fix_sequences(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    async with engine.begin() as conn:
        await conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('accounts', 'id'), "
                "(SELECT max(id) FROM accounts))"
            )
        )


async def claim_outcome(engine: AsyncEngine, drop_id: int) -> dict[str, Any]:
    """Winners and units taken, from the database."""
    async with engine.connect() as conn:
        winners = (
            await conn.execute(
                select(func.count()).select_from(wins).where(wins.c.drop_id == drop_id)
            )
        ).scalar_one()
        taken = (
            await conn.execute(
                select(func.count()).select_from(slots).where(slots.c.drop_id == drop_id)
            )
        ).scalar_one()
    return {"winners": int(winners), "units_taken": int(taken)}
