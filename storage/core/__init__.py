"""Core records every feature builds on: accounts and identities, communities and spaces,
settings, the outbox, one-time codes, scheduled-job runs and the scheduler lease."""
