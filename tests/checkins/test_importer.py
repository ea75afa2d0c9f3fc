"""`club-renewal import-checkins`: idempotent file imports, chunk commits, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from app.checkins import repository
from app.checkins.importer import import_file
from app.checkins.parsing import Format
from app.cli import cli
from app.config import get_settings
from app.db import Database
from app.errors import NotFound, RuleViolation
from app.models import Club, Member
from tests.checkins.helpers import checkin_events, count_checkins
from tests.fixtures.ledger import make_member

ROOT = Path(__file__).resolve().parents[2]


async def _club(db: Database) -> uuid.UUID:
    async with db.session_scope() as s:
        club = Club(
            name="Import Club",
            timezone="Europe/Moscow",
            currency="RUB",
            opening_hours={},
            quiet_hours_start=time(9),
            quiet_hours_end=time(21),
            contact_policy={},
            meeting_settings={},
        )
        s.add(club)
        await s.flush()
        return club.id


@pytest_asyncio.fixture
async def setup(isolated_db: Database) -> dict[str, Any]:
    club_id = await _club(isolated_db)
    members = [await make_member(isolated_db, club_id) for _ in range(3)]
    return {"db": isolated_db, "club_id": club_id, "members": members}


def export_csv(members: list[Member], rows: int = 6, bad: bool = False) -> str:
    """An access-control export: card numbers, local times, some device ids, no club."""
    lines = ["card_number,checked_in_at,device_id,device_event_id"]
    for i in range(rows):
        card = members[i % len(members)].card_number
        at = f"2026-03-{1 + i // 24:02d}T{i % 24:02d}:15:00+03:00"
        device = f"gate-1,{1000 + i}" if i % 2 else ","  # every other row has no ids
        lines.append(f"{card},{at},{device}")
    if bad:
        lines.append("NO-SUCH-CARD,2026-03-05T10:00:00+03:00,,")
        lines.append(f"{members[0].card_number},2026-03-05T10:00:00,,")  # naive
    return "\n".join(lines) + "\n"


class TestImport:
    async def test_a_second_import_of_the_same_file_adds_nothing(
        self, setup: dict[str, Any], tmp_path: Path
    ) -> None:
        path = tmp_path / "export.csv"
        path.write_text(export_csv(setup["members"]))
        db, club_id = setup["db"], setup["club_id"]
        first = await import_file(db, path, club_id=club_id, fmt=Format.CSV, chunk_rows=100)
        again = await import_file(db, path, club_id=club_id, fmt=Format.CSV, chunk_rows=100)
        assert (first.accepted, first.duplicates, first.rejected_count) == (6, 0, 0)
        assert (again.accepted, again.duplicates, again.rejected_count) == (0, 6, 0)
        assert await count_checkins(db) == 6
        assert await count_checkins(db, device_id="import") == 3

    async def test_ndjson_exports_import_the_same_way(
        self, setup: dict[str, Any], tmp_path: Path
    ) -> None:
        m = setup["members"][0]
        path = tmp_path / "export.ndjson"
        rows = [
            {"member_id": str(m.id), "checked_in_at": "2026-03-01T07:00:00Z", "source": "app"},
            {"card_number": m.card_number, "checked_in_at": "2026-03-02T07:00:00Z"},
        ]
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        db, club_id = setup["db"], setup["club_id"]
        report = await import_file(db, path, club_id=club_id, fmt=Format.NDJSON, chunk_rows=100)
        again = await import_file(db, path, club_id=club_id, fmt=Format.NDJSON, chunk_rows=100)
        assert (report.accepted, again.duplicates) == (2, 2)
        assert await count_checkins(db, source="app") == 1
        assert await count_checkins(db, source="turnstile") == 1  # the default source

    async def test_chunks_are_committed_as_they_go_and_a_rerun_finishes_the_job(
        self, setup: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "export.csv"
        path.write_text(export_csv(setup["members"], rows=500))
        db, club_id = setup["db"], setup["club_id"]
        real = repository.ingest_chunk
        calls = 0

        async def failing(*args: Any, **kwargs: Any) -> dict[int, str]:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise ConnectionError("database went away")
            return await real(*args, **kwargs)

        monkeypatch.setattr(repository, "ingest_chunk", failing)
        with pytest.raises(ConnectionError):
            await import_file(db, path, club_id=club_id, fmt=Format.CSV, chunk_rows=100)
        assert await count_checkins(db) == 200  # two chunks committed
        assert len(await checkin_events(db)) == 2  # one summary per committed chunk
        monkeypatch.setattr(repository, "ingest_chunk", real)
        report = await import_file(db, path, club_id=club_id, fmt=Format.CSV, chunk_rows=100)
        assert (report.accepted, report.duplicates) == (300, 200)
        assert await count_checkins(db) == 500

    async def test_an_unknown_club_imports_nothing(
        self, setup: dict[str, Any], tmp_path: Path
    ) -> None:
        path = tmp_path / "export.csv"
        path.write_text(export_csv(setup["members"]))
        with pytest.raises(NotFound) as e:
            await import_file(
                setup["db"], path, club_id=uuid.uuid4(), fmt=Format.CSV, chunk_rows=100
            )
        assert e.value.code == "club_not_found"
        assert await count_checkins(setup["db"]) == 0

    async def test_rows_of_another_club_are_rejected(
        self, setup: dict[str, Any], tmp_path: Path
    ) -> None:
        m = setup["members"][0]
        path = tmp_path / "export.csv"
        path.write_text(
            "club_id,member_id,checked_in_at\n"
            f"{uuid.uuid4()},{m.id},2026-03-01T07:00:00Z\n"
            f"{setup['club_id']},{m.id},2026-03-01T07:00:00Z\n"
        )
        report = await import_file(
            setup["db"], path, club_id=setup["club_id"], fmt=Format.CSV, chunk_rows=100
        )
        assert report.accepted == 1
        assert [r.code for r in report.rejected] == ["member_not_found"]

    async def test_a_bad_header_imports_nothing(
        self, setup: dict[str, Any], tmp_path: Path
    ) -> None:
        path = tmp_path / "export.csv"
        path.write_text("card_number\nC1\n")
        with pytest.raises(RuleViolation) as e:
            await import_file(
                setup["db"], path, club_id=setup["club_id"], fmt=Format.CSV, chunk_rows=100
            )
        assert e.value.code == "missing_columns"


@pytest.fixture
def env_db(setup: dict[str, Any]) -> Iterator[dict[str, str]]:
    url = setup["db"].engine.url.render_as_string(hide_password=False)
    get_settings.cache_clear()
    yield {"CLUB_RENEWAL_DATABASE_URL": url, "CLUB_RENEWAL_LOG_LEVEL": "WARNING"}
    get_settings.cache_clear()


class TestCommand:
    def test_exit_codes_and_summary(
        self, setup: dict[str, Any], env_db: dict[str, str], tmp_path: Path
    ) -> None:
        runner = CliRunner()
        club = str(setup["club_id"])
        clean = tmp_path / "clean.csv"
        clean.write_text(export_csv(setup["members"]))
        dirty = tmp_path / "dirty.csv"
        dirty.write_text(export_csv(setup["members"], bad=True))

        def run(*args: str) -> Any:
            get_settings.cache_clear()
            return runner.invoke(cli, ["import-checkins", *args], env=env_db)

        ok = run(str(clean), "--club", club)
        assert ok.exit_code == 0, ok.output
        assert "6 rows read: 6 imported, 0 already present, 0 rejected" in ok.stdout
        again = run(str(clean), "--club", club)
        assert again.exit_code == 0
        assert "0 imported, 6 already present" in again.stdout
        partial = run(str(dirty), "--club", club, "--format", "csv")
        assert partial.exit_code == 1
        assert "2 rejected" in partial.stdout
        assert "line 8: member_not_found" in partial.stdout
        assert "line 9: naive_instant" in partial.stdout

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--club", "not-a-uuid"], "--club must be a club id"),
            (["--club", str(uuid.UUID(int=7))], "club_not_found"),
            (["--club", "{club}", "--format", "xml"], "--format csv or --format ndjson"),
        ],
    )
    def test_usage_errors_exit_2_and_import_nothing(
        self,
        setup: dict[str, Any],
        env_db: dict[str, str],
        tmp_path: Path,
        args: list[str],
        message: str,
    ) -> None:
        path = tmp_path / "export.csv"
        path.write_text(export_csv(setup["members"]))
        args = [a.replace("{club}", str(setup["club_id"])) for a in args]
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, ["import-checkins", str(path), *args], env=env_db)
        assert result.exit_code == 2
        assert message in result.output

    def test_a_missing_file_exits_2(self, setup: dict[str, Any], env_db: dict[str, str]) -> None:
        result = CliRunner().invoke(
            cli, ["import-checkins", "/no/such.csv", "--club", str(setup["club_id"])], env=env_db
        )
        assert result.exit_code == 2

    def test_the_installed_command_runs(
        self, setup: dict[str, Any], env_db: dict[str, str], tmp_path: Path
    ) -> None:
        path = tmp_path / "export.ndjson"
        m = setup["members"][0]
        path.write_text(
            json.dumps({"member_id": str(m.id), "checked_in_at": "2026-03-01T07:00:00Z"})
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "import-checkins",
                str(path),
                "--club",
                str(setup["club_id"]),
            ],
            cwd=ROOT,
            env={**os.environ, **env_db},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "1 imported" in done.stdout
