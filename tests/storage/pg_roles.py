"""A PostgreSQL login role whose own schema is its search path, for subprocesses that take only
a database URL (`fanloop migrate --db URL`): they then work in a fresh, empty schema of the shared
test database. Both are dropped afterwards; nothing shared is touched."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.engine import create_engine


@asynccontextmanager
async def role_with_schema(admin_url: str) -> AsyncIterator[str]:
    """Yield the URL of a new role whose search path is its own new, empty schema."""
    name = f"t_role_{secrets.token_hex(6)}"
    password = secrets.token_hex(12)
    admin = create_engine(admin_url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
            await conn.execute(text(f"CREATE SCHEMA {name} AUTHORIZATION {name}"))
            await conn.execute(text(f"ALTER ROLE {name} SET search_path = {name}"))
        url = make_url(admin_url).set(username=name, password=password)
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            async with admin.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
                await conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
    finally:
        await admin.dispose()
