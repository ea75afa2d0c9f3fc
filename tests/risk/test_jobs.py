"""The lapse_scan job: once per club-local day from the early hour (DST-correct),
catching up a missed day, idempotent; and the `club-renewal scan` command."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.db import Database, create_engine, make_sessionmaker
from app.migrate import upgrade
from app.models import Club, RiskAssessment
from app.risk.jobs import SCAN_LOCAL_HOUR
from app.risk.service import risk_service
from tests.fixtures.factories import bearer, make_club
from tests.risk.conftest import AS_OF, TODAY, Cast, every


async def _due(db: Database, as_of: datetime) -> dict[uuid.UUID, date]:
    async with db.sessionmaker() as s:
        clubs = await risk_service.clubs_to_scan(s, as_of, local_hour=SCAN_LOCAL_HOUR)
    return {c.club_id: c.scan_date for c in clubs}


class TestSchedule:
    async def test_the_job_is_in_the_table(self, client: AsyncClient, admin_token: str) -> None:
        r = await client.get("/api/v1/jobs", headers=bearer(admin_token))
        job = next(j for j in r.json() if j["name"] == "lapse_scan")
        assert job["schedule"].startswith("interval")
        assert "05:00" in job["description"]

    async def test_a_club_is_due_from_its_local_hour(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        # Europe/Moscow is UTC+3: 05:00 local is 02:00 UTC.
        before = datetime(2026, 3, 10, 1, 59, tzinfo=UTC)
        after = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
        assert (await _due(db, before))[club_id] == date(2026, 3, 9)  # catch up yesterday
        assert (await _due(db, after))[club_id] == date(2026, 3, 10)

    async def test_the_local_hour_follows_daylight_saving_time(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        club = await make_club(client, admin_token, name="Berlin", timezone="Europe/Berlin")
        cid = uuid.UUID(club["id"])
        # 2026-03-29 springs forward: 05:00 is 03:00 UTC that day, 04:00 UTC the day before.
        assert (await _due(db, datetime(2026, 3, 28, 3, 30, tzinfo=UTC)))[cid] == date(2026, 3, 27)
        assert (await _due(db, datetime(2026, 3, 29, 3, 30, tzinfo=UTC)))[cid] == date(2026, 3, 29)

    async def test_a_scanned_day_is_not_due_again(self, cast: Cast, db: Database) -> None:
        await cast.member(every(2, since=180, until=9))
        await cast.scan()
        assert cast.club_id not in await _due(db, AS_OF + timedelta(hours=3))
        assert (await _due(db, AS_OF + timedelta(days=1)))[cast.club_id] == TODAY + timedelta(1)


class TestRunNow:
    async def test_run_with_as_of_scans_and_a_second_run_changes_nothing(
        self, client: AsyncClient, admin_token: str, cast: Cast, db: Database
    ) -> None:
        await cast.member(every(2, since=180, until=9))
        await cast.member(every(2, since=180))
        body = {"as_of": AS_OF.isoformat()}
        r = await client.post("/api/v1/jobs/lapse_scan/run", json=body, headers=bearer(admin_token))
        assert r.status_code == 200, r.text
        counts = r.json()["counts"]
        assert r.json()["status"] == "succeeded"
        assert (counts["clubs"], counts["members"], counts["at_risk"], counts["ok"]) == (1, 2, 1, 1)
        assert counts["events"] == 1
        r = await client.post("/api/v1/jobs/lapse_scan/run", json=body, headers=bearer(admin_token))
        assert r.json()["counts"]["clubs"] == 0
        async with db.sessionmaker() as s:
            rows = await s.scalar(select(func.count()).select_from(RiskAssessment))
        assert rows == 2


class TestCommand:
    async def test_scan_command_scans_a_club_as_of(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
        engine = create_engine(url)
        try:
            await upgrade(engine)
            db = Database(engine=engine, sessionmaker=make_sessionmaker(engine))
            club_id = await _seed(db)
        finally:
            await engine.dispose()
        out, err, code = await _cli(
            url, "scan", "--club", str(club_id), "--as-of", AS_OF.isoformat()
        )
        assert code == 0, err
        assert "clubs=1 members=1" in out
        assert "at_risk=1" in out
        missing = await _cli(url, "scan", "--club", "00000000-0000-0000-0000-000000000001")
        assert (missing[2], "Club not found" in missing[1]) == (2, True)
        again, _, _ = await _cli(url, "scan", "--club", str(club_id), "--as-of", AS_OF.isoformat())
        # The same day again: the same assessments, and no second event.
        assert again == out.replace("events=1", "events=0")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--club", "nope"], "--club must be a club id"),
            (["--as-of", "2026-03-10T05:00"], "needs a UTC offset"),
            (["--as-of", "last tuesday"], "--as-of must be an ISO 8601 instant"),
        ],
    )
    def test_scan_command_refuses_bad_input(self, args: list[str], message: str) -> None:
        result = CliRunner().invoke(cli, ["scan", *args])
        assert result.exit_code == 2
        assert message in result.output


async def _seed(db: Database) -> uuid.UUID:
    cast = Cast(db, uuid.uuid4())
    async with db.session_scope() as s:
        s.add(
            Club(
                id=cast.club_id,
                name="CLI Club",
                timezone="Europe/Moscow",
                currency="RUB",
                opening_hours={},
                quiet_hours_start=time(9),
                quiet_hours_end=time(21),
                contact_policy={},
                meeting_settings={},
            )
        )
    await cast.member(every(2, since=180, until=9))
    return cast.club_id


async def _cli(url: str, *args: str) -> tuple[str, str, int]:
    env = os.environ | {"CLUB_RENEWAL_DATABASE_URL": url, "CLUB_RENEWAL_LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return out.decode(), err.decode(), proc.returncode or 0
