"""Platform-independent core: commands, context, replies, actions, i18n, errors, clock."""
