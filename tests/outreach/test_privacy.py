"""A member's calls in the privacy acts: exported; on erasure call and attempt notes go,
the rows (kinds, outcomes, times) stay for the counts, and the open call is cancelled."""

from __future__ import annotations

from httpx import AsyncClient

from app.db import Database
from app.models import CallAttempt, Member, ServiceCall
from tests.fixtures.factories import bearer
from tests.fixtures.outreach import make_call
from tests.outreach.helpers import attempts_of, call_row, count, post_attempt, post_call


async def test_calls_are_exported_and_their_notes_erased(
    client: AsyncClient, db: Database, admin_token: str, member: Member
) -> None:
    h = bearer(admin_token)
    done = await make_call(db, member.id, member.club_id, kind="feedback")
    r = await post_attempt(
        client, admin_token, done.id, "declined", decline_reason="health", notes="Knee surgery"
    )
    assert r.status_code == 201, r.text
    opened = await post_call(client, admin_token, member.id, "renewal", notes="Has two kids")
    assert opened.status_code == 201, opened.text

    exported = (await client.get(f"/api/v1/members/{member.id}/export", headers=h)).json()
    calls = exported["sections"]["service_calls"]
    assert {c["id"] for c in calls} == {str(done.id), opened.json()["id"]}
    assert "Has two kids" in {c["notes"] for c in calls}
    (attempt,) = exported["sections"]["call_attempts"]
    assert attempt["notes"] == "Knee surgery"

    assert (await client.delete(f"/api/v1/members/{member.id}", headers=h)).status_code == 204
    (erased_attempt,) = await attempts_of(db, done.id)
    assert erased_attempt.notes == "[erased]"
    assert (erased_attempt.outcome, erased_attempt.decline_reason) == ("declined", "health")
    still_open = await call_row(db, opened.json()["id"])
    assert still_open.notes == "[erased]"
    assert (still_open.status, still_open.close_reason) == ("cancelled", "opted_out")
    assert await count(db, ServiceCall) == 2
    assert await count(db, CallAttempt) == 1
