"""Suggestions: posts and statuses (`posts`), votes (`votes`), merges (`merges`)."""
