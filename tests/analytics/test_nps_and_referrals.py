"""GET /analytics/nps and /analytics/referrals against hand-computed data sets.

The club is in Moscow (UTC+3): the period 2026-03-01..2026-03-31 runs from
2026-02-28T21:00Z (inclusive) to 2026-03-31T21:00Z (exclusive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import Feedback, Referral
from tests.analytics.conftest import report
from tests.fixtures.ledger import make_member

PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}
START = datetime(2026, 2, 28, 21, 0, tzinfo=UTC)
END = datetime(2026, 3, 31, 21, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


async def feedback(db: Database, club_id: str, score: int, at: datetime) -> None:
    member = await make_member(db, club_id)
    async with db.session_scope() as s:
        s.add(Feedback(club_id=member.club_id, member_id=member.id, score=score, created_at=at))


class TestNps:
    @pytest.fixture
    async def data(self, db: Database, club: dict, other_club: dict) -> None:
        """In the period: 10, 9, 9, 9 (promoters), 8 (passive), 6, 0 (detractors).
        NPS = (4 - 2) / 7 = 28.571...% -> 28.6; mean 51 / 7 = 7.2857 -> 7.29."""
        inside = [START, START + timedelta(days=3), START + timedelta(days=10), END - SECOND]
        for score, at in zip([10, 9, 9, 9], inside, strict=True):
            await feedback(db, club["id"], score, at)
        for score in (8, 6, 0):
            await feedback(db, club["id"], score, START + timedelta(days=15))
        await feedback(db, club["id"], 0, START - SECOND)  # the evening before, local
        await feedback(db, club["id"], 0, END)  # April 1st, 00:00 local
        await feedback(db, other_club["id"], 0, START + timedelta(days=1))

    async def test_nps(self, client: AsyncClient, manager: str, club: dict, data: None) -> None:
        got = await report(client, manager, "nps", club, **PERIOD)
        assert {k: v for k, v in got.items() if k not in ("club_id", "period")} == {
            "responses": 7,
            "promoters": 4,
            "passives": 1,
            "detractors": 2,
            "nps": 28.6,
            "average_score": 7.29,
        }

    async def test_no_responses_no_score(
        self, client: AsyncClient, manager: str, club: dict
    ) -> None:
        got = await report(client, manager, "nps", club, **PERIOD)
        assert (got["responses"], got["nps"], got["average_score"]) == (0, None, None)

    async def test_all_detractors_is_minus_100(
        self, client: AsyncClient, db: Database, manager: str, club: dict
    ) -> None:
        for score in (0, 5, 6):
            await feedback(db, club["id"], score, START)
        assert (await report(client, manager, "nps", club, **PERIOD))["nps"] == -100.0


class TestReferrals:
    @pytest.fixture
    async def data(self, db: Database, club: dict, other_club: dict) -> dict[str, Any]:
        """Recommended in March: 5 (x: joined, joined; y: joined (credited in April),
        lost; z: open) -> 3 joined of 5. Credited in March: x twice, y once (for a
        February lead) -> 3 credits."""
        cid = club["id"]
        x, y, z = [await make_member(db, cid) for _ in range(3)]
        mid = START + timedelta(days=10)
        april = END + timedelta(days=2)
        rows = [
            # referrer, created, status, credited
            (x, mid, "joined", mid + timedelta(days=1)),
            (x, START, "joined", END - SECOND),
            (y, mid, "joined", april),
            (y, mid, "lost", None),
            (z, mid, "lead", None),
            (y, START - timedelta(days=20), "joined", mid),  # February lead
        ]
        joiners = [await make_member(db, cid) for _ in rows]
        async with db.session_scope() as s:
            for n, (who, created, status, credited) in enumerate(rows):
                joined = joiners[n] if status == "joined" else None
                s.add(
                    Referral(
                        club_id=who.club_id,
                        referrer_id=who.id,
                        name=f"Lead {n}",
                        phone=f"+7916000{n:04d}",
                        status=status,
                        member_id=joined.id if joined else None,
                        credited_at=credited,
                        created_at=created,
                        updated_at=created,
                    )
                )
        stranger = await make_member(db, other_club["id"])
        async with db.session_scope() as s:
            s.add(
                Referral(
                    club_id=stranger.club_id,
                    referrer_id=stranger.id,
                    name="Elsewhere",
                    phone="+79160009999",
                    status="joined",
                    credited_at=mid,
                    created_at=mid,
                    updated_at=mid,
                )
            )
        return {"x": x, "y": y}

    async def test_referrals(
        self, client: AsyncClient, manager: str, club: dict, data: dict[str, Any]
    ) -> None:
        got = await report(client, manager, "referrals", club, **PERIOD)
        assert {k: v for k, v in got.items() if k not in ("club_id", "period")} == {
            "referred": 5,
            "open": 1,
            "joined": 3,
            "lost": 1,
            "conversion_rate": 0.6,
            "credited": 3,
            "top_referrers": [
                {"member_id": str(data["x"].id), "credits": 2},
                {"member_id": str(data["y"].id), "credits": 1},
            ],
        }
