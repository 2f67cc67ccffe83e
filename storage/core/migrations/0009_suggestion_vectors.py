"""suggestions: sentence embeddings stored with the suggestion, per model

Revision ID: 0009_suggestion_vectors
Revises: 0008_corrections
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_suggestion_vectors"
down_revision: str | Sequence[str] | None = "0008_corrections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suggestion_vectors",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("text_hash", sa.String(length=16), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["suggestion_id"], ["suggestions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("suggestion_id", "model"),
    )


def downgrade() -> None:
    op.drop_table("suggestion_vectors")
