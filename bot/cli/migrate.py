"""`fanloop migrate`: bring the database schema up to date, the deploy step of a deployment
with several processes (which then start with `auto_migrate = false`)."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli.messages import SCHEMA_MISMATCH, say, schema_refusal
from bot.cli.run import _settings
from storage.engine import create_engine, default_sqlite_url
from storage.migrate import SchemaError, SchemaNewer, SchemaState, schema_state, upgrade


def migrate(args: argparse.Namespace) -> int:
    overrides = {"database_url": args.db} if args.db else {}
    settings = _settings(args, **overrides)
    url = settings.database_url or default_sqlite_url(settings.data_dir)
    locale = settings.default_locale

    async def go() -> tuple[str, ...] | SchemaState:
        engine = create_engine(url)
        try:
            return await (schema_state(engine) if args.check else upgrade(engine))
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(go())
    except SchemaError as exc:
        return schema_refusal(exc, locale)
    if isinstance(result, SchemaState):  # --check
        if result.unknown:
            return schema_refusal(SchemaNewer(result.unknown), locale)
        if result.pending:
            revisions = ", ".join(result.pending)
            say(
                "cli.migrate.pending",
                locale,
                error=True,
                count=len(result.pending),
                revisions=revisions,
            )
            return SCHEMA_MISMATCH
        result = ()
    if result:
        say("cli.migrate.applied", locale, count=len(result), revisions=", ".join(result))
    else:
        say("cli.migrate.current", locale)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = sub.add_parser(
        "migrate",
        help="apply database migrations (the deploy step when auto_migrate is off)",
    )
    m.add_argument("--db", help="database URL (default: the configured one)")
    m.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 3 unless the schema is exactly this version's",
    )
    m.set_defaults(func=migrate)
