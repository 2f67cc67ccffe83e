"""One-time codes: single-use, short-lived codes for linking a second platform account and for
joining a platform space to a community (not the drops' F-codes or redemption codes)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import one_time_codes as codes

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass(frozen=True)
class OneTimeCode:
    code: str
    kind: str
    account_id: int | None
    community_id: int | None


class OneTimeCodesRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def issue(
        self,
        kind: str,
        now: datetime,
        ttl: timedelta,
        *,
        account_id: int | None = None,
        community_id: int | None = None,
        length: int = 8,
    ) -> str:
        code = "".join(secrets.choice(ALPHABET) for _ in range(length))
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(codes).values(
                    code=code,
                    kind=kind,
                    account_id=account_id,
                    community_id=community_id,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
        return code

    async def redeem(self, kind: str, code: str, now: datetime) -> OneTimeCode | None:
        """Use a code once; None when unknown, expired, of another kind or already used."""
        code = code.strip().upper()
        async with self.engine.begin() as conn:
            r = (
                await conn.execute(select(codes).where(codes.c.code == code, codes.c.kind == kind))
            ).first()
            if r is None or r.used_at is not None or r.expires_at <= now:
                return None
            res = await conn.execute(
                update(codes)
                .where(codes.c.code == code, codes.c.used_at.is_(None))
                .values(used_at=now)
            )
            if not res.rowcount:
                return None
            return OneTimeCode(r.code, r.kind, r.account_id, r.community_id)
