"""suggestions: the categories a community declares

Revision ID: 0005_categories
Revises: 0004_rate_limits
Create Date: 2026-12-04
"""

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005_categories"
down_revision: str | Sequence[str] | None = "0004_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(name: str) -> str:
    # The rule of cogs/suggestions/categories.py as it was when this migration was written.
    shown = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )
    return " ".join(unicodedata.normalize("NFKC", " ".join(shown.split())).casefold().split())


def upgrade() -> None:
    table = op.create_table(
        "suggestion_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("name_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_suggestion_categories_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_categories")),
        sa.UniqueConstraint("community_id", "name_key", name="uq_suggestion_categories_name"),
    )
    # Categories typed freely before they were declared become declared ones, one per name
    # (case and width folded); their suggestions and drafts take the name kept.
    bind = op.get_bind()
    now = datetime.now(UTC)
    kept: dict[tuple[int, str], str] = {}
    renames: list[tuple[str, int, str, str]] = []
    for tname in ("suggestions", "suggestion_drafts"):
        rows = bind.execute(
            sa.text(
                f"SELECT DISTINCT community_id, category FROM {tname} "
                "WHERE category IS NOT NULL ORDER BY community_id, category"
            )
        ).all()
        for community_id, category in rows:
            key = _key(category)
            if not key:
                renames.append((tname, community_id, category, ""))
                continue
            name = kept.setdefault((community_id, key), category)
            if name != category:
                renames.append((tname, community_id, category, name))
    if kept:
        op.bulk_insert(
            table,
            [
                {"community_id": cid, "name": name, "name_key": key[:80], "created_at": now}
                for (cid, key), name in sorted(kept.items())
            ],
        )
    for tname, community_id, old, new in renames:
        bind.execute(
            sa.text(
                f"UPDATE {tname} SET category = :new WHERE community_id = :cid AND category = :old"
            ),
            {"new": new or None, "cid": community_id, "old": old},
        )


def downgrade() -> None:
    op.drop_table("suggestion_categories")
