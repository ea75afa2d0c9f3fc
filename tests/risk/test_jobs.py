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
from app.errors import NotFound
from app.migrate import upgrade
from app.models import Club, RiskAssessment
from app.risk.jobs import lapse_scan, run_scan
from tests.fixtures.factories import bearer, make_club
from tests.risk.conftest import AS_OF, Cast, every


async def _scan_days(db: Database, club_id: uuid.UUID) -> list[date]:
    async with db.sessionmaker() as s:
        days = await s.scalars(
            select(RiskAssessment.scan_date)
            .where(RiskAssessment.club_id == club_id)
            .distinct()
            .order_by(RiskAssessment.scan_date)
        )
        return list(days.all())


class TestSchedule:
    async def test_the_job_is_in_the_table(self, client: AsyncClient, admin_token: str) -> None:
        r = await client.get("/api/v1/jobs", headers=bearer(admin_token))
        job = next(j for j in r.json() if j["name"] == "lapse_scan")
        assert job["schedule"].startswith("interval")
        assert "05:00" in job["description"]

    async def test_a_club_is_scanned_from_its_local_hour(self, cast: Cast, db: Database) -> None:
        await cast.member(every(2, since=180, until=9))
        # Europe/Moscow is UTC+3: 05:00 local is 02:00 UTC.
        counts = await lapse_scan(db, datetime(2026, 3, 10, 1, 59, tzinfo=UTC))
        assert counts["club_days_done"] == 1
        assert await _scan_days(db, cast.club_id) == [date(2026, 3, 9)]  # yesterday's is due
        await lapse_scan(db, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
        assert await _scan_days(db, cast.club_id) == [date(2026, 3, 9), date(2026, 3, 10)]

    async def test_the_local_hour_follows_daylight_saving_time(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        club = await make_club(client, admin_token, name="Berlin", timezone="Europe/Berlin")
        berlin = Cast(db, uuid.UUID(club["id"]))
        await berlin.member(every(2, since=180, until=9))
        # 2026-03-29 springs forward: 05:00 is 03:00 UTC that day, 04:00 UTC the day before.
        await lapse_scan(db, datetime(2026, 3, 28, 3, 30, tzinfo=UTC))
        assert await _scan_days(db, berlin.club_id) == [date(2026, 3, 27)]
        await lapse_scan(db, datetime(2026, 3, 29, 3, 30, tzinfo=UTC))
        assert await _scan_days(db, berlin.club_id) == [date(2026, 3, 27), date(2026, 3, 29)]

    async def test_a_scanned_day_is_not_scanned_again(self, cast: Cast, db: Database) -> None:
        await cast.member(every(2, since=180, until=9))
        assert (await lapse_scan(db, AS_OF))["club_days_done"] == 1
        again = await lapse_scan(db, AS_OF + timedelta(hours=3))
        assert (again["club_days_done"], again["club_days_already_done"]) == (0, 1)
        assert (await lapse_scan(db, AS_OF + timedelta(days=1)))["club_days_done"] == 1


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
        assert r.json()["counts"]["club_days_already_done"] == 1
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

    async def test_scanning_an_unknown_club_is_not_found(self, db: Database) -> None:
        with pytest.raises(NotFound) as err:
            await run_scan(db, AS_OF, club_id=uuid.uuid4())
        assert err.value.code == "club_not_found"

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
