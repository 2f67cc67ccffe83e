"""Forms in progress in members' private chats with the Telegram bot (one per member)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.platform.schema import telegram_forms
from storage.util import insert_ignore


@dataclass
class SavedForm:
    user_id: str
    command: str
    step: int
    expires_at: datetime
    # Parameter name → the answer as typed; None for a field left out with /skip.
    answers: dict[str, str | None] = field(default_factory=dict)


class TelegramFormsRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, user_id: str) -> SavedForm | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(telegram_forms).where(telegram_forms.c.user_id == user_id)
                )
            ).first()
        if row is None:
            return None
        return SavedForm(
            row.user_id, row.command, int(row.step), row.expires_at, dict(row.answers or {})
        )

    async def save(self, form: SavedForm) -> None:
        """Write the member's form, replacing the one they had."""
        values = {
            "command": form.command,
            "answers": form.answers,
            "step": form.step,
            "expires_at": form.expires_at,
        }
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(telegram_forms)
                .where(telegram_forms.c.user_id == form.user_id)
                .values(**values)
            )
            if not res.rowcount:
                await insert_ignore(conn, telegram_forms, {"user_id": form.user_id, **values})

    async def delete(self, user_id: str) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(telegram_forms).where(telegram_forms.c.user_id == user_id)
            )
            return bool(res.rowcount)

    async def delete_expired(self, now: datetime) -> int:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(telegram_forms).where(telegram_forms.c.expires_at <= now)
            )
            return int(res.rowcount or 0)
