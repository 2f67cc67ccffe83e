"""`fanloop backup`: a SQLite copy taken while another process writes is whole and consistent and
opens as a fanloop database; PostgreSQL gets the pg_dump command (no password shown), and with
`--pg-dump` a dump that restores."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from bot.cli import main
from storage.backup import BackupError, backup_sqlite, pg_dump_command
from storage.core.schema import communities
from storage.engine import create_engine
from storage.migrate import schema_state, upgrade
from tests.conftest import PG_URL, pg_available
from tests.storage.backup_writer import BATCH

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("backup_writer.py")


async def _migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


def _backup_while_writing(db: Path, url: str, dest: Path, tmp_path: Path) -> tuple[int, str]:
    """Start the writer, back up once it has committed, stop it; (its last batch, our output)."""
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(db), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "1"  # it is writing
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FANLOOP_DATA_DIR": str(tmp_path / "d")}
        env.pop("FANLOOP_DATABASE_URL", None)
        made = subprocess.run(
            [sys.executable, "-m", "bot.cli", "backup", "--db", url, "--to", str(dest)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert writer.poll() is None  # the writer was still writing when the backup ended
        stop.touch()
        rest, _ = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == 0
    assert made.returncode == 0, made.stderr
    return int(rest.split()[-1]), made.stdout


def _read_copy(dest: Path) -> tuple[list[str], str, str, bool]:
    """The event ids in a backup, its journal mode, its integrity check, whether a -wal file
    is beside it."""
    copy = sqlite3.connect(dest)
    try:
        ids = [r[0] for r in copy.execute("SELECT event_id FROM processed_events")]
        mode = copy.execute("PRAGMA journal_mode").fetchone()[0]
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
    return ids, mode, check, Path(f"{dest}-wal").exists()


async def test_sqlite_backup_while_another_process_writes_is_consistent(tmp_path: Path) -> None:
    db = tmp_path / "live" / "fanloop.db"
    url = await _migrated_sqlite(db)
    dest = tmp_path / "backups" / "copy.db"
    last, said = _backup_while_writing(db, url, dest, tmp_path)
    assert said.strip() == f"fanloop: backup written to {dest} ({dest.stat().st_size} bytes, " + (
        "integrity check passed)"
    )
    ids, mode, check, wal = _read_copy(dest)
    per_batch = Counter(int(i.split("-")[0]) for i in ids)
    # Whole transactions only, and a prefix of them: the database as of one commit.
    assert per_batch and set(per_batch.values()) == {BATCH}
    assert sorted(per_batch) == list(range(1, len(per_batch) + 1))
    assert len(per_batch) <= last
    assert (mode, check, wal) == ("delete", "ok", False)  # one self-contained file
    # It opens as a fanloop database of this version.
    engine = create_engine(f"sqlite:///{dest}")
    try:
        state = await schema_state(engine)
    finally:
        await engine.dispose()
    assert state.unknown == () and state.pending == ()


async def test_sqlite_backup_never_overwrites_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FANLOOP_DATABASE_URL", raising=False)
    monkeypatch.setenv("FANLOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LANG", "C.UTF-8")
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    url = await _migrated_sqlite(tmp_path / "fanloop.db")
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"keep me")
    assert main(["backup", "--db", url, "--to", str(taken)]) == 2
    assert taken.read_bytes() == b"keep me"
    assert f"{taken} exists already" in capsys.readouterr().err
    missing = f"sqlite:///{tmp_path / 'nowhere.db'}"
    assert main(["backup", "--db", missing, "--to", str(tmp_path / "x.db")]) == 1
    assert "backup failed" in capsys.readouterr().err
    assert not (tmp_path / "nowhere.db").exists()  # no empty database made on the way
    assert not (tmp_path / "x.db").exists()
    with pytest.raises(BackupError):
        backup_sqlite(tmp_path / "fanloop.db", taken)
    # The default file: under data_dir/backups, named for the time.
    assert main(["backup", "--db", url]) == 0
    (made,) = (tmp_path / "data" / "backups").iterdir()
    assert made.name.startswith(f"fanloop-{datetime.now(UTC):%Y%m%d}") and made.suffix == ".db"
    assert str(made) in capsys.readouterr().out


def test_pg_dump_command_keeps_the_password_off_the_command_line(tmp_path: Path) -> None:
    dump = pg_dump_command(
        "postgresql+asyncpg://bot:s%40cret@db.example:5433/fan?ssl=require", tmp_path / "f.dump"
    )
    assert "s@cret" not in " ".join(dump.argv + dump.restore)
    assert dump.env == {"PGPASSWORD": "s@cret"}
    assert f"--file={tmp_path / 'f.dump'}" in dump.argv
    assert "--dbname=postgresql://bot@db.example:5433/fan?sslmode=require" in dump.argv
    assert dump.restore[0] == "pg_restore"


def test_postgresql_backup_prints_the_pg_dump_guidance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.chdir(tmp_path)
    url = "postgresql://bot:hunter2@127.0.0.1:9/fan"
    assert main(["backup", "--db", url, "--to", "fan.dump"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "pg_dump --format=custom --no-owner --file=fan.dump" in out
    assert "pg_restore" in out and "PGPASSWORD" in out
    assert "PostgreSQL 用 pg_dump 备份" in out
    assert not (tmp_path / "fan.dump").exists()  # nothing ran


@pytest.fixture
def pg_tools() -> None:
    if not pg_available():
        pytest.skip("PostgreSQL does not answer")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("the PostgreSQL client tools are not installed")


@pytest_asyncio.fixture
async def pg_databases(pg_tools: None) -> AsyncIterator[tuple[str, str]]:
    """Two new, empty PostgreSQL databases on the test server (dropped afterwards): one to back
    up, one to restore into."""
    names = [f"t_backup_{secrets.token_hex(6)}" for _ in range(2)]
    admin = create_engine(PG_URL)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in names:
                await conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
        source, target = (
            make_url(PG_URL).set(database=n).render_as_string(hide_password=False) for n in names
        )
        yield source, target
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in names:
                await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()


def _restore(url: str, dump: Path) -> None:
    command = pg_dump_command(url, dump)
    subprocess.run(command.restore, env={**os.environ, **command.env}, check=True, timeout=120)


async def test_pg_dump_backup_restores_into_an_empty_database(
    pg_databases: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = pg_databases
    engine = create_engine(source)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(
                insert(communities).values(id=7, name="MIUI 社区", created_at=datetime.now(UTC))
            )
    finally:
        await engine.dispose()
    dest = tmp_path / "dumps" / "fan.dump"
    assert main(["backup", "--db", source, "--pg-dump", "--to", str(dest)]) == 0
    out = capsys.readouterr().out
    assert str(dest) in out and "pg_restore" in out
    _restore(target, dest)
    engine = create_engine(target)
    try:
        state = await schema_state(engine)
        async with engine.connect() as conn:
            names = (await conn.execute(select(communities.c.name))).scalars().all()
    finally:
        await engine.dispose()
    assert state.unknown == () and state.pending == ()
    assert names == ["MIUI 社区"]
