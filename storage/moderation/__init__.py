"""Moderation: muted members, the word filter, and the review queue (held posts, reports)."""
