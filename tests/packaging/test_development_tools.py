"""The installed packages hold no development tool: those live in `devtools/`, a distribution of
their own, and reach `fanloop` only through the `fanloop.commands` entry points."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from bot.cli import DEVELOPMENT_COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "cogs", "storage", "config")
#: Module names that mean a development tool (benchmarks, local servers, evaluation).
TOOL_NAMES = {"bench", "testing", "scratch", "evaluate", "synthetic", "dedup_eval"}


def product_modules() -> list[Path]:
    return sorted(p for package in PRODUCT for p in (ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_wheel_packages_are_the_product_ones() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(include) == sorted(f"{package}*" for package in PRODUCT)


def test_no_development_tool_in_the_product() -> None:
    modules = product_modules()
    assert len(modules) > 100
    tools = [p.relative_to(ROOT) for p in modules if p.stem in TOOL_NAMES or "bench" in p.stem]
    assert tools == []
    assert not (ROOT / "bot" / "testing").exists()


def test_the_product_never_imports_devtools() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.split(".")[0] == "devtools")
        for p in product_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_development_commands_come_from_the_entry_points() -> None:
    """With devtools installed (a development install), `bench` and `dedup-eval` are its own."""
    parser = build_parser()
    for name in DEVELOPMENT_COMMANDS:
        args = parser.parse_args([name, *_example(name)])
        assert args.func.__module__.startswith("devtools."), name


def _example(name: str) -> list[str]:
    return {"bench": ["votes"], "dedup-eval": ["--corpus", "c", "--queries", "q"]}[name]


@pytest.mark.parametrize("name", sorted(DEVELOPMENT_COMMANDS))
def test_without_devtools_the_commands_say_where_they_are(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.cli

    monkeypatch.setattr(bot.cli, "entry_points", lambda group: [])
    assert bot.cli.main([name, "anything", "--flag"]) == 2
    assert "development install" in capsys.readouterr().err
