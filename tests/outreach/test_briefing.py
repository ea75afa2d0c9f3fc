"""GET /calls/{id}/briefing: every section from real data for a realistic member, no
price in the promotions, club scoping, and a statement count that does not grow with
the member's history.

The clock is Tuesday 2026-12-01 09:00 in Moscow (the default test club's zone)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from httpx import AsyncClient
from sqlalchemy import event, select

from app.core.clock import freeze
from app.db import Database
from app.models import (
    CallAttempt,
    Checkin,
    Club,
    Complaint,
    Member,
    MemberNote,
    Onboarding,
    OnboardingItem,
    Promotion,
    RiskAssessment,
    ServiceCall,
)
from app.outreach.briefing import briefing_service
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan
from tests.fixtures.meetings import add_staff, make_meeting
from tests.fixtures.outreach import make_call
from tests.fixtures.retention import problem

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=MSK)
TODAY = date(2026, 12, 1)
LAST_VISIT = datetime(2026, 11, 13, 18, 0, tzinfo=MSK)  # 18 days ago


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


def url(call_id: object) -> str:
    return f"/api/v1/calls/{call_id}/briefing"


async def add(db: Database, *rows: Any) -> None:
    async with db.session_scope() as s:
        s.add_all(rows)


async def checkins_every(
    db: Database, member: Member, *, days: int, until: datetime, n: int
) -> None:
    await add(
        db,
        *[
            Checkin(
                club_id=member.club_id,
                member_id=member.id,
                checked_in_at=until - timedelta(days=days * i),
                source="turnstile",
            )
            for i in range(n)
        ],
    )


def attempt(call: ServiceCall, at: datetime, outcome: str, **extra: Any) -> CallAttempt:
    return CallAttempt(
        call_id=call.id,
        club_id=call.club_id,
        member_id=call.member_id,
        call_kind=call.kind,
        outcome=outcome,
        attempted_at=at,
        **extra,
    )


def complaint(member: Member, category: str, *, status: str = "open", **extra: Any) -> Complaint:
    return Complaint(
        club_id=member.club_id,
        member_id=member.id,
        source="desk",
        category=category,
        description=f"About {category}",
        severity="medium",
        status=status,
        due_at=NOW + timedelta(days=1),
        created_at=NOW - timedelta(days=2),
        updated_at=NOW - timedelta(days=2),
        **extra,
    )


@dataclass
class World:
    member: Member
    membership_id: uuid.UUID
    call: ServiceCall
    earlier_call: ServiceCall
    consultant_id: str
    promotion_id: uuid.UUID


@pytest.fixture
async def world(client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]) -> World:
    club_id = uuid.UUID(club["id"])
    consultant = await add_staff(client, admin_token, club, "consultant", name="Olga Consultant")
    member = await make_member(
        db,
        club_id,
        first_name="Maria",
        last_name="Ivanova",
        birth_date=date(1990, 12, 20),
        interests=["pool", "yoga"],
        goals="Lose 5 kg before summer",
        contact_window_start=time(18, 0),
        contact_window_end=time(20, 0),
        personal_dates=[
            {"kind": "family_birthday", "date": "12-05", "label": "Daughter's birthday"},
            {"kind": "name_day", "date": "03-01", "label": "Name day"},
        ],
    )
    promo = Promotion(
        club_id=club_id,
        name="Black Friday",
        kind="purchase",
        discount_percent=20,
        plan_ids=[],
        valid_from=date(2025, 11, 1),
        valid_until=date(2025, 12, 31),
        active=True,
    )
    live_promo = Promotion(
        club_id=club_id,
        name="Winter renewal",
        description="20% off a 12-month renewal",
        kind="renewal",
        discount_amount=500_000,
        plan_ids=[],
        valid_from=date(2026, 11, 15),
        valid_until=date(2026, 12, 31),
        active=True,
    )
    await add(db, promo, live_promo)
    plan = await make_plan(db, club_id, name="Gold 12 months")
    ms = await make_membership(
        db,
        member,
        plan,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 13),
        promotion_id=promo.id,
        price_paid=2_800_000,
        special_conditions="Pool on weekdays only",
    )
    await make_freeze(db, ms, start_date=date(2026, 12, 5), end_date=date(2026, 12, 10))
    await checkins_every(db, member, days=3, until=LAST_VISIT, n=20)
    await add(
        db,
        MemberNote(
            club_id=club_id,
            member_id=member.id,
            kind="handoff",
            body="Prefers evening calls; trains with her daughter",
            created_at=NOW - timedelta(days=300),
        ),
        *[
            RiskAssessment(
                member_id=member.id,
                scan_date=day,
                club_id=club_id,
                membership_id=ms.id,
                assessed_at=datetime.combine(day, time(3), MSK),
                score=score,
                level=level,
                segment="active",
                reasons=reasons,
                last_visit_at=LAST_VISIT,
                gap_days=17,
                usual_visits_per_week=2.3,
                visits_last_4_weeks=3,
                visits_previous_8_weeks=18,
                tenure_days=334,
                days_to_end=12,
            )
            for day, score, level, reasons in (
                (date(2026, 11, 20), 30, "watch", ["old reason"]),
                (
                    date(2026, 12, 1),
                    72,
                    "at_risk",
                    ["no visit for 18 days; usually every 3 days", "term ends in 12 days"],
                ),
            )
        ],
        complaint(member, "equipment"),
        complaint(member, "cleanliness", status="resolved"),
    )
    earlier = await make_call(
        db, member.id, club_id, kind="lapse", status="expired", due_from=NOW - timedelta(days=40)
    )
    await add(
        db,
        attempt(earlier, NOW - timedelta(days=39), "no_answer"),
        attempt(earlier, NOW - timedelta(days=38), "declined", decline_reason="no_time"),
    )
    await make_meeting(
        db, member, starts_at=NOW - timedelta(days=60), status="no_show", purpose="renewal"
    )
    call = await make_call(db, member.id, club_id, kind="renewal", membership_id=ms.id)
    return World(member, ms.id, call, earlier, consultant, live_promo.id)


@pytest.fixture
async def caller(db: Database, club: dict[str, Any]) -> str:
    return await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])], name="Cleo Caller")


async def brief(client: AsyncClient, token: str, call_id: object) -> dict[str, Any]:
    r = await client.get(url(call_id), headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


class TestSections:
    async def test_call_and_member_card(
        self, client: AsyncClient, caller: str, world: World
    ) -> None:
        b = await brief(client, caller, world.call.id)
        assert (b["call"]["id"], b["call"]["kind"]) == (str(world.call.id), "renewal")
        m = b["member"]
        assert (m["first_name"], m["last_name"]) == ("Maria", "Ivanova")
        assert m["phone"] == world.member.phone
        assert m["email"] == world.member.email
        assert m["preferred_channel"] == "call"
        assert (m["contact_window_start"], m["contact_window_end"]) == ("18:00:00", "20:00:00")
        assert m["interests"] == ["pool", "yoga"]
        assert m["goals"] == "Lose 5 kg before summer"
        assert [n["body"] for n in m["handoff_notes"]] == [
            "Prefers evening calls; trains with her daughter"
        ]

    async def test_membership_marks(self, client: AsyncClient, caller: str, world: World) -> None:
        ms = (await brief(client, caller, world.call.id))["membership"]
        assert ms["id"] == str(world.membership_id)
        assert ms["plan_name"] == "Gold 12 months"
        assert (ms["start_date"], ms["end_date"], ms["days_left"]) == (
            "2026-01-01",
            "2026-12-13",
            12,
        )
        assert (ms["status"], ms["frozen_now"]) == ("active", False)
        assert ms["freeze"] == {
            "start_date": "2026-12-05",
            "end_date": "2026-12-10",
            "reason": "travel",
        }
        assert ms["special_conditions"] == "Pool on weekdays only"
        assert ms["promotion_name"] == "Black Friday"
        assert (ms["list_price"], ms["price_paid"]) == (3_500_000, 2_800_000)

    async def test_frozen_now(self, client: AsyncClient, caller: str, world: World) -> None:
        with freeze(datetime(2026, 12, 6, 9, tzinfo=MSK)):
            ms = (await brief(client, caller, world.call.id))["membership"]
        assert (ms["status"], ms["frozen_now"], ms["freeze"]["end_date"]) == (
            "frozen",
            True,
            "2026-12-10",
        )

    async def test_attendance_picture(self, client: AsyncClient, caller: str, world: World) -> None:
        a = (await brief(client, caller, world.call.id))["attendance"]
        assert datetime.fromisoformat(a["last_visit_at"]) == LAST_VISIT
        assert a["days_since_last_visit"] == 18
        weeks = a["weekly_counts"]
        assert len(weeks) == 12
        assert weeks[-1]["week_start"] == "2026-11-30"  # a Monday, this week
        assert [w["week_start"] for w in weeks] == sorted(w["week_start"] for w in weeks)
        # 20 visits every 3 days back from 13 Nov (to 17 Sep): all within the 12 weeks
        # (from Monday 14 Sep).
        assert sum(w["visits"] for w in weeks) == 20
        assert weeks[-1]["visits"] == weeks[-2]["visits"] == 0
        # The 28 days to today start on 4 Nov: visits on 4, 7, 10 and 13 Nov.
        assert a["visits_last_28_days"] == 4
        assert a["usual_visits_per_week"] == 2.3  # the lapse scan's baseline

    async def test_latest_risk(self, client: AsyncClient, caller: str, world: World) -> None:
        r = (await brief(client, caller, world.call.id))["risk"]
        assert (r["level"], r["score"]) == ("at_risk", 72)
        assert r["reasons"][0] == "no visit for 18 days; usually every 3 days"

    async def test_history_of_calls_and_meetings(
        self, client: AsyncClient, caller: str, world: World
    ) -> None:
        h = (await brief(client, caller, world.call.id))["history"]
        [call] = h["calls"]  # the call being briefed is not its own history
        assert (call["id"], call["kind"], call["status"]) == (
            str(world.earlier_call.id),
            "lapse",
            "expired",
        )
        assert [(a["outcome"], a["decline_reason"]) for a in call["attempts"]] == [
            ("declined", "no_time"),
            ("no_answer", None),
        ]
        [meeting] = h["meetings"]
        assert (meeting["status"], meeting["purpose"]) == ("no_show", "renewal")

    async def test_open_complaints_only(
        self, client: AsyncClient, caller: str, world: World
    ) -> None:
        cs = (await brief(client, caller, world.call.id))["complaints"]
        assert [(c["category"], c["status"]) for c in cs] == [("equipment", "open")]

    async def test_personal_dates_in_the_next_30_days(
        self, client: AsyncClient, caller: str, world: World
    ) -> None:
        dates = (await brief(client, caller, world.call.id))["personal_dates"]
        assert [(d["kind"], d["date"], d["days_until"]) for d in dates] == [
            ("family_birthday", "2026-12-05", 4),
            ("birthday", "2026-12-20", 19),
        ]

    async def test_promotions_in_general_terms_without_prices(
        self, client: AsyncClient, caller: str, world: World
    ) -> None:
        promos = (await brief(client, caller, world.call.id))["promotions"]
        assert promos == [
            {
                "name": "Winter renewal",
                "kind": "renewal",
                "valid_until": "2026-12-31",
                "days_left": 30,
            }
        ]
        text = json.dumps(promos).lower()
        for leak in ("price", "discount", "amount", "percent", "500000", "20%"):
            assert leak not in text

    async def test_free_meeting_slots_of_the_clubs_consultants(
        self, client: AsyncClient, caller: str, world: World
    ) -> None:
        slots = (await brief(client, caller, world.call.id))["meeting_slots"]
        assert slots, "the consultant works the club's opening hours"
        assert {s["consultant_id"] for s in slots} == {world.consultant_id}
        starts = [datetime.fromisoformat(s["starts_at"]) for s in slots]
        assert starts == sorted(starts)
        assert min(starts) >= NOW
        assert {s.date() for s in starts} == {date(2026, 12, d) for d in (1, 2, 3)}
        assert len(slots) <= 12

    async def test_a_booked_meeting_takes_its_slot(
        self, client: AsyncClient, db: Database, caller: str, world: World
    ) -> None:
        first = (await brief(client, caller, world.call.id))["meeting_slots"][0]
        other = await make_member(db, world.member.club_id)
        await make_meeting(
            db,
            other,
            starts_at=datetime.fromisoformat(first["starts_at"]),
            consultant_id=uuid.UUID(world.consultant_id),
        )
        slots = (await brief(client, caller, world.call.id))["meeting_slots"]
        assert first["starts_at"] not in {s["starts_at"] for s in slots}

    async def test_talking_points_from_the_data(
        self, client: AsyncClient, caller: str, world: World
    ) -> None:
        points = (await brief(client, caller, world.call.id))["talking_points"]
        assert points[0] == "Has an open complaint about equipment — acknowledge it first."
        assert "Term ends in 12 days." in points
        assert "No visit for 18 days; usually every 3 days." in points
        assert "A freeze starts on 2026-12-05 (until 2026-12-10)." in points
        assert "Special conditions: Pool on weekdays only" in points
        assert any("renewal meeting" in p for p in points)  # the renewal kind's guidance
        assert any(p.startswith("Daughter's birthday in 4 days") for p in points)

    async def test_onboarding_checklist_for_a_new_member(
        self, client: AsyncClient, db: Database, caller: str, club: dict[str, Any]
    ) -> None:
        club_id = uuid.UUID(club["id"])
        member = await make_member(db, club_id)
        plan = await make_plan(db, club_id)
        ms = await make_membership(db, member, plan, start_date=TODAY - timedelta(days=10))
        onboarding = Onboarding(
            club_id=club_id,
            membership_id=ms.id,
            member_id=member.id,
            started_on=ms.start_date,
            retention_on=ms.start_date + timedelta(days=100),
            retention_at=NOW + timedelta(days=90),
        )
        await add(db, onboarding)
        await add(
            db,
            *[
                OnboardingItem(
                    club_id=club_id,
                    onboarding_id=onboarding.id,
                    membership_id=ms.id,
                    member_id=member.id,
                    kind=kind,
                    status=status,
                    due_date=ms.start_date + timedelta(days=days),
                    trainer_ids=[],
                )
                for kind, status, days in (
                    ("first_session", "done", 7),
                    ("wellness_test", "open", 14),
                )
            ],
        )
        call = await make_call(db, member.id, club_id, kind="welcome", membership_id=ms.id)
        b = await brief(client, caller, call.id)
        assert [(s["kind"], s["status"]) for s in b["onboarding"]] == [
            ("first_session", "done"),
            ("wellness_test", "open"),
        ]
        assert "Onboarding: wellness test still open." in b["talking_points"]
        assert b["attendance"]["last_visit_at"] is None
        assert "No visits recorded yet." in b["talking_points"]
        assert b["risk"] is None
        assert b["history"] == {"calls": [], "meetings": []}

    async def test_a_member_without_a_membership_still_gets_a_briefing(
        self, client: AsyncClient, db: Database, caller: str, club: dict[str, Any]
    ) -> None:
        member = await make_member(db, club["id"])
        call = await make_call(db, member.id, uuid.UUID(club["id"]), kind="feedback")
        b = await brief(client, caller, call.id)
        assert b["membership"] is None
        assert b["onboarding"] == []


class TestAccess:
    async def test_another_clubs_call_is_not_found(
        self, client: AsyncClient, db: Database, admin_token: str, world: World
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        outsider = await make_token(db, "caller", club_ids=[uuid.UUID(other["id"])])
        r = await client.get(url(world.call.id), headers=bearer(outsider))
        problem(r, 404, "call_not_found")

    async def test_an_unknown_call_is_not_found(self, client: AsyncClient, caller: str) -> None:
        problem(await client.get(url(uuid.uuid4()), headers=bearer(caller)), 404, "call_not_found")

    async def test_needs_calls_read(
        self, client: AsyncClient, db: Database, club: dict[str, Any], world: World
    ) -> None:
        trainer = await make_token(db, "trainer", club_ids=[uuid.UUID(club["id"])])
        problem(await client.get(url(world.call.id), headers=bearer(trainer)), 403, "forbidden")


class TestStatements:
    async def count(self, db: Database, call_id: uuid.UUID) -> int:
        statements: list[str] = []

        def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        async with db.sessionmaker() as s:
            call = await s.get(ServiceCall, call_id)
            assert call is not None
            club = (await s.execute(select(Club).where(Club.id == call.club_id))).scalar_one()
            event.listen(db.engine.sync_engine, "before_cursor_execute", hook)
            try:
                await briefing_service.build(s, call, club, NOW.astimezone(UTC))
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", hook)
        return len(statements)

    async def test_statement_count_does_not_grow_with_history(
        self, db: Database, world: World
    ) -> None:
        before = await self.count(db, world.call.id)
        member = world.member
        calls = [
            await make_call(
                db,
                member.id,
                member.club_id,
                kind="lapse",
                status="completed",
                due_from=NOW - timedelta(days=100 + i),
            )
            for i in range(8)
        ]
        await add(
            db,
            *[
                attempt(c, NOW - timedelta(days=90, hours=h), "no_answer")
                for c in calls
                for h in range(4)
            ],
            *[complaint(member, "staff") for _ in range(5)],
            *[
                MemberNote(
                    club_id=member.club_id,
                    member_id=member.id,
                    kind="handoff",
                    body=f"note {i}",
                    created_at=NOW - timedelta(days=i),
                )
                for i in range(15)
            ],
        )
        for i in range(8):
            await make_meeting(
                db, member, starts_at=NOW - timedelta(days=200 + i), status="attended"
            )
        await checkins_every(db, member, days=1, until=NOW - timedelta(hours=1), n=80)
        after = await self.count(db, world.call.id)
        assert after == before
        assert before <= 16
