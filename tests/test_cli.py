"""The club-renewal command, run as a real process on a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "app.cli"]


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "CLUB_RENEWAL_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "CLUB_RENEWAL_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def test_token_create_after_migrate_prints_token_last(dbfile: Path) -> None:
    assert run("migrate", db=dbfile).returncode == 0
    r = run("token", "create", "--role", "admin", "--name", "Ada", db=dbfile)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("crk_")
    listed = run("token", "list", db=dbfile)
    assert "Ada" in listed.stdout
    assert token not in listed.stdout
    token_id = listed.stdout.split("\t", 1)[0]
    assert run("token", "revoke", token_id, db=dbfile).returncode == 0
    assert "revoked" in run("token", "list", db=dbfile).stdout


def test_token_create_refuses_unmigrated_database(dbfile: Path) -> None:
    r = run("token", "create", "--role", "admin", "--name", "Ada", db=dbfile)
    assert r.returncode == 1
    assert "club-renewal migrate" in r.stderr


def test_unknown_role_is_a_usage_error(dbfile: Path) -> None:
    run("migrate", db=dbfile)
    r = run("token", "create", "--role", "wizard", "--name", "X", db=dbfile)
    assert r.returncode == 2
    assert "unknown role" in r.stderr


@pytest.mark.parametrize(
    "args",
    [(), ("serve",), ("worker",), ("migrate",), ("demo-data",), ("token",), ("token", "create")],
)
def test_every_command_has_help(args: tuple[str, ...], dbfile: Path) -> None:
    r = run(*args, "--help", db=dbfile)
    assert r.returncode == 0
    assert "Usage" in r.stdout
