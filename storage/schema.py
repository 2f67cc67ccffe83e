"""Every table, on one MetaData that the migrations follow: each domain package's `schema`
module registers its own tables when imported."""

import storage.core.schema
import storage.drops.schema
import storage.moderation.schema
import storage.participation.schema
import storage.platform.schema
import storage.platform.thread_schema
import storage.suggestions.discussion_schema
import storage.suggestions.schema
import storage.weekly.schema  # noqa: F401  (each import registers its tables)
from storage.base import metadata

__all__ = ["metadata"]
