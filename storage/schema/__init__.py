"""All tables, one module per domain, on one MetaData that the migrations follow."""

from storage.schema import core, drops, participation, suggestions, telegram, weekly  # noqa: F401  (register tables)
from storage.schema.base import metadata

__all__ = ["metadata"]
