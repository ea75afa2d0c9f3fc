"""The onboarding checklist: created at the sale of a new membership, marked by staff."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from app.core.clock import freeze
from app.db import Database
from app.models import AuditEntry, Onboarding, OnboardingItem
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import NOW, TODAY, create_plan, problem, sell, sold
from tests.onboarding.conftest import make_staff, snapshot

URL = "/api/v1/memberships/{}/onboarding"


async def checklist(client: AsyncClient, token: str, membership_id: object) -> dict[str, Any]:
    r = await client.get(URL.format(membership_id), headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def by_kind(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["kind"]: i for i in body["items"]}


async def mark(
    client: AsyncClient, token: str, membership_id: object, kind: str, **body: Any
) -> Any:
    return await client.patch(
        f"{URL.format(membership_id)}/{kind}", json=body, headers=bearer(token)
    )


async def onboardings(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Onboarding)) or 0)


class TestCreatedAtTheSale:
    async def test_a_new_membership_gets_four_items_due_counted_from_its_start(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        body = await checklist(client, manager, membership["id"])
        assert body["started_on"] == "2026-03-10"
        assert body["retention_on"] == "2026-06-18"
        assert body["completed"] is False
        assert [(i["kind"], i["status"], i["due_date"]) for i in body["items"]] == [
            ("first_session", "open", "2026-03-17"),
            ("visit_plan", "open", "2026-03-17"),
            ("wellness_test", "open", "2026-03-24"),
            ("meet_trainers", "open", "2026-03-31"),
        ]
        assert all(
            i["completed_at"] is None and i["note"] is None and not i["overdue"]
            for i in body["items"]
        )

    async def test_a_membership_starting_later_counts_from_its_start_date(
        self, client: AsyncClient, manager: str, member: Any, plan: dict[str, Any]
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], date(2026, 4, 1))
        items = by_kind(await checklist(client, manager, m["id"]))
        assert items["first_session"]["due_date"] == "2026-04-08"
        assert items["meet_trainers"]["due_date"] == "2026-04-22"

    @pytest.mark.parametrize("source", ["renewal", "upgrade", "downgrade"])
    async def test_renewals_and_plan_changes_get_no_checklist(
        self,
        client: AsyncClient,
        manager: str,
        member: Any,
        plan: dict[str, Any],
        db: Database,
        source: str,
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], TODAY, source=source)
        body = await checklist(client, manager, m["id"])
        assert body["items"] == []
        assert body["started_on"] is None
        assert await onboardings(db) == 0

    async def test_a_historical_entry_past_its_first_100_days_gets_no_checklist(
        self, client: AsyncClient, manager: str, member: Any, plan: dict[str, Any], db: Database
    ) -> None:
        await sold(client, manager, member.id, plan["id"], TODAY - timedelta(days=101))
        assert await onboardings(db) == 0

    async def test_a_back_dated_sale_inside_100_days_gets_a_checklist(
        self, client: AsyncClient, manager: str, member: Any, plan: dict[str, Any]
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], TODAY - timedelta(days=10))
        items = by_kind(await checklist(client, manager, m["id"]))
        assert items["first_session"]["due_date"] == "2026-03-07"
        assert items["first_session"]["overdue"] is True

    async def test_a_refused_sale_creates_no_checklist(
        self,
        client: AsyncClient,
        manager: str,
        admin_token: str,
        member: Any,
        club_id: uuid.UUID,
        db: Database,
    ) -> None:
        inactive = await create_plan(client, admin_token, club_id)
        r = await client.patch(
            f"/api/v1/plans/{inactive['id']}", json={"active": False}, headers=bearer(admin_token)
        )
        assert r.status_code == 200, r.text
        problem(await sell(client, manager, member.id, inactive["id"], TODAY), 422, "plan_inactive")
        assert await onboardings(db) == 0


class TestMarkingAnItem:
    async def test_done_records_when_and_by_whom(
        self, client: AsyncClient, db: Database, club_id: uuid.UUID, membership: dict[str, Any]
    ) -> None:
        staff_id, token = await make_staff(db, "front_desk", club_ids=[club_id])
        r = await mark(
            client, token, membership["id"], "first_session", status="done", note="Leg day."
        )
        assert r.status_code == 200, r.text
        item = r.json()
        assert (item["kind"], item["status"], item["note"]) == ("first_session", "done", "Leg day.")
        assert item["completed_at"] == NOW.isoformat().replace("+00:00", "Z")
        assert (item["completed_by_id"], item["completed_via"]) == (staff_id, "staff")
        async with db.sessionmaker() as s:
            [entry] = (
                await s.scalars(select(AuditEntry).where(AuditEntry.entity == "onboarding_item"))
            ).all()
        assert entry.changes["status"] == ["open", "done"]

    async def test_skipped_then_reopened_clears_the_completion(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        r = await mark(client, manager, membership["id"], "wellness_test", status="skipped")
        assert (r.json()["status"], r.json()["completed_at"]) == ("skipped", None)
        r = await mark(client, manager, membership["id"], "wellness_test", status="open")
        assert r.status_code == 200, r.text
        item = r.json()
        assert (item["status"], item["completed_at"], item["completed_by_id"]) == (
            "open",
            None,
            None,
        )

    async def test_marking_done_again_keeps_the_first_completion_time(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        first = await mark(client, manager, membership["id"], "visit_plan", status="done")
        with freeze(NOW + timedelta(days=1)):
            again = await mark(
                client, manager, membership["id"], "visit_plan", status="done", note="Checked."
            )
        assert again.json()["completed_at"] == first.json()["completed_at"]
        assert again.json()["note"] == "Checked."

    async def test_the_note_is_kept_when_omitted_and_cleared_by_null(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        await mark(client, manager, membership["id"], "visit_plan", status="open", note="Call.")
        r = await mark(client, manager, membership["id"], "visit_plan", status="done")
        assert r.json()["note"] == "Call."
        r = await mark(client, manager, membership["id"], "visit_plan", status="done", note=None)
        assert r.json()["note"] is None

    async def test_meet_trainers_records_which_trainers(
        self,
        client: AsyncClient,
        manager: str,
        trainer: tuple[str, str],
        db: Database,
        club_id: uuid.UUID,
        membership: dict[str, Any],
    ) -> None:
        second, _ = await make_staff(db, "trainer", "consultant", club_ids=[club_id])
        r = await mark(
            client,
            manager,
            membership["id"],
            "meet_trainers",
            status="done",
            trainer_ids=[trainer[0], second, trainer[0]],
        )
        assert r.status_code == 200, r.text
        assert r.json()["trainer_ids"] == [trainer[0], second]
        items = by_kind(await checklist(client, manager, membership["id"]))
        assert items["meet_trainers"]["trainer_ids"] == [trainer[0], second]

    async def test_a_trainer_may_mark_items(
        self, client: AsyncClient, trainer: tuple[str, str], membership: dict[str, Any]
    ) -> None:
        r = await mark(client, trainer[1], membership["id"], "first_session", status="done")
        assert r.status_code == 200, r.text

    async def test_an_item_open_after_its_due_date_is_overdue(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        with freeze(datetime(2026, 3, 17, 20, 59, tzinfo=UTC)):  # 23:59 on the due date
            items = by_kind(await checklist(client, manager, membership["id"]))
            assert items["first_session"]["overdue"] is False
        with freeze(datetime(2026, 3, 17, 21, 0, tzinfo=UTC)):  # 00:00 the next day
            items = by_kind(await checklist(client, manager, membership["id"]))
            assert items["first_session"]["overdue"] is True
            assert items["wellness_test"]["overdue"] is False

    async def test_every_item_done_completes_the_onboarding(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        for kind in ("first_session", "wellness_test", "meet_trainers", "visit_plan"):
            assert (await mark(client, manager, membership["id"], kind, status="done")).is_success
        assert (await checklist(client, manager, membership["id"]))["completed"] is True


class TestRefusedChanges:
    async def test_an_item_of_another_clubs_membership_is_not_found(
        self,
        client: AsyncClient,
        admin_token: str,
        db: Database,
        other_club: dict[str, Any],
        manager: str,
    ) -> None:
        other_id = uuid.UUID(other_club["id"])
        plan = await create_plan(client, admin_token, other_id)
        stranger = await make_member(db, other_id)
        theirs = await sold(client, admin_token, stranger.id, plan["id"], TODAY)
        before = await snapshot(db)
        r = await mark(client, manager, theirs["id"], "first_session", status="done")
        problem(r, 404, "membership_not_found")
        assert await snapshot(db) == before

    async def test_a_non_trainer_among_trainer_ids_is_refused(
        self,
        client: AsyncClient,
        manager: str,
        trainer: tuple[str, str],
        db: Database,
        club_id: uuid.UUID,
        membership: dict[str, Any],
    ) -> None:
        consultant, _ = await make_staff(db, "consultant", club_ids=[club_id])
        before = await snapshot(db)
        r = await mark(
            client,
            manager,
            membership["id"],
            "meet_trainers",
            status="done",
            trainer_ids=[trainer[0], consultant],
        )
        body = problem(r, 422, "not_a_trainer")
        assert body["errors"] == [
            {"pointer": "/trainer_ids/1", "detail": "not an active trainer of the club"}
        ]
        assert await snapshot(db) == before

    async def test_a_trainer_of_another_club_is_refused(
        self,
        client: AsyncClient,
        manager: str,
        db: Database,
        other_club: dict[str, Any],
        membership: dict[str, Any],
    ) -> None:
        elsewhere, _ = await make_staff(db, "trainer", club_ids=[uuid.UUID(other_club["id"])])
        before = await snapshot(db)
        r = await mark(
            client,
            manager,
            membership["id"],
            "meet_trainers",
            status="done",
            trainer_ids=[elsewhere],
        )
        problem(r, 422, "not_a_trainer")
        assert await snapshot(db) == before

    async def test_an_inactive_trainer_is_refused(
        self,
        client: AsyncClient,
        manager: str,
        admin_token: str,
        trainer: tuple[str, str],
        db: Database,
        membership: dict[str, Any],
    ) -> None:
        r = await client.patch(
            f"/api/v1/staff/{trainer[0]}", json={"active": False}, headers=bearer(admin_token)
        )
        assert r.status_code == 200, r.text
        r = await mark(
            client,
            manager,
            membership["id"],
            "meet_trainers",
            status="done",
            trainer_ids=[trainer[0]],
        )
        problem(r, 422, "not_a_trainer")

    async def test_trainer_ids_on_another_item_are_refused(
        self,
        client: AsyncClient,
        manager: str,
        trainer: tuple[str, str],
        db: Database,
        membership: dict[str, Any],
    ) -> None:
        before = await snapshot(db)
        r = await mark(
            client,
            manager,
            membership["id"],
            "wellness_test",
            status="done",
            trainer_ids=[trainer[0]],
        )
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_a_renewal_has_no_item_to_mark(
        self, client: AsyncClient, manager: str, member: Any, plan: dict[str, Any], db: Database
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], TODAY, source="renewal")
        r = await mark(client, manager, m["id"], "first_session", status="done")
        problem(r, 404, "onboarding_item_not_found")

    @pytest.mark.parametrize(
        ("kind", "body"),
        [
            ("first_lesson", {"status": "done"}),
            ("first_session", {"status": "finished"}),
            ("first_session", {}),
            ("first_session", {"status": "done", "completed_at": "2026-03-10T10:00:00Z"}),
            ("first_session", {"status": "done", "note": "x" * 501}),
        ],
    )
    async def test_malformed_requests_are_refused(
        self,
        client: AsyncClient,
        manager: str,
        membership: dict[str, Any],
        db: Database,
        kind: str,
        body: dict[str, Any],
    ) -> None:
        before = await snapshot(db)
        r = await client.patch(
            f"{URL.format(membership['id'])}/{kind}", json=body, headers=bearer(manager)
        )
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_a_caller_may_read_but_not_mark(
        self, client: AsyncClient, db: Database, club_id: uuid.UUID, membership: dict[str, Any]
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[club_id])
        await checklist(client, caller, membership["id"])
        r = await mark(client, caller, membership["id"], "first_session", status="done")
        problem(r, 403, "forbidden")


class TestOnTheMemberCard:
    async def test_the_member_card_shows_the_latest_new_memberships_checklist(
        self,
        client: AsyncClient,
        manager: str,
        member: Any,
        plan: dict[str, Any],
        membership: dict[str, Any],
    ) -> None:
        later = await sold(client, manager, member.id, plan["id"], date(2026, 5, 1))
        await sold(client, manager, member.id, plan["id"], date(2026, 6, 1), source="renewal")
        r = await client.get(f"/api/v1/members/{member.id}/onboarding", headers=bearer(manager))
        assert r.status_code == 200, r.text
        assert r.json()["membership_id"] == later["id"]
        assert len(r.json()["items"]) == 4

    async def test_a_member_without_onboarding_gets_404(
        self, client: AsyncClient, manager: str, member: Any
    ) -> None:
        r = await client.get(f"/api/v1/members/{member.id}/onboarding", headers=bearer(manager))
        problem(r, 404, "onboarding_not_found")


async def test_items_are_unique_per_membership_and_kind(
    db: Database, membership: dict[str, Any]
) -> None:
    async with db.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(OnboardingItem).where(
                    OnboardingItem.membership_id == uuid.UUID(membership["id"])
                )
            )
        ).all()
    assert sorted(i.kind for i in rows) == [
        "first_session",
        "meet_trainers",
        "visit_plan",
        "wellness_test",
    ]
