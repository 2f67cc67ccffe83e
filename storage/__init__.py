"""Persistence: engine, schema, migrations and one repository per domain. Knows nothing of chat."""
