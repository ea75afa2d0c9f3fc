"""A campaign for a promotion reaches the members who may use it (the promotions
domain's set-based audience) and names it in general terms with its end date."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from httpx import AsyncClient

from app.db import Database
from app.models import Member, Plan, Promotion, PromotionUse
from tests.campaigns.conftest import URL, create, created, current_member, messages, snapshot
from tests.fixtures.factories import bearer
from tests.fixtures.ledger import make_membership, make_plan
from tests.memberships.helpers import problem


async def make_promotion(db: Database, club_id: uuid.UUID, **overrides: Any) -> Promotion:
    values: dict[str, Any] = {
        "club_id": club_id,
        "name": "Spring renewal weeks",
        "kind": "both",
        "discount_percent": 10,
        "plan_ids": [],
        "valid_from": date(2026, 3, 1),
        "valid_until": date(2026, 4, 30),
    }
    values.update(overrides)
    async with db.session_scope() as s:
        promotion = Promotion(**values)
        s.add(promotion)
    return promotion


async def use(db: Database, promotion: Promotion, member: Member, plan: Plan) -> None:
    m = await make_membership(db, member, plan, start_date=date(2026, 9, 1), source="renewal")
    async with db.session_scope() as s:
        s.add(
            PromotionUse(
                club_id=promotion.club_id,
                promotion_id=promotion.id,
                member_id=member.id,
                membership_id=m.id,
                used_at=datetime(2026, 3, 1, tzinfo=UTC),
            )
        )


async def preview(client: AsyncClient, token: str, campaign_id: str) -> dict[str, Any]:
    r = await client.post(f"{URL}/{campaign_id}/preview", headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def segment(promotion: Promotion) -> dict[str, Any]:
    return {"context": {}, "segment": {"promotion_id": str(promotion.id)}}


async def test_a_renewal_offer_reaches_members_who_can_still_renew_early_enough(
    client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
) -> None:
    promotion = await make_promotion(db, club_id, kind="renewal", early_renewal_days=30)
    await current_member(db, club_id, plan, last_name="EndsIn40", end=date(2026, 4, 19))
    await current_member(db, club_id, plan, last_name="EndsIn30", end=date(2026, 4, 9))
    await current_member(db, club_id, plan, last_name="EndsIn29", end=date(2026, 4, 8))
    campaign = await created(client, manager, club_id, **segment(promotion))
    body = await preview(client, manager, campaign["id"])
    assert {m["last_name"] for m in body["sample"]} == {"EndsIn40", "EndsIn30"}


async def test_members_at_their_per_member_limit_are_left_out(
    client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
) -> None:
    promotion = await make_promotion(db, club_id, max_uses_per_member=1)
    await current_member(db, club_id, plan, last_name="Fresh")
    used = await current_member(db, club_id, plan, last_name="UsedIt")
    await use(db, promotion, used, plan)
    campaign = await created(client, manager, club_id, **segment(promotion))
    body = await preview(client, manager, campaign["id"])
    assert {m["last_name"] for m in body["sample"]} == {"Fresh"}


async def test_a_promotion_used_up_after_the_campaign_was_made_reaches_no_one(
    client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
) -> None:
    promotion = await make_promotion(db, club_id, max_uses=1)
    member = await current_member(db, club_id, plan)
    campaign = await created(client, manager, club_id, **segment(promotion))
    assert (await preview(client, manager, campaign["id"]))["count"] == 1
    await use(db, promotion, member, plan)
    assert (await preview(client, manager, campaign["id"]))["count"] == 0
    r = await client.post(f"{URL}/{campaign['id']}/send", headers=bearer(manager))
    assert r.json() == {"queued": 0, "suppressed": {}, "deferred": {}}


async def test_the_message_names_the_promotion_and_its_end_date_only(
    client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
) -> None:
    promotion = await make_promotion(db, club_id)
    await current_member(db, club_id, plan)
    campaign = await created(client, manager, club_id, **segment(promotion))
    assert campaign["context"] == {
        "promotion_name": "Spring renewal weeks",
        "valid_until": "2026-04-30",
    }
    await client.post(f"{URL}/{campaign['id']}/send", headers=bearer(manager))
    [message] = await messages(db)
    assert "Spring renewal weeks" in message.body
    assert "2026-04-30" in message.body
    assert "10" not in message.body.replace("2026-04-30", "")


async def test_an_ended_promotion_is_refused(
    client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
) -> None:
    promotion = await make_promotion(
        db, club_id, valid_from=date(2026, 2, 1), valid_until=date(2026, 3, 9)
    )
    before = await snapshot(db)
    r = await create(client, manager, club_id, **segment(promotion))
    problem(r, 422, "promotion_expired")
    assert await snapshot(db) == before


async def test_a_switched_off_promotion_is_refused(
    client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
) -> None:
    promotion = await make_promotion(db, club_id, active=False)
    problem(
        await create(client, manager, club_id, **segment(promotion)), 422, "promotion_not_eligible"
    )


async def test_another_clubs_promotion_is_not_found(
    client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database, other_club: dict[str, Any]
) -> None:
    theirs = await make_promotion(db, uuid.UUID(other_club["id"]))
    problem(await create(client, manager, club_id, **segment(theirs)), 404, "promotion_not_found")


async def test_a_future_promotion_may_be_announced(
    client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
) -> None:
    promotion = await make_promotion(
        db, club_id, valid_from=date(2026, 4, 1), valid_until=date(2026, 4, 30)
    )
    await current_member(db, club_id, plan)
    campaign = await created(client, manager, club_id, **segment(promotion))
    assert (await preview(client, manager, campaign["id"]))["count"] == 1


async def test_a_chain_wide_plan_does_not_leak_the_promotion_across_clubs(
    client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database, other_club: dict[str, Any]
) -> None:
    shared = await make_plan(db, None)
    promotion = await make_promotion(db, club_id)
    await current_member(db, uuid.UUID(other_club["id"]), shared)
    campaign = await created(client, manager, club_id, **segment(promotion))
    assert (await preview(client, manager, campaign["id"]))["count"] == 0
