"""Notes: what sales and staff learned follows the member into every conversation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.members.service import member_service
from tests.fixtures.factories import bearer, make_token
from tests.members.conftest import MEMBERS, assert_problem, create_member, pointers, snapshot

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def url(member: dict[str, Any]) -> str:
    return f"{MEMBERS}/{member['id']}/notes"


async def add(
    client: AsyncClient, token: str, member: dict[str, Any], kind: str, body: str
) -> dict[str, Any]:
    r = await client.post(url(member), json={"kind": kind, "body": body}, headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestNotes:
    async def test_notes_list_newest_first_with_pages_and_kind_filter(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        m = await create_member(client, admin_token, club)
        bodies = ["first call", "desk chat", "meeting notes", "second call"]
        kinds = ["call", "desk", "meeting", "call"]
        for i, (kind, body) in enumerate(zip(kinds, bodies, strict=True)):
            with freeze(T0 + timedelta(hours=i)):
                await add(client, admin_token, m, kind, body)
        r = await client.get(url(m), params={"limit": 3}, headers=bearer(admin_token))
        page1 = r.json()
        assert [n["body"] for n in page1["items"]] == bodies[::-1][:3]
        r = await client.get(
            url(m), params={"limit": 3, "cursor": page1["next_cursor"]}, headers=bearer(admin_token)
        )
        assert [n["body"] for n in r.json()["items"]] == ["first call"]
        assert r.json()["next_cursor"] is None
        calls = await client.get(url(m), params={"kind": "call"}, headers=bearer(admin_token))
        assert [n["body"] for n in calls.json()["items"]] == ["second call", "first call"]

    async def test_author_is_the_principals_staff(
        self, client: AsyncClient, db: Database, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[club["id"]], name="Carl Caller")
        note = await add(client, caller, member, "call", "Wants a Saturday meeting.")
        staff = (await client.get("/api/v1/staff", headers=bearer(caller))).json()["items"]
        carl = next(s for s in staff if s["name"] == "Carl Caller")
        assert note["author_staff_id"] == carl["id"]
        assert note["member_id"] == member["id"]

    async def test_later_handoff_notes_reach_the_member_card_newest_first(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        with freeze(T0):
            m = await create_member(client, admin_token, club, notes="Sales: knee injury in 2024.")
        with freeze(T0 + timedelta(days=1)):
            await add(client, admin_token, m, "handoff", "Upgrade sale: wants the pool too.")
            await add(client, admin_token, m, "desk", "Lost locker key.")
        card = (await client.get(f"{MEMBERS}/{m['id']}", headers=bearer(admin_token))).json()
        assert [n["body"] for n in card["handoff_notes"]] == [
            "Upgrade sale: wants the pool too.",
            "Sales: knee injury in 2024.",
        ]

    async def test_handoff_notes_for_many_members_in_one_call(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        a = await create_member(client, admin_token, club, notes="A's note")
        b = await create_member(client, admin_token, club, first_name="Olga")
        async with db.sessionmaker() as s:
            notes = await member_service.handoff_notes(s, [uuid.UUID(a["id"]), uuid.UUID(b["id"])])
        assert [n.body for n in notes[uuid.UUID(a["id"])]] == ["A's note"]
        assert notes[uuid.UUID(b["id"])] == []

    async def test_member_card_shows_at_most_twenty_handoff_notes(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        m = await create_member(client, admin_token, club)
        for i in range(22):
            with freeze(T0 + timedelta(minutes=i)):
                await add(client, admin_token, m, "handoff", f"note {i}")
        card = (await client.get(f"{MEMBERS}/{m['id']}", headers=bearer(admin_token))).json()
        assert len(card["handoff_notes"]) == 20
        assert card["handoff_notes"][0]["body"] == "note 21"
        everything = await client.get(
            url(m), params={"kind": "handoff"}, headers=bearer(admin_token)
        )
        assert len(everything.json()["items"]) == 22

    @pytest.mark.parametrize(
        ("body", "pointer"),
        [
            ({"kind": "gossip", "body": "x"}, "/kind"),
            ({"kind": "desk", "body": ""}, "/body"),
            ({"kind": "desk", "body": "   "}, "/body"),
            ({"kind": "desk", "body": "x" * 5001}, "/body"),
            ({"kind": "desk", "body": "bad\x00byte"}, "/body"),
            ({"kind": "desk", "body": "x", "author_staff_id": None}, "/author_staff_id"),
        ],
    )
    async def test_bad_note_is_refused_and_writes_nothing(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        member: dict[str, Any],
        body: dict[str, Any],
        pointer: str,
    ) -> None:
        before = await snapshot(db)
        r = await client.post(url(member), json=body, headers=bearer(admin_token))
        assert_problem(r, 422, "validation_error")
        assert pointer in pointers(r)
        assert await snapshot(db) == before

    async def test_multiline_and_emoji_bodies_round_trip(
        self, client: AsyncClient, admin_token: str, member: dict[str, Any]
    ) -> None:
        text = "Line one\nLine two — שלום 👋🏾"
        note = await add(client, admin_token, member, "desk", text)
        assert note["body"] == text

    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, db: Database, club: dict[str, Any], outsider: dict[str, Any]
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        before = await snapshot(db)
        r = await client.post(
            url(outsider), json={"kind": "desk", "body": "x"}, headers=bearer(desk)
        )
        assert_problem(r, 404, "member_not_found")
        assert_problem(
            await client.get(url(outsider), headers=bearer(desk)), 404, "member_not_found"
        )
        assert await snapshot(db) == before
