"""A meeting's life: read with ETag, confirm, reschedule, hand over, attended / no-show,
cancel; If-Match; which transitions are allowed; and the list."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import freeze
from app.db import Database
from app.models import Event, Meeting, Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import MSK, add_staff, at, book


@pytest.fixture
async def meeting(
    client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
) -> dict[str, Any]:
    r = await book(client, admin_token, club, member, consultant, at(2, 10))
    assert r.status_code == 201
    return dict(r.json())


async def patch(
    client: AsyncClient, token: str, meeting_id: str, body: dict[str, Any], **headers: str
) -> Any:
    return await client.patch(
        f"/api/v1/meetings/{meeting_id}", json=body, headers=bearer(token) | headers
    )


def moscow(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=MSK)


class TestRead:
    async def test_get_returns_the_meeting_and_its_etag(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=bearer(admin_token))
        assert r.status_code == 200
        assert r.json() == meeting
        assert r.headers["etag"] == f'"{uuid.UUID(meeting["id"]).hex}-1"'

    async def test_another_clubs_staff_get_404(
        self, client: AsyncClient, admin_token: str, db: Database, meeting: dict
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        desk = await make_token(db, "front_desk", club_ids=[uuid.UUID(other["id"])])
        r = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=bearer(desk))
        assert (r.status_code, r.json()["code"]) == (404, "meeting_not_found")
        r = await patch(client, desk, meeting["id"], {"status": "cancelled"})
        assert r.status_code == 404

    async def test_a_members_own_app_sees_only_their_meetings(
        self, client: AsyncClient, admin_token: str, club: dict, meeting: dict, member: Member
    ) -> None:
        async def app_token(member_id: uuid.UUID) -> str:
            r = await client.post(
                "/api/v1/tokens",
                json={
                    "name": "member app",
                    "club_id": club["id"],
                    "scopes": ["meetings:read"],
                    "member_id": str(member_id),
                },
                headers=bearer(admin_token),
            )
            return str(r.json()["token"])

        mine = await app_token(member.id)
        theirs = await app_token(uuid.uuid4())
        url = f"/api/v1/meetings/{meeting['id']}"
        assert (await client.get(url, headers=bearer(mine))).status_code == 200
        assert (await client.get(url, headers=bearer(theirs))).status_code == 404
        listed = await client.get("/api/v1/meetings", headers=bearer(theirs))
        assert listed.json()["items"] == []
        listed = await client.get("/api/v1/meetings", headers=bearer(mine))
        assert [m["id"] for m in listed.json()["items"]] == [meeting["id"]]


class TestConfirm:
    async def test_confirming_sets_confirmed_at_and_a_new_etag(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await patch(client, admin_token, meeting["id"], {"status": "confirmed"})
        assert r.status_code == 200
        assert r.json()["status"] == "confirmed"
        assert r.json()["confirmed_at"] == "2026-12-01T09:00:00+03:00"
        assert r.headers["etag"].endswith('-2"')

    async def test_sending_the_current_status_again_changes_nothing(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        await patch(client, admin_token, meeting["id"], {"status": "confirmed"})
        r = await patch(client, admin_token, meeting["id"], {"status": "confirmed"})
        assert r.status_code == 200
        assert r.headers["etag"].endswith('-2"')


class TestIfMatch:
    async def test_a_stale_etag_is_412_and_changes_nothing(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        first = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=bearer(admin_token))
        etag = first.headers["etag"]
        ok = await patch(
            client, admin_token, meeting["id"], {"status": "confirmed"}, **{"If-Match": etag}
        )
        assert ok.status_code == 200
        stale = await patch(
            client, admin_token, meeting["id"], {"status": "cancelled"}, **{"If-Match": etag}
        )
        assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
        now = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=bearer(admin_token))
        assert now.json()["status"] == "confirmed"

    async def test_if_match_can_be_required(
        self, client: AsyncClient, admin_token: str, meeting: dict, app: Any
    ) -> None:
        app.state.settings = app.state.settings.model_copy(update={"require_if_match": True})
        r = await patch(client, admin_token, meeting["id"], {"status": "confirmed"})
        assert (r.status_code, r.json()["code"]) == (428, "precondition_required")


class TestAttendance:
    async def test_attended_is_refused_until_an_hour_before_the_start(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        with freeze(moscow(2, 8, 59)):
            r = await patch(client, admin_token, meeting["id"], {"status": "attended"})
            assert (r.status_code, r.json()["code"]) == (422, "meeting_not_started")
            r = await patch(client, admin_token, meeting["id"], {"status": "no_show"})
            assert (r.status_code, r.json()["code"]) == (422, "meeting_not_started")
        with freeze(moscow(2, 9)):
            r = await patch(client, admin_token, meeting["id"], {"status": "attended"})
        assert r.status_code == 200
        assert r.json()["attended_at"] == "2026-12-02T09:00:00+03:00"

    async def test_a_no_show_is_recorded_and_emits_meeting_no_show(
        self, client: AsyncClient, admin_token: str, meeting: dict, db: Database
    ) -> None:
        with freeze(moscow(2, 10, 20)):
            r = await patch(client, admin_token, meeting["id"], {"status": "no_show"})
        assert r.status_code == 200
        assert r.json()["no_show_at"] == "2026-12-02T10:20:00+03:00"
        async with db.sessionmaker() as s:
            event = (await s.scalars(select(Event).where(Event.type == "meeting.no_show"))).one()
        assert event.data["meeting_id"] == meeting["id"]
        assert event.data["member_id"] == meeting["member_id"]
        assert event.data["no_show_at"].startswith("2026-12-02T07:20:00")

    async def test_a_late_member_after_a_no_show_is_attended(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        with freeze(moscow(2, 10, 20)):
            await patch(client, admin_token, meeting["id"], {"status": "no_show"})
            r = await patch(client, admin_token, meeting["id"], {"status": "attended"})
        assert r.json()["status"] == "attended"
        assert r.json()["no_show_at"] is None

    async def test_a_late_member_cannot_take_time_given_away_since(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, db: Database
    ) -> None:
        members = [await make_member(db, club["id"]) for _ in range(2)]
        early = await book(client, admin_token, club, members[0], consultant, at(1, 10))
        with freeze(moscow(1, 9, 30)):
            await patch(client, admin_token, early.json()["id"], {"status": "no_show"})
            walk_in = await book(client, admin_token, club, members[1], consultant, at(1, 10))
            assert walk_in.status_code == 201
            r = await patch(client, admin_token, early.json()["id"], {"status": "attended"})
        assert (r.status_code, r.json()["code"]) == (409, "slot_taken")


class TestTransitions:
    @pytest.mark.parametrize(
        ("first", "then"),
        [
            ("cancelled", "confirmed"),
            ("cancelled", "attended"),
            ("attended", "cancelled"),
            ("attended", "no_show"),
            ("no_show", "cancelled"),
            ("confirmed", "booked"),
        ],
    )
    async def test_invalid_transitions_are_409(
        self, client: AsyncClient, admin_token: str, meeting: dict, first: str, then: str
    ) -> None:
        with freeze(moscow(2, 10)):
            assert (
                await patch(client, admin_token, meeting["id"], {"status": first})
            ).status_code == 200
            r = await patch(client, admin_token, meeting["id"], {"status": then})
        if then == "booked":
            assert r.status_code == 422  # not a status a client may set
            return
        assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")

    async def test_cancelling_keeps_the_reason(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await patch(
            client,
            admin_token,
            meeting["id"],
            {"status": "cancelled", "cancel_reason": "Member is travelling"},
        )
        assert r.json()["cancel_reason"] == "Member is travelling"
        assert r.json()["cancelled_at"] == "2026-12-01T09:00:00+03:00"

    async def test_a_cancel_reason_without_cancelling_is_refused(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await patch(client, admin_token, meeting["id"], {"cancel_reason": "x"})
        assert r.status_code == 422


class TestReschedule:
    async def test_moving_to_a_free_time_unconfirms_the_meeting(
        self, client: AsyncClient, admin_token: str, meeting: dict, db: Database
    ) -> None:
        await patch(client, admin_token, meeting["id"], {"status": "confirmed"})
        r = await patch(client, admin_token, meeting["id"], {"starts_at": at(3, 12)})
        assert r.status_code == 200
        assert r.json()["starts_at"] == "2026-12-03T12:00:00+03:00"
        assert r.json()["ends_at"] == "2026-12-03T12:30:00+03:00"
        assert (r.json()["status"], r.json()["confirmed_at"]) == ("booked", None)
        async with db.sessionmaker() as s:
            row = await s.get(Meeting, uuid.UUID(meeting["id"]))
        assert row is not None
        assert row.blocked_until == row.ends_at

    async def test_moving_and_confirming_at_once(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await patch(
            client, admin_token, meeting["id"], {"starts_at": at(3, 12), "status": "confirmed"}
        )
        assert r.json()["status"] == "confirmed"

    async def test_moving_over_its_own_time_is_no_conflict(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await patch(client, admin_token, meeting["id"], {"starts_at": at(2, 10, 15)})
        assert r.status_code == 200

    async def test_moving_onto_a_taken_slot_is_409(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        meeting: dict,
        db: Database,
    ) -> None:
        other = await make_member(db, club["id"])
        await book(client, admin_token, club, other, consultant, at(2, 12), purpose="feedback")
        r = await patch(client, admin_token, meeting["id"], {"starts_at": at(2, 12, 15)})
        assert (r.status_code, r.json()["code"]) == (409, "slot_taken")
        got = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=bearer(admin_token))
        assert got.json()["starts_at"] == meeting["starts_at"]

    async def test_moving_follows_the_booking_rules(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await patch(client, admin_token, meeting["id"], {"starts_at": at(2, 23)})
        assert (r.status_code, r.json()["code"]) == (422, "outside_working_hours")
        r = await patch(client, admin_token, meeting["id"], {"starts_at": at(1, 8)})
        assert (r.status_code, r.json()["code"]) == (422, "starts_in_past")

    async def test_a_cancelled_meeting_cannot_be_moved(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        await patch(client, admin_token, meeting["id"], {"status": "cancelled"})
        r = await patch(client, admin_token, meeting["id"], {"starts_at": at(3, 12)})
        assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")

    async def test_moving_and_cancelling_at_once_is_refused(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await patch(
            client, admin_token, meeting["id"], {"starts_at": at(3, 12), "status": "cancelled"}
        )
        assert r.status_code == 422

    async def test_handing_over_to_another_consultant(
        self, client: AsyncClient, admin_token: str, club: dict, meeting: dict
    ) -> None:
        second = await add_staff(client, admin_token, club, name="Second")
        caller = await add_staff(client, admin_token, club, "caller", name="Carl")
        r = await patch(client, admin_token, meeting["id"], {"consultant_id": caller})
        assert (r.status_code, r.json()["code"]) == (422, "consultant_not_eligible")
        r = await patch(client, admin_token, meeting["id"], {"consultant_id": second})
        assert r.status_code == 200
        assert r.json()["consultant_id"] == second
        assert r.json()["starts_at"] == meeting["starts_at"]

    async def test_null_for_a_required_field_is_refused(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        for field in ("starts_at", "status", "consultant_id"):
            r = await patch(client, admin_token, meeting["id"], {field: None})
            assert r.status_code == 422, field


class TestList:
    async def test_filters_and_pages(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, db: Database
    ) -> None:
        second = await add_staff(client, admin_token, club, name="Second")
        members = [await make_member(db, club["id"]) for _ in range(3)]
        ids = []
        for i, (m, c) in enumerate(zip(members, (consultant, second, consultant), strict=True)):
            r = await book(client, admin_token, club, m, c, at(2 + i, 10))
            ids.append(r.json()["id"])
        await patch(client, admin_token, ids[2], {"status": "cancelled"})

        async def listed(**params: Any) -> list[str]:
            r = await client.get("/api/v1/meetings", params=params, headers=bearer(admin_token))
            assert r.status_code == 200, r.text
            return [m["id"] for m in r.json()["items"]]

        assert await listed(club_id=club["id"]) == ids
        assert await listed(consultant_id=consultant) == [ids[0], ids[2]]
        assert await listed(member_id=str(members[1].id)) == [ids[1]]
        assert await listed(status="cancelled") == [ids[2]]
        assert await listed(status=["booked", "cancelled"]) == ids
        assert await listed(**{"from": at(3, 0), "to": at(4, 0)}) == [ids[1]]

        first = await client.get("/api/v1/meetings?limit=2", headers=bearer(admin_token))
        cursor = first.json()["next_cursor"]
        rest = await client.get(
            "/api/v1/meetings", params={"limit": 2, "cursor": cursor}, headers=bearer(admin_token)
        )
        assert [m["id"] for m in first.json()["items"] + rest.json()["items"]] == ids
        assert rest.json()["next_cursor"] is None

    async def test_other_clubs_meetings_are_not_listed(
        self, client: AsyncClient, admin_token: str, db: Database, meeting: dict
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        desk = await make_token(db, "front_desk", club_ids=[uuid.UUID(other["id"])])
        r = await client.get("/api/v1/meetings", headers=bearer(desk))
        assert r.json()["items"] == []
        r = await client.get(
            "/api/v1/meetings", params={"club_id": meeting["club_id"]}, headers=bearer(desk)
        )
        assert r.status_code == 404

    async def test_from_needs_an_offset(self, client: AsyncClient, admin_token: str) -> None:
        r = await client.get(
            "/api/v1/meetings", params={"from": "2026-12-01T00:00:00"}, headers=bearer(admin_token)
        )
        assert r.status_code == 422
