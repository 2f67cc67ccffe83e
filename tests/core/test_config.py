"""Process configuration: TOML file plus FANLOOP_* environment, bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings, unknown_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "fanloop.example.toml"


def test_example_file_is_valid_and_documents_every_key() -> None:
    from config.settings import FanloopSettings

    settings = load_settings(EXAMPLE)
    assert settings.default_timezone == "UTC"
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in FanloopSettings.model_fields:
        assert f"{key} =" in text or f"# {key} =" in text, f"{key} is not documented in the example"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "fanloop.toml"
    cfg.write_text('default_timezone = "Asia/Shanghai"\ndata_dir = "/tmp/x"\n', encoding="utf-8")
    monkeypatch.setenv("FANLOOP_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("FANLOOP_DATABASE_URL", "postgresql://u@h/db")
    settings = load_settings(cfg)
    assert settings.default_timezone == "Asia/Shanghai"
    assert settings.data_dir == tmp_path / "d"
    assert settings.database_url == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('default_timezone = "Mars/Olympus"', "default_timezone"),
        ('database_url = "mysql://x"', "database_url"),
        ("telegram_webhook_port = 70000", "telegram_webhook_port"),
        ('log_level = "LOUD"', "log_level"),
    ],
)
def test_bad_value_names_the_key(tmp_path: Path, body: str, key: str) -> None:
    cfg = tmp_path / "fanloop.toml"
    cfg.write_text(body + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert key in str(err.value)


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    cfg = tmp_path / "fanloop.toml"
    cfg.write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_platforms_follow_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANLOOP_TELEGRAM_TOKEN", "123:abc")
    assert load_settings().platforms == ["telegram"]


def test_unknown_keys_are_warned_about_in_the_file_and_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "fanloop.toml"
    cfg.write_text('log_levle = "DEBUG"\nno_such_key = 1\nlog_level = "INFO"\n', "utf-8")
    assert load_settings(cfg).log_level == "INFO"  # read, the unknown keys left out
    env = {
        "FANLOOP_DATABSE_URL": "sqlite:///x.db",
        "FANLOOP_WHATEVER": "1",
        "FANLOOP_CONFIG": str(cfg),
        "FANLOOP_TEST_POSTGRES": "postgresql://x",
        "FANLOOP_LOG_LEVEL": "INFO",
        "HOME": "/root",
    }
    assert unknown_settings(cfg, env) == [
        f"{cfg}: unknown setting 'log_levle' is ignored (did you mean log_level?)",
        f"{cfg}: unknown setting 'no_such_key' is ignored",
        "unknown environment variable FANLOOP_DATABSE_URL is ignored "
        "(did you mean FANLOOP_DATABASE_URL?)",
        "unknown environment variable FANLOOP_WHATEVER is ignored",
    ]
