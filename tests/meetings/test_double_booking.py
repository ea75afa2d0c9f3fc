"""No double booking, proven against real concurrency and against the database itself.

The service checks under a lock (PostgreSQL: advisory locks per consultant and member;
SQLite: the write transaction is exclusive) and the database refuses what slips past
(PostgreSQL: exclusion constraints; both: one open renewal meeting per member)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import Database
from app.main import create_app, shutdown, startup
from app.meetings import repository
from app.models import Meeting, Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import add_staff, at, book, booking


@pytest_asyncio.fixture
async def iso_client(settings: Settings, isolated_db: Database) -> AsyncIterator[AsyncClient]:
    """A client over an app on its own database, whose commits are real."""
    app = create_app(settings, db=isolated_db, run_scheduler=False)
    await startup(app)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            yield c
    finally:
        await shutdown(app)


def rendezvous(monkeypatch: pytest.MonkeyPatch, check: str) -> None:
    """Hold each booking right after `check` until another booking has got there too (or
    a second has passed): without serialisation both would have checked before either
    writes, the race a lock or a constraint must win."""
    barrier = asyncio.Barrier(2)
    real = getattr(repository, check)

    async def checked_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = await real(*args, **kwargs)
        with contextlib.suppress(TimeoutError, asyncio.BrokenBarrierError):
            await asyncio.wait_for(barrier.wait(), timeout=1)
        return found

    monkeypatch.setattr(repository, check, checked_then_wait)


async def _count(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Meeting)) or 0)


class TestConcurrentBookings:
    async def test_two_bookings_of_one_slot_at_once_one_wins(
        self, iso_client: AsyncClient, isolated_db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rendezvous(monkeypatch, "consultant_overlap")
        admin = await make_token(isolated_db, "admin")
        club = await make_club(iso_client, admin)
        consultant = await add_staff(iso_client, admin, club)
        a, b = [await make_member(isolated_db, club["id"]) for _ in range(2)]
        results = await asyncio.gather(
            book(iso_client, admin, club, a, consultant, at(2, 10)),
            book(iso_client, admin, club, b, consultant, at(2, 10, 15)),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        assert [r.json()["code"] for r in results if r.status_code == 409] == ["slot_taken"]
        assert await _count(isolated_db) == 1

    async def test_one_member_booked_twice_at_once_gets_one_meeting(
        self, iso_client: AsyncClient, isolated_db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rendezvous(monkeypatch, "open_renewal")
        admin = await make_token(isolated_db, "admin")
        club = await make_club(iso_client, admin)
        first = await add_staff(iso_client, admin, club, name="First")
        second = await add_staff(iso_client, admin, club, name="Second")
        member = await make_member(isolated_db, club["id"])
        results = await asyncio.gather(
            book(iso_client, admin, club, member, first, at(2, 10)),
            book(iso_client, admin, club, member, second, at(3, 12)),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        assert [r.json()["code"] for r in results if r.status_code == 409] == ["member_has_meeting"]
        assert await _count(isolated_db) == 1

    @pytest.mark.postgres_only
    async def test_without_the_lock_the_exclusion_constraint_decides(
        self, iso_client: AsyncClient, isolated_db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def no_lock(*args: Any, **kwargs: Any) -> None:
            return None

        monkeypatch.setattr(repository, "lock_calendars", no_lock)
        rendezvous(monkeypatch, "consultant_overlap")
        admin = await make_token(isolated_db, "admin")
        club = await make_club(iso_client, admin)
        consultant = await add_staff(iso_client, admin, club)
        a, b = [await make_member(isolated_db, club["id"]) for _ in range(2)]
        results = await asyncio.gather(
            book(iso_client, admin, club, a, consultant, at(2, 10)),
            book(iso_client, admin, club, b, consultant, at(2, 10, 15)),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        [lost] = [r.json() for r in results if r.status_code == 409]
        assert lost["code"] == "slot_taken"
        assert lost["detail"] == "The consultant is already booked then."  # the constraint's
        assert await _count(isolated_db) == 1

    async def test_many_bookings_at_once_never_overlap(
        self, iso_client: AsyncClient, isolated_db: Database
    ) -> None:
        admin = await make_token(isolated_db, "admin")
        club = await make_club(iso_client, admin)
        consultant = await add_staff(iso_client, admin, club)
        members = [await make_member(isolated_db, club["id"]) for _ in range(8)]
        starts = [at(2, 10, m) for m in (0, 10, 20, 30, 40, 50, 0, 30)]
        results = await asyncio.gather(
            *(
                book(iso_client, admin, club, m, consultant, s, purpose="feedback")
                for m, s in zip(members, starts, strict=True)
            )
        )
        assert {r.status_code for r in results} <= {201, 409}
        async with isolated_db.sessionmaker() as s:
            rows = (await s.scalars(select(Meeting).order_by(Meeting.starts_at))).all()
        assert len(rows) == sum(r.status_code == 201 for r in results) >= 2
        assert all(x.ends_at <= y.starts_at for x, y in zip(rows, rows[1:], strict=False))


def _row(member: Member, consultant: uuid.UUID, start: datetime, **kw: Any) -> Meeting:
    values: dict[str, Any] = {
        "club_id": member.club_id,
        "member_id": member.id,
        "consultant_id": consultant,
        "purpose": "feedback",
        "status": "booked",
        "starts_at": start,
        "ends_at": start + timedelta(minutes=30),
        "blocked_until": start + timedelta(minutes=30),
    }
    values.update(kw)
    return Meeting(**values)


async def _insert(db: Database, *rows: Meeting) -> None:
    async with db.session_scope() as s:
        s.add_all(rows)


START = datetime(2026, 12, 2, 7, tzinfo=UTC)


class TestTheDatabaseRefuses:
    """Rows written straight to the database, past every check of the service."""

    async def test_a_second_open_renewal_meeting_of_a_member(
        self, db: Database, club: dict, consultant: str, member: Member
    ) -> None:
        cid = uuid.UUID(consultant)
        await _insert(db, _row(member, cid, START, purpose="renewal"))
        with pytest.raises(IntegrityError) as exc:
            await _insert(db, _row(member, cid, START + timedelta(days=7), purpose="renewal"))
        assert repository.broken_guarantee(exc.value) == "member_has_meeting"

    async def test_a_closed_renewal_meeting_does_not_count(
        self, db: Database, club: dict, consultant: str, member: Member
    ) -> None:
        cid = uuid.UUID(consultant)
        await _insert(
            db,
            _row(member, cid, START, purpose="renewal", status="cancelled"),
            _row(member, cid, START + timedelta(days=1), purpose="renewal", status="attended"),
            _row(member, cid, START + timedelta(days=7), purpose="renewal"),
        )

    @pytest.mark.postgres_only
    async def test_overlapping_meetings_of_a_consultant(
        self, db: Database, club: dict, consultant: str, member: Member
    ) -> None:
        other = await make_member(db, club["id"])
        cid = uuid.UUID(consultant)
        await _insert(db, _row(member, cid, START, blocked_until=START + timedelta(minutes=40)))
        with pytest.raises(IntegrityError) as exc:  # inside the first one's buffer
            await _insert(db, _row(other, cid, START + timedelta(minutes=35)))
        assert repository.broken_guarantee(exc.value) == "slot_taken"
        await _insert(db, _row(other, cid, START + timedelta(minutes=40)))  # touching is fine

    @pytest.mark.postgres_only
    async def test_overlapping_meetings_of_a_member(
        self, db: Database, club: dict, member: Member, client: AsyncClient, admin_token: str
    ) -> None:
        first = uuid.UUID(await add_staff(client, admin_token, club, name="A"))
        second = uuid.UUID(await add_staff(client, admin_token, club, name="B"))
        await _insert(db, _row(member, first, START))
        with pytest.raises(IntegrityError) as exc:
            await _insert(db, _row(member, second, START + timedelta(minutes=10)))
        assert repository.broken_guarantee(exc.value) == "member_has_meeting"

    @pytest.mark.postgres_only
    async def test_cancelled_and_no_show_meetings_hold_no_time(
        self, db: Database, club: dict, consultant: str, member: Member
    ) -> None:
        other = await make_member(db, club["id"])
        cid = uuid.UUID(consultant)
        await _insert(
            db,
            _row(member, cid, START, status="cancelled"),
            _row(other, cid, START, status="no_show"),
            _row(other, cid, START + timedelta(minutes=5)),
        )

    @pytest.mark.postgres_only
    async def test_a_race_past_the_checks_still_gets_slot_taken(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """As if the checks had run before the other booking committed: the exclusion
        constraint refuses the row and the client still gets a clean 409."""

        async def nothing(*args: Any, **kwargs: Any) -> None:
            return None

        monkeypatch.setattr(repository, "lock_calendars", nothing)
        monkeypatch.setattr(repository, "consultant_overlap", nothing)
        monkeypatch.setattr(repository, "member_overlap", nothing)
        monkeypatch.setattr(repository, "open_renewal", nothing)
        other = await make_member(db, club["id"])
        assert (
            await book(client, admin_token, club, member, consultant, at(2, 10))
        ).status_code == 201
        r = await book(client, admin_token, club, other, consultant, at(2, 10, 15))
        assert (r.status_code, r.json()["code"]) == (409, "slot_taken")
        r = await client.post(
            "/api/v1/meetings",
            json=booking(club, member, consultant, at(9, 10)),
            headers=bearer(admin_token),
        )
        assert (r.status_code, r.json()["code"]) == (409, "member_has_meeting")
        assert await _count(db) == 1


@pytest.mark.postgres_only
async def test_postgresql_has_the_exclusion_constraints(db: Database) -> None:
    from sqlalchemy import text

    async with db.sessionmaker() as s:
        names = set(
            (
                await s.scalars(
                    text(
                        "SELECT conname FROM pg_constraint "
                        "WHERE conrelid = 'meetings'::regclass AND contype = 'x'"
                    )
                )
            ).all()
        )
    assert names == {"ex_meetings_consultant_time", "ex_meetings_member_time"}
