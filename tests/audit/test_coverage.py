"""Every merged domain audits money, dates, consents, flags and compensation: each change
shows in GET /audit with who made it and the old and new values."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.memberships.service import membership_service
from app.models import Membership
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import NOW, TODAY, create_plan, freeze_membership, sold

AUDIT = "/api/v1/audit"


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


@pytest.fixture
async def manager(db: Database, club: dict[str, Any]) -> str:
    return await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])], name="Mila Manager")


@pytest.fixture
async def membership(
    client: AsyncClient, db: Database, manager: str, club: dict[str, Any]
) -> dict[str, Any]:
    plan = await create_plan(client, manager, club["id"])
    member = await make_member(db, club["id"])
    return await sold(client, manager, member.id, plan["id"], TODAY)


async def trail(
    client: AsyncClient, token: str, entity: str, entity_id: str, action: str
) -> list[dict[str, Any]]:
    params = {"entity": entity, "entity_id": entity_id, "action": action}
    r = await client.get(AUDIT, params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


class TestMemberships:
    async def test_a_sale_records_prices_dates_promotion_bonus_and_seller(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        [entry] = await trail(client, manager, "membership", membership["id"], "created")
        changes = entry["changes"]
        assert (changes["list_price"], changes["price_paid"]) == (3_500_000, 3_500_000)
        assert (changes["start_date"], changes["end_date"]) == ("2026-03-10", "2027-03-09")
        assert changes["bonus_days"] == 0
        assert changes["promotion_id"] is None
        assert changes["source"] == "new"
        assert changes["sold_by_id"] == entry["actor_staff_id"]
        assert entry["actor_label"] == "staff:Mila Manager"

    async def test_a_freeze_records_the_moved_end_date(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        r = await freeze_membership(
            client, manager, membership["id"], date(2026, 4, 1), date(2026, 4, 14)
        )
        assert r.status_code == 201, r.text
        [entry] = await trail(client, manager, "membership", membership["id"], "freeze_added")
        assert entry["changes"]["end_date"] == ["2027-03-09", "2027-03-23"]
        assert entry["changes"]["freeze_id"] == r.json()["id"]
        assert entry["changes"]["freeze"] == ["2026-04-01", "2026-04-14"]

    async def test_shortening_a_freeze_records_both_dates(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        f = await freeze_membership(
            client, manager, membership["id"], date(2026, 4, 1), date(2026, 4, 14)
        )
        r = await client.patch(
            f"/api/v1/memberships/{membership['id']}/freezes/{f.json()['id']}",
            json={"end_date": "2026-04-10"},
            headers={**bearer(manager), "If-Match": f.headers["ETag"]},
        )
        assert r.status_code == 200, r.text
        [entry] = await trail(client, manager, "membership", membership["id"], "freeze_shortened")
        assert entry["changes"]["freeze_end_date"] == ["2026-04-14", "2026-04-10"]
        assert entry["changes"]["end_date"] == ["2027-03-23", "2027-03-19"]

    async def test_cancelling_a_freeze_records_the_end_date_moving_back(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        f = await freeze_membership(
            client, manager, membership["id"], date(2026, 4, 1), date(2026, 4, 14)
        )
        r = await client.delete(
            f"/api/v1/memberships/{membership['id']}/freezes/{f.json()['id']}",
            headers={**bearer(manager), "If-Match": f.headers["ETag"]},
        )
        assert r.status_code == 200, r.text
        [entry] = await trail(client, manager, "membership", membership["id"], "freeze_cancelled")
        assert entry["changes"]["end_date"] == ["2027-03-23", "2027-03-09"]

    async def test_cancelling_a_membership_records_when_and_why(
        self, client: AsyncClient, manager: str, membership: dict[str, Any]
    ) -> None:
        got = await client.get(f"/api/v1/memberships/{membership['id']}", headers=bearer(manager))
        r = await client.post(
            f"/api/v1/memberships/{membership['id']}/cancel",
            json={"reason": "Moved away"},
            headers={**bearer(manager), "If-Match": got.headers["ETag"]},
        )
        assert r.status_code == 200, r.text
        [entry] = await trail(client, manager, "membership", membership["id"], "cancelled")
        assert entry["changes"]["cancel_reason"] == [None, "Moved away"]

    async def test_bonus_days_record_the_compensation(
        self, client: AsyncClient, db: Database, manager: str, membership: dict[str, Any]
    ) -> None:
        async with db.session_scope() as s:
            m = await s.get(Membership, uuid.UUID(membership["id"]))
            assert m is not None
            await membership_service.add_bonus_days(s, None, m, 7, "goodwill")
        [entry] = await trail(client, manager, "membership", membership["id"], "bonus_days_added")
        assert entry["changes"]["end_date"] == ["2027-03-09", "2027-03-16"]
        assert entry["changes"]["bonus_days"] == [0, 7]
        assert entry["changes"]["reason"] == "goodwill"
        assert entry["actor_label"] == "system"


class TestPlansMembersClubs:
    async def test_a_plan_price_change(
        self, client: AsyncClient, manager: str, club: dict[str, Any]
    ) -> None:
        plan = await create_plan(client, manager, club["id"])
        r = await client.patch(
            f"/api/v1/plans/{plan['id']}", json={"price": 3_900_000}, headers=bearer(manager)
        )
        assert r.status_code == 200, r.text
        [entry] = await trail(client, manager, "plan", plan["id"], "updated")
        assert entry["changes"] == {"price": [3_500_000, 3_900_000]}

    async def test_a_consent_withdrawal(
        self, client: AsyncClient, db: Database, manager: str, club: dict[str, Any]
    ) -> None:
        member = await make_member(db, club["id"], consents={"calls": True})
        r = await client.post(
            f"/api/v1/members/{member.id}/consents",
            json={"purpose": "calls", "granted": False, "source": "desk"},
            headers=bearer(manager),
        )
        assert r.status_code == 201, r.text
        [entry] = await trail(client, manager, "member", str(member.id), "consent_recorded")
        assert entry["changes"]["consent.calls"] == [True, False]

    async def test_the_do_not_contact_flag(
        self, client: AsyncClient, db: Database, manager: str, club: dict[str, Any]
    ) -> None:
        member = await make_member(db, club["id"])
        r = await client.patch(
            f"/api/v1/members/{member.id}", json={"do_not_contact": True}, headers=bearer(manager)
        )
        assert r.status_code == 200, r.text
        [entry] = await trail(client, manager, "member", str(member.id), "updated")
        assert entry["changes"] == {"do_not_contact": [False, True]}

    async def test_a_club_contact_policy_change(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        r = await client.patch(
            f"/api/v1/clubs/{club['id']}",
            json={"quiet_hours_start": "10:00:00"},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200, r.text
        [entry] = await trail(client, admin_token, "club", club["id"], "updated")
        assert entry["changes"]["quiet_hours_start"][1] == "10:00:00"
