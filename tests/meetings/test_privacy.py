"""A member's meetings in the privacy acts: exported, and on erasure the free text goes,
times and outcomes stay, and upcoming meetings are called off."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from httpx import AsyncClient

from app.core.clock import freeze
from app.models import Member
from tests.fixtures.factories import bearer
from tests.fixtures.meetings import MSK, at, book


async def test_meetings_are_exported_and_their_free_text_erased(
    client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
) -> None:
    h = bearer(admin_token)
    done = (await book(client, admin_token, club, member, consultant, at(2, 10))).json()
    with freeze(datetime(2026, 12, 2, 10, 20, tzinfo=MSK)):
        await client.post(
            f"/api/v1/meetings/{done['id']}/outcome",
            json={"result": "declined", "decline_reason": "moved", "notes": "Moving to Kazan"},
            headers=h,
        )
        upcoming = await book(
            client, admin_token, club, member, consultant, at(9, 10), purpose="feedback"
        )
        exported = await client.get(f"/api/v1/members/{member.id}/export", headers=h)
        section: list[dict[str, Any]] = exported.json()["sections"]["meetings"]
        assert [m["id"] for m in section] == [done["id"], upcoming.json()["id"]]
        assert section[0]["outcome_notes"] == "Moving to Kazan"

        assert (await client.delete(f"/api/v1/members/{member.id}", headers=h)).status_code == 204
        past = (await client.get(f"/api/v1/meetings/{done['id']}", headers=h)).json()
        later = (await client.get(f"/api/v1/meetings/{upcoming.json()['id']}", headers=h)).json()
    assert past["outcome"]["notes"] == "[erased]"
    assert (past["outcome"]["result"], past["outcome"]["decline_reason"]) == ("declined", "moved")
    assert (past["status"], past["starts_at"]) == ("attended", done["starts_at"])
    assert (later["status"], later["cancel_reason"]) == ("cancelled", "[erased]")
