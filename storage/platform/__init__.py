"""Chat-platform records, the only part of storage that adapters use: which message is about
what, which platform events were already handled, Telegram homes and forms in progress."""
