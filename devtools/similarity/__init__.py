"""Measuring duplicate search: synthetic boards (`synthetic`), retrieval metrics (`evaluate`)
and the `fanloop dedup-eval` command (`dedup_eval`)."""
