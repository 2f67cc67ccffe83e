"""The participation ledger (`ledger`) and tiers (`tiers`)."""
