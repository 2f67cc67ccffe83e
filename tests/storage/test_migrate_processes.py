"""Start and upgrade, with real processes: several fanloop processes started together on one
empty database all come up and apply each revision once; a migration SIGKILLed inside the lock
leaves nothing behind; a database migrated by newer code, or (with `auto_migrate` off) not
migrated yet, stops a process with one localized line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlalchemy import inspect, text

from devtools.cluster import private_database
from storage.engine import create_engine
from storage.migrate import _script, schema_state, upgrade
from storage.schema import metadata
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("cli_child.py")
KILLED = Path(__file__).with_name("migrate_kill_child.py")
RAN = re.compile(r"Running upgrade .*?-> (\S+),")
START = "2026-11-20T09:00:00+00:00"


@pytest_asyncio.fixture
async def db_url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file not created yet, or a fresh PostgreSQL schema."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared' / 'fanloop.db'}"
        return
    async with private_database(PG_URL, prefix="t_role") as url:
        yield url


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FANLOOP_DATA_DIR": str(tmp_path / "data")}
    for var in ("FANLOOP_DATABASE_URL", "FANLOOP_AUTO_MIGRATE", "LC_ALL", "LC_MESSAGES"):
        env.pop(var, None)
    env["LANG"] = "C.UTF-8"
    env.update(extra)
    return env


def fanloop(
    tmp_path: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        timeout=120,
    )


def run_together(
    commands: list[list[str]], scripts: list[str], env: dict[str, str], cwd: Path
) -> tuple[list[int], list[tuple[str, str]]]:
    """Start `fanloop COMMAND` processes, wait until each has imported everything, release them
    at the same moment; their exit statuses and (stdout, stderr)."""
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        for args in commands
    ]
    try:
        for child in children:  # every one has imported everything and waits
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
        for child in children:  # then all are released at once
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [
            child.communicate(script, timeout=180)
            for child, script in zip(children, scripts, strict=True)
        ]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return [child.returncode for child in children], results


def all_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


async def _schema_matches_the_code(url: str) -> None:
    engine = create_engine(url)
    try:
        state = await schema_state(engine)
        assert state.unknown == () and state.pending == ()

        def tables(sync_conn: object) -> dict[str, set[str]]:
            insp = inspect(sync_conn)
            return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}

        async with engine.connect() as conn:
            found = await conn.run_sync(tables)
    finally:
        await engine.dispose()
    expected = {name: {c.name for c in t.columns} for name, t in metadata.tables.items()}
    assert found.pop("alembic_version") == {"version_num"}
    assert found == expected


async def test_processes_started_together_apply_each_revision_once(
    db_url: str, tmp_path: Path
) -> None:
    """Four processes on one empty database, released at the same moment: two `fanloop
    migrate` (the deploy step) and two `fanloop console` (a bot starting with auto_migrate).
    All come up, the console ones post a suggestion, and every revision ran exactly once."""
    titles = ["Dark mode for the app", "Offline maps on the watch"]
    commands = [
        ["migrate", "--db", db_url],
        ["migrate", "--db", db_url],
        *(
            ["console", "--db", db_url, "--json", "--verbose", "--clock", "fake", "--start", START]
            for _ in titles
        ),
    ]
    scripts = [
        "",
        "",
        *(f'/as fan{i} fan\n/suggest "{t}" "please"\n' for i, t in enumerate(titles)),
    ]
    codes, results = run_together(commands, scripts, _env(tmp_path), tmp_path)
    for code, (_, err) in zip(codes, results, strict=True):
        assert code == 0, err
    ran = Counter(rev for _, err in results for rev in RAN.findall(err))
    assert ran == Counter(all_revisions())  # each revision once, over all four processes
    for (out, _), title in zip(results[2:], titles, strict=True):
        assert f"{title}" in out  # the console came up and its suggestion was posted
    migrated = [out for out, _ in results[:2]]
    assert all("database is up to date" in out for out in migrated), migrated
    await _schema_matches_the_code(db_url)


async def _migrated_by_newer_code(url: str) -> str:
    """Migrate `url`, then make it look migrated by a later release: one of its heads is
    replaced by a revision this code does not know. Returns that revision."""
    future = "9999_from_a_later_release"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE alembic_version SET version_num = :new "
                    "WHERE version_num = (SELECT max(version_num) FROM alembic_version)"
                ),
                {"new": future},
            )
    finally:
        await engine.dispose()
    return future


async def _stored_revisions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {str(r[0]) for r in rows}
    finally:
        await engine.dispose()


EN, ZH = "migrated by a newer fanloop", "数据库已由更新版本的 fanloop 迁移"


async def test_a_newer_schema_stops_every_command_with_one_line(
    db_url: str, tmp_path: Path
) -> None:
    future = await _migrated_by_newer_code(db_url)
    before = await _stored_revisions(db_url)
    zh = "zh_CN.UTF-8"
    runs = {
        "migrate": (fanloop(tmp_path, "migrate", "--db", db_url), EN),
        "migrate --check": (fanloop(tmp_path, "migrate", "--check", "--db", db_url, LANG=zh), ZH),
        "console": (fanloop(tmp_path, "console", "--db", db_url, stdin="/help\n", LANG=zh), ZH),
        # With a platform configured the refusal comes before any connection to it.
        "run": (
            fanloop(
                tmp_path,
                "run",
                FANLOOP_DATABASE_URL=db_url,
                FANLOOP_TELEGRAM_TOKEN="123:abc",
                FANLOOP_TELEGRAM_BASE_URL="http://127.0.0.1:9/bot",
            ),
            EN,
        ),
    }
    for name, (run, words) in runs.items():
        assert run.returncode == 3, (name, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("fanloop: "), (name, run.stderr)
        assert words in lines[0] and future in lines[0], (name, lines)
        assert run.stdout == "", (name, run.stdout)
    assert await _stored_revisions(db_url) == before  # nothing was changed


async def test_with_auto_migrate_off_a_process_waits_for_the_deploy_step(
    db_url: str, tmp_path: Path
) -> None:
    off = {"FANLOOP_AUTO_MIGRATE": "false"}
    console = ["console", "--db", db_url, "--json", "--clock", "fake", "--start", START]
    script = '/as ada fan\n/suggest "Dark mode for the app" "please"\n'

    refused = fanloop(tmp_path, *console, stdin=script, **off)
    assert refused.returncode == 3, refused.stderr
    assert "run `fanloop migrate` first" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    check = fanloop(tmp_path, "migrate", "--check", "--db", db_url)
    assert check.returncode == 3
    assert "run `fanloop migrate`" in check.stderr

    deploy = fanloop(tmp_path, "migrate", "--db", db_url)
    assert deploy.returncode == 0, deploy.stderr
    applied = re.search(r"applied (\d+) revisions \((.*)\)", deploy.stdout)
    assert applied is not None, deploy.stdout
    assert set(applied.group(2).split(", ")) == all_revisions()

    started = fanloop(tmp_path, *console, stdin=script, **off)
    assert started.returncode == 0, started.stderr
    assert "Dark mode for the app" in started.stdout
    again = fanloop(tmp_path, "migrate", "--check", "--db", db_url, LANG="zh_CN.UTF-8")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "fanloop: 数据库已是最新"
    await _schema_matches_the_code(db_url)


def migrate_while_another_is_killed(url: str, tmp_path: Path) -> tuple[int, str, str]:
    """A migration stops inside the lock (first revision applied, not committed); `fanloop
    migrate` starts meanwhile and says it waits; the first is SIGKILLed. The second's exit
    status, stdout, stderr."""
    env = _env(tmp_path)
    first = subprocess.Popen(
        [sys.executable, str(KILLED), url], stdout=subprocess.PIPE, text=True, env=env
    )
    second: subprocess.Popen[str] | None = None
    try:
        assert first.stdout is not None
        assert first.stdout.readline() == "inside\n"
        second = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "migrate", "--db", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert second.stderr is not None
        seen = []
        for line in second.stderr:  # until it waits for the lock
            seen.append(line)
            if "another process is migrating this database; waiting for it" in line:
                break
        assert second.poll() is None, "".join(seen)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        out, err = second.communicate(timeout=180)
        return second.returncode, out, "".join(seen) + err
    finally:
        for child in (first, second):
            if child is not None and child.poll() is None:
                child.kill()
                child.wait()
            for pipe in (child.stdout, child.stderr) if child is not None else ():
                if pipe is not None:
                    pipe.close()


async def test_a_migration_killed_inside_the_lock_leaves_nothing_behind(
    db_url: str, tmp_path: Path
) -> None:
    """What the killed process applied is rolled back, its lock is released by its death, and
    the waiting process applies every revision itself."""
    code, out, err = migrate_while_another_is_killed(db_url, tmp_path)
    assert code == 0, err
    applied = re.search(r"applied (\d+) revisions \((.*)\)", out)
    assert applied is not None, out
    assert set(applied.group(2).split(", ")) == all_revisions()  # 0001_core included
    assert Counter(RAN.findall(err)) == Counter(all_revisions())
    await _schema_matches_the_code(db_url)
