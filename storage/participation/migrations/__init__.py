"""Alembic revisions of this domain's branch."""
