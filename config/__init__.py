"""Process-wide configuration: the settings schema and an example TOML file."""

from config.settings import ConfigError, FanloopSettings, load_settings

__all__ = ["ConfigError", "FanloopSettings", "load_settings"]
