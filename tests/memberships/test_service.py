"""Service functions other domains call: current_for_member, add_bonus_days (complaints,
renewals) and freeze_service.end_on_visit (check-ins)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.auth.permissions import Perm, Principal, Role
from app.db import Database
from app.errors import RuleViolation
from app.memberships.freeze_service import freeze_service
from app.memberships.service import membership_service
from app.memberships.status import MembershipStatus
from app.models import Freeze, Member, Membership
from tests.fixtures.ledger import make_member, make_membership, make_plan
from tests.memberships.helpers import NOW, TODAY, audit, events, freeze_membership, snapshot, sold

D = timedelta

MANAGER = Principal(
    token_id=uuid.uuid4(),
    kind="staff",
    name="Carla Complaints",
    staff_id=None,
    roles=frozenset({Role.MANAGER.value}),
    permissions=frozenset(Perm),
    club_ids=None,
)


async def load(db: Database, membership_id: object) -> Membership:
    async with db.sessionmaker() as s:
        m = await s.get(Membership, uuid.UUID(str(membership_id)))
        assert m is not None
        return m


async def add_bonus(db: Database, membership_id: uuid.UUID, days: int) -> Membership:
    async with db.session_scope() as s:
        m = await s.get(Membership, membership_id)
        assert m is not None
        return await membership_service.add_bonus_days(s, MANAGER, m, days, "x", today=TODAY)


class TestCurrentForMember:
    async def test_returns_the_membership_covering_today(
        self, db: Database, club_id: uuid.UUID, member: Member
    ) -> None:
        plan = await make_plan(db, club_id)
        await make_membership(db, member, plan, start_date=date(2025, 1, 1))  # expired
        current = await make_membership(db, member, plan, start_date=date(2026, 1, 1))
        await make_membership(db, member, plan, start_date=date(2027, 1, 1))  # pending
        async with db.sessionmaker() as s:
            found = await membership_service.current_for_member(s, member.id, TODAY)
        assert found is not None
        assert found.id == current.id

    async def test_a_frozen_membership_is_still_current(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        await freeze_membership(client, desk, m["id"], TODAY, TODAY + D(9))
        async with db.sessionmaker() as s:
            found = await membership_service.current_for_member(s, member.id, TODAY)
            assert found is not None
            assert await membership_service.status_of(s, found, TODAY) == MembershipStatus.FROZEN

    async def test_cancelled_memberships_do_not_count(
        self, db: Database, club_id: uuid.UUID, member: Member
    ) -> None:
        plan = await make_plan(db, club_id)
        await make_membership(db, member, plan, start_date=date(2026, 1, 1), cancelled_at=NOW)
        async with db.sessionmaker() as s:
            assert await membership_service.current_for_member(s, member.id, TODAY) is None

    async def test_none_between_terms(
        self, db: Database, club_id: uuid.UUID, member: Member
    ) -> None:
        plan = await make_plan(db, club_id)
        await make_membership(db, member, plan, start_date=date(2025, 1, 1))
        await make_membership(db, member, plan, start_date=TODAY + D(1))
        async with db.sessionmaker() as s:
            assert await membership_service.current_for_member(s, member.id, TODAY) is None

    async def test_the_last_day_of_the_term_is_covered(
        self, db: Database, club_id: uuid.UUID, member: Member
    ) -> None:
        plan = await make_plan(db, club_id)
        m = await make_membership(db, member, plan, start_date=date(2025, 3, 10), end_date=TODAY)
        async with db.sessionmaker() as s:
            found = await membership_service.current_for_member(s, member.id, TODAY)
            assert found is not None
            assert found.id == m.id
            assert await membership_service.current_for_member(s, member.id, TODAY + D(1)) is None

    async def test_with_two_cards_the_latest_started_wins(
        self, db: Database, club_id: uuid.UUID, member: Member
    ) -> None:
        plan = await make_plan(db, club_id)
        await make_membership(db, member, plan, start_date=date(2026, 1, 1))
        pool = await make_membership(db, member, plan, start_date=date(2026, 3, 1))
        async with db.sessionmaker() as s:
            found = await membership_service.current_for_member(s, member.id, TODAY)
        assert found is not None
        assert found.id == pool.id

    async def test_another_members_membership_is_not_theirs(
        self, db: Database, club_id: uuid.UUID, member: Member
    ) -> None:
        plan = await make_plan(db, club_id)
        other = await make_member(db, club_id)
        await make_membership(db, other, plan, start_date=date(2026, 1, 1))
        async with db.sessionmaker() as s:
            assert await membership_service.current_for_member(s, member.id, TODAY) is None


class TestAddBonusDays:
    async def test_bonus_days_extend_the_end_date(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        sold_m = await sold(client, desk, member.id, plan["id"], TODAY)
        async with db.session_scope() as s:
            m = await s.get(Membership, uuid.UUID(sold_m["id"]))
            assert m is not None
            m = await membership_service.add_bonus_days(s, MANAGER, m, 7, "Pool closed a week")
        assert m.bonus_days == 7
        assert m.end_date == date(2027, 3, 16)
        again = await load(db, sold_m["id"])
        assert (again.end_date, again.bonus_days) == (date(2027, 3, 16), 7)

    async def test_bonus_days_are_audited_with_the_reason(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        sold_m = await sold(client, desk, member.id, plan["id"], TODAY)
        async with db.session_scope() as s:
            m = await s.get(Membership, uuid.UUID(sold_m["id"]))
            assert m is not None
            await membership_service.add_bonus_days(s, MANAGER, m, 7, "Pool closed a week")
        [entry] = await audit(db, sold_m["id"], "bonus_days_added")
        assert entry.changes["end_date"] == ["2027-03-09", "2027-03-16"]
        assert entry.changes["reason"] == "Pool closed a week"
        assert entry.actor_label == "staff:Carla Complaints"

    async def test_bonus_days_add_up_with_freezes(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        sold_m = await sold(client, desk, member.id, plan["id"], TODAY)
        await freeze_membership(client, desk, sold_m["id"], date(2026, 4, 1), date(2026, 4, 10))
        async with db.session_scope() as s:
            m = await s.get(Membership, uuid.UUID(sold_m["id"]))
            assert m is not None
            m = await membership_service.add_bonus_days(s, None, m, 5, "Apology")
        assert m.end_date == date(2027, 3, 24)  # 2027-03-09 + 10 frozen + 5 bonus

    async def test_a_pending_membership_can_get_bonus_days(
        self, db: Database, club_id: uuid.UUID, member: Member
    ) -> None:
        plan = await make_plan(db, club_id)
        pending = await make_membership(db, member, plan, start_date=TODAY + D(30))
        async with db.session_scope() as s:
            m = await s.get(Membership, pending.id)
            assert m is not None
            m = await membership_service.add_bonus_days(s, MANAGER, m, 3, "x", today=TODAY)
        assert m.end_date == pending.end_date + D(3)

    @pytest.mark.parametrize("days", [0, -3, 10_000])
    async def test_days_must_be_in_range(
        self, db: Database, club_id: uuid.UUID, member: Member, days: int
    ) -> None:
        plan = await make_plan(db, club_id)
        made = await make_membership(db, member, plan, start_date=date(2026, 1, 1))
        before = await snapshot(db)
        with pytest.raises(RuleViolation) as err:
            await add_bonus(db, made.id, days)
        assert err.value.code == "validation_error"
        assert await snapshot(db) == before

    @pytest.mark.parametrize("state", ["cancelled", "expired"])
    async def test_only_live_memberships_get_bonus_days(
        self, db: Database, club_id: uuid.UUID, member: Member, state: str
    ) -> None:
        plan = await make_plan(db, club_id)
        extra: dict[str, Any] = {"cancelled_at": NOW} if state == "cancelled" else {}
        start = date(2026, 1, 1) if state == "cancelled" else date(2024, 1, 1)
        made = await make_membership(db, member, plan, start_date=start, **extra)
        before = await snapshot(db)
        with pytest.raises(RuleViolation) as err:
            await add_bonus(db, made.id, 5)
        assert err.value.code == "membership_not_active"
        assert await snapshot(db) == before


class TestEndOnVisit:
    async def freeze_running(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member
    ) -> tuple[str, str]:
        """Membership 2026-03-01..2027-02-28, freeze 2026-03-05..2026-03-24 (20 days)."""
        m = await sold(client, manager, member.id, plan["id"], date(2026, 3, 1))
        f = await freeze_membership(client, manager, m["id"], date(2026, 3, 5), date(2026, 3, 24))
        assert f.status_code == 201, f.text
        return m["id"], f.json()["id"]

    async def test_a_visit_ends_the_freeze_the_day_before(
        self,
        client: AsyncClient,
        manager: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
    ) -> None:
        mid, fid = await self.freeze_running(client, manager, plan, member)
        async with db.session_scope() as s:
            ended = await freeze_service.end_on_visit(s, uuid.UUID(mid), TODAY)
        assert ended is not None
        assert ended.id == uuid.UUID(fid)
        assert ended.end_date == date(2026, 3, 9)
        m = await load(db, mid)
        assert m.frozen_days == 5
        assert m.end_date == date(2027, 3, 5)
        async with db.sessionmaker() as s:
            status = await membership_service.status_of(s, m, TODAY)
        assert status == MembershipStatus.ACTIVE
        [event] = await events(db, "freeze.ended")
        assert event.data["end_date"] == "2026-03-09"
        assert await audit(db, mid, "freeze_ended_on_visit")

    async def test_a_visit_on_the_first_day_withdraws_the_freeze(
        self,
        client: AsyncClient,
        manager: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], date(2026, 3, 1))
        f = await freeze_membership(client, manager, m["id"], TODAY, TODAY + D(9))
        async with db.session_scope() as s:
            withdrawn = await freeze_service.end_on_visit(s, uuid.UUID(m["id"]), TODAY)
        assert withdrawn is not None
        assert withdrawn.cancelled_at is not None
        after = await load(db, m["id"])
        assert after.frozen_days == 0
        assert after.end_date == date(2027, 2, 28)
        # It had started (freeze.started went out at creation), so its end is reported.
        [ended] = await events(db, "freeze.ended")
        assert ended.data["freeze_id"] == f.json()["id"]

    async def test_no_running_freeze_changes_nothing(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        before = await snapshot(db)
        async with db.session_scope() as s:
            assert await freeze_service.end_on_visit(s, uuid.UUID(m["id"]), TODAY) is None
        assert await snapshot(db) == before

    async def test_the_same_visit_twice_changes_nothing_more(
        self,
        client: AsyncClient,
        manager: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
    ) -> None:
        mid, _ = await self.freeze_running(client, manager, plan, member)
        async with db.session_scope() as s:
            assert await freeze_service.end_on_visit(s, uuid.UUID(mid), TODAY) is not None
        before = await snapshot(db)
        async with db.session_scope() as s:
            assert await freeze_service.end_on_visit(s, uuid.UUID(mid), TODAY) is None
        assert await snapshot(db) == before

    async def test_unknown_membership_changes_nothing(self, db: Database) -> None:
        async with db.session_scope() as s:
            assert await freeze_service.end_on_visit(s, uuid.uuid4(), TODAY) is None

    async def test_a_cancelled_membership_is_left_alone(
        self,
        client: AsyncClient,
        manager: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
    ) -> None:
        mid, _ = await self.freeze_running(client, manager, plan, member)
        r = await client.post(
            f"/api/v1/memberships/{mid}/cancel",
            json={"reason": "moved"},
            headers={"Authorization": f"Bearer {manager}"},
        )
        assert r.status_code == 200
        before = await snapshot(db)
        async with db.session_scope() as s:
            assert await freeze_service.end_on_visit(s, uuid.UUID(mid), TODAY) is None
        assert await snapshot(db) == before

    async def test_the_freeze_row_is_shortened_in_the_database(
        self,
        client: AsyncClient,
        manager: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
    ) -> None:
        mid, fid = await self.freeze_running(client, manager, plan, member)
        async with db.session_scope() as s:
            await freeze_service.end_on_visit(s, uuid.UUID(mid), date(2026, 3, 12))
        async with db.sessionmaker() as s:
            f = await s.get(Freeze, uuid.UUID(fid))
            assert f is not None
            assert (f.end_date, f.ended_early_at is not None) == (date(2026, 3, 11), True)
