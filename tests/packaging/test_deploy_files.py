"""The container image and the compose file speak fanloop's language: every FANLOOP_* variable
they (and docs/deploy.md) name is a setting or one of the compose file's own, the commands
they run exist, and the health check asks GET /healthz on the port the image serves it on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from config.settings import FanloopSettings

ROOT = Path(__file__).resolve().parents[2]
#: Variables fanloop does not read: the compose file's own (for its interpolation) and the
#: image's build argument.
NOT_SETTINGS = {
    "FANLOOP_TELEGRAM_WORKERS",
    "FANLOOP_PROXY_PORT",
    "FANLOOP_PROMETHEUS_PORT",
    "FANLOOP_EXTRAS",
}
SETTINGS = {f"FANLOOP_{name.upper()}" for name in FanloopSettings.model_fields}
FILES = ["Dockerfile", "compose.yaml", "deploy/env.example", "docs/deploy.md"]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))


@pytest.mark.parametrize("name", FILES)
def test_every_variable_named_is_a_setting(name: str) -> None:
    text = (ROOT / name).read_text("utf-8")
    named = set(re.findall(r"\bFANLOOP_[A-Z_]*[A-Z]\b", text))
    unknown = named - SETTINGS - NOT_SETTINGS
    assert not unknown, f"{name} names variables fanloop does not read: {sorted(unknown)}"


def test_the_services_run_fanloop_commands_that_exist() -> None:
    services = compose()["services"]
    assert {"db", "migrate", "telegram", "proxy"} <= services.keys()
    parser = build_parser()
    for name in ("migrate", "telegram", "discord"):
        command = services[name]["command"]
        assert command[0] == "fanloop"
        args = parser.parse_args(command[1:])
        assert args.command == command[1]
    assert services["migrate"]["command"] == ["fanloop", "migrate"]
    after = services["telegram"]["depends_on"]["migrate"]["condition"]
    assert after == "service_completed_successfully"


def test_the_proxy_and_the_health_check_reach_the_ports_the_processes_serve() -> None:
    services = compose()["services"]
    worker = services["telegram"]["environment"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text("utf-8")
    assert f"server telegram:{worker['FANLOOP_TELEGRAM_WEBHOOK_PORT']} " in nginx
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert "FANLOOP_METRICS_PORT=9464" in dockerfile
    assert worker.get("FANLOOP_METRICS_PORT", "9464") == "9464"
    prometheus = (ROOT / "deploy" / "prometheus.yml").read_text("utf-8")
    assert "port: 9464" in prometheus
    assert re.search(r"^USER fanloop$", dockerfile, re.MULTILINE)  # not root
