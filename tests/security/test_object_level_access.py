"""Object-level authorisation (OWASP API1), generated over every route with an id.

Administrators are chain-wide by design, so the actor is club A's staff member holding
every club role (manager, caller, consultant, front desk, trainer): for them only the
club scope stands between a route and club B's object. Every route that names an object of
club B in its path must answer 404 (never 200, never a 403 that would confirm the object
exists) and change nothing. A route no club role may use answers 403 to both clubs'
staff alike (admin-only; function-level), which the control request shows. A path
parameter this test does not know how to fill fails the test, so a new route cannot
slip past it. GETs by club B's staff are the control: not 404, so the objects are real.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select

from app.db import Database
from app.models import (
    AuditEntry,
    Campaign,
    Complaint,
    Event,
    Member,
    PlaybookEffect,
    Promotion,
    Referral,
)
from app.models import WebhookSubscription as Webhook
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan
from tests.fixtures.meetings import make_meeting
from tests.fixtures.outreach import make_call

# Path parameters that do not name a club's object.
NOT_OBJECTS = {"kind", "name"}
# Routes whose path object is not club-scoped by design (documented in their routes).
CHAIN_WIDE: set[tuple[str, str]] = set()

Objects = dict[str, str]


async def _club_b_objects(client: AsyncClient, db: Database, admin: str) -> tuple[str, Objects]:
    club = await make_club(client, admin, name="Club B")
    club_id = uuid.UUID(club["id"])
    member = await make_member(db, club_id)
    plan = await make_plan(db, club_id)
    today = date.today()
    membership = await make_membership(db, member, plan, start_date=today - timedelta(days=30))
    freeze = await make_freeze(
        db,
        membership,
        start_date=today + timedelta(days=10),
        end_date=today + timedelta(days=20),
    )
    meeting = await make_meeting(
        db, member, starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    )
    r = await client.post(
        "/api/v1/staff",
        json={"name": "Bea Caller", "roles": ["caller"], "club_ids": [club["id"]]},
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    staff_id = r.json()["id"]
    r = await client.post(
        "/api/v1/tokens",
        json={"name": "turnstile B", "club_id": club["id"], "scopes": ["checkins:write"]},
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    token_id = r.json()["id"]
    async with db.session_scope() as s:
        promotion = Promotion(
            club_id=club_id,
            name="Autumn",
            kind="both",
            discount_percent=10,
            plan_ids=[],
            valid_from=today,
            valid_until=today + timedelta(days=30),
        )
        campaign = Campaign(
            club_id=club_id,
            name="News",
            template="promotion_news",
            channel="sms",
            segment={},
            context={},
            status="draft",
        )
        referral = Referral(
            club_id=club_id, referrer_id=member.id, name="Ann", phone="+79991112233"
        )
        webhook = Webhook(
            club_id=club_id,
            url="https://hooks.example.com/b",
            events=["checkin.recorded"],
            secret="s",
        )
        complaint = Complaint(
            club_id=club_id,
            member_id=member.id,
            source="desk",
            category="equipment",
            description="The treadmill is broken",
            severity="medium",
            status="open",
            due_at=datetime.now(UTC) + timedelta(days=3),
        )
        s.add_all([promotion, campaign, referral, webhook, complaint])
    call = await make_call(db, member.id, club_id, membership_id=membership.id)
    async with db.session_scope() as s:
        task = PlaybookEffect(
            club_id=club_id,
            member_id=member.id,
            step_key="call_the_owner",
            anchor=f"membership:{membership.id.hex}",
            action="task",
            title="Call the owner",
            status="open",
            created_at=datetime.now(UTC),
        )
        s.add(task)
    objects = {
        "club_id": club["id"],
        "member_id": str(member.id),
        "plan_id": str(plan.id),
        "membership_id": str(membership.id),
        "freeze_id": str(freeze.id),
        "meeting_id": str(meeting.id),
        "staff_id": staff_id,
        "token_id": token_id,
        "promotion_id": str(promotion.id),
        "campaign_id": str(campaign.id),
        "referral_id": str(referral.id),
        "webhook_id": str(webhook.id),
        "complaint_id": str(complaint.id),
        "call_id": str(call.id),
        "task_id": str(task.id),
        "kind": "visit_plan",
        "name": "lapse_scan",
    }
    return club["id"], objects


def _example_body(spec: dict[str, Any], op: dict[str, Any]) -> Any:
    """The documented example of a route's JSON body (a valid body, so that the route
    reaches its object lookup rather than stopping at validation)."""
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return None
    schema = content["schema"]
    ref = schema.get("$ref") or next(
        (s.get("$ref") for s in schema.get("anyOf", []) if "$ref" in s), None
    )
    if ref is None:
        return {}
    component = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    examples = component.get("examples") or []
    return examples[0] if examples else {}


async def _counts(db: Database) -> tuple[int, ...]:
    async with db.sessionmaker() as s:
        return tuple(
            [
                int(await s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (AuditEntry, Event, Member)
            ]
        )


async def test_every_route_with_an_id_refuses_another_clubs_object(
    client: AsyncClient, db: Database, admin_token: str
) -> None:
    spec = (await client.get("/openapi.json")).json()
    club_a = await make_club(client, admin_token, name="Club A")
    club_b_id, objects = await _club_b_objects(client, db, admin_token)
    roles = ("manager", "caller", "consultant", "front_desk", "trainer")
    admin_a = await make_token(db, *roles, club_ids=[uuid.UUID(club_a["id"])], name="Staff A")
    admin_b = await make_token(db, *roles, club_ids=[uuid.UUID(club_b_id)], name="Staff B")

    checked: list[str] = []
    admin_only: list[str] = []
    for path, ops in spec["paths"].items():
        params = re.findall(r"\{([^}]+)\}", path)
        if not path.startswith("/api/v1/") or not set(params) - NOT_OBJECTS:
            continue
        unknown = [p for p in params if p not in objects]
        assert not unknown, f"{path}: no club-B object for {unknown}; add one to this test"
        url = re.sub(r"\{([^}]+)\}", lambda m: objects[m.group(1)], path)
        for method, op in ops.items():
            if (method.upper(), path) in CHAIN_WIDE:
                continue
            body = _example_body(spec, op)
            before = await _counts(db)
            r = await client.request(method.upper(), url, json=body, headers=bearer(admin_a))
            if r.status_code == 403:
                # Admin-only: club B's own staff are refused the same way.
                control = await client.request(
                    method.upper(), url, json=body, headers=bearer(admin_b)
                )
                assert control.status_code == 403, f"{method.upper()} {path}: 403 only for A"
                assert await _counts(db) == before
                admin_only.append(f"{method.upper()} {path}")
                continue
            assert r.status_code == 404, (
                f"{method.upper()} {path} let club A's admin reach club B's object: "
                f"{r.status_code} {r.text[:200]}"
            )
            assert r.headers["content-type"].startswith("application/problem+json")
            assert await _counts(db) == before, f"{method.upper()} {path} changed data"
            checked.append(f"{method.upper()} {path}")
            if method == "get":
                control = await client.get(url, headers=bearer(admin_b))
                # Club B's staff get past the object lookup (a 404 about something else,
                # e.g. no onboarding yet, is past it).
                assert control.status_code != 404 or control.json()["code"] != r.json()["code"], (
                    f"GET {path}: control got {control.text[:200]}, bad fixture"
                )
    assert len(checked) >= 30, checked
    assert len(admin_only) < len(checked) / 4, admin_only
