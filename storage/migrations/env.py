"""Alembic environment. fanloop runs it in-process (`storage.migrate`) on a live connection."""

from __future__ import annotations

from alembic import context

from storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - fanloop always passes its connection
    raise RuntimeError("run migrations through `fanloop migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
