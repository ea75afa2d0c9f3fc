"""Creating a campaign: what is checked up front, and that a refusal writes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import Plan
from tests.campaigns.conftest import NOW, URL, create, created, snapshot
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_plan
from tests.memberships.helpers import problem


class TestCreate:
    async def test_a_campaign_without_send_at_is_a_draft(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan
    ) -> None:
        segment = {"plan_ids": [str(plan.id)], "interests": ["pool"], "birthday_month": 3}
        r = await create(client, manager, club_id, segment=segment)
        assert r.status_code == 201, r.text
        body = r.json()
        assert r.headers["location"] == f"/api/v1/campaigns/{body['id']}"
        assert (body["status"], body["send_at"], body["sent_at"]) == ("draft", None, None)
        assert body["segment"] == segment
        assert body["context"]["promotion_name"] == "Spring swim weeks"

    async def test_a_campaign_with_send_at_is_scheduled(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID
    ) -> None:
        body = await created(
            client, manager, club_id, send_at=(NOW + timedelta(hours=2)).isoformat()
        )
        assert body["status"] == "scheduled"

    async def test_it_is_read_back_and_listed(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID
    ) -> None:
        body = await created(client, manager, club_id)
        r = await client.get(f"{URL}/{body['id']}", headers=bearer(manager))
        assert r.status_code == 200, r.text
        assert (r.json()["results"], r.json()["renewals"]) == (None, None)
        r = await client.get(URL, params={"club_id": str(club_id)}, headers=bearer(manager))
        assert [c["id"] for c in r.json()["items"]] == [body["id"]]


class TestRefused:
    async def test_a_channel_without_a_marketing_consent_is_refused(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await create(client, manager, club_id, channel="call")
        body = problem(r, 422, "channel_without_consent")
        assert body["errors"] == [{"pointer": "/channel", "detail": "no marketing consent purpose"}]
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"template": "thank_you", "context": {}}, "template_category_mismatch"),
            ({"template": "no_such_template"}, "unknown_template"),
            ({"context": {"promotion_name": "Spring"}}, "template_error"),
            (
                {"context": {**{"promotion_name": "x", "valid_until": "y"}, "extra": "z"}},
                "template_error",
            ),
            ({"channel": "fax"}, "validation_error"),
            ({"segment": {"ending_within_days": -1}}, "validation_error"),
            ({"segment": {"birthday_month": 13}}, "validation_error"),
            ({"segment": {"interests": []}}, "validation_error"),
            ({"segment": {"risk": ["at_risk"]}}, "validation_error"),
            ({"send_at": "2026-03-10T08:00:00+00:00"}, "validation_error"),
            ({"send_at": "2026-03-12T10:00:00"}, "validation_error"),
            ({"name": ""}, "validation_error"),
        ],
    )
    async def test_bad_campaigns_are_refused_and_nothing_is_written(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        db: Database,
        overrides: dict[str, Any],
        code: str,
    ) -> None:
        before = await snapshot(db)
        problem(await create(client, manager, club_id, **overrides), 422, code)
        assert await snapshot(db) == before

    async def test_a_plan_of_another_club_in_the_segment_is_refused(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        theirs = await make_plan(db, other_club["id"])
        chain_wide = await make_plan(db, None)
        before = await snapshot(db)
        r = await create(
            client, manager, club_id, segment={"plan_ids": [str(chain_wide.id), str(theirs.id)]}
        )
        body = problem(r, 422, "validation_error")
        assert body["errors"] == [{"pointer": "/segment/plan_ids/1", "detail": "unknown plan"}]
        assert await snapshot(db) == before

    async def test_another_clubs_campaigns_are_not_found(
        self,
        client: AsyncClient,
        manager: str,
        admin_token: str,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        problem(await create(client, manager, other_club["id"]), 404, "club_not_found")
        theirs = await created(client, admin_token, other_club["id"])
        for r in (
            await client.get(f"{URL}/{theirs['id']}", headers=bearer(manager)),
            await client.post(f"{URL}/{theirs['id']}/preview", headers=bearer(manager)),
            await client.post(f"{URL}/{theirs['id']}/send", headers=bearer(manager)),
        ):
            problem(r, 404, "campaign_not_found")

    async def test_front_desk_and_callers_may_not_run_campaigns(
        self, client: AsyncClient, club_id: uuid.UUID, db: Database
    ) -> None:
        for role in ("front_desk", "caller", "trainer"):
            token = await make_token(db, role, club_ids=[club_id])
            problem(await create(client, token, club_id), 403, "forbidden")
