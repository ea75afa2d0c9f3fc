"""Booking a meeting: who, when, and never twice at once (consultant or member)."""

from __future__ import annotations

import uuid

from httpx import AsyncClient
from sqlalchemy import func, select

from app.db import Database
from app.models import AuditEntry, Event, Meeting, Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import add_staff, at, book, booking
from tests.fixtures.outreach import make_call
from tests.working_hours.test_router import put


async def meetings(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Meeting)) or 0)


class TestBook:
    async def test_booking_returns_the_meeting_with_etag_and_location(
        self,
        client: AsyncClient,
        db: Database,
        desk_token: str,
        club: dict,
        consultant: str,
        member: Member,
    ) -> None:
        call_id = str((await make_call(db, member.id, member.club_id)).id)
        r = await book(client, desk_token, club, member, consultant, at(2, 10), call_id=call_id)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "booked"
        assert body["starts_at"] == "2026-12-02T10:00:00+03:00"
        assert body["ends_at"] == "2026-12-02T10:30:00+03:00"
        assert body["call_id"] == call_id
        assert body["member_id"] == str(member.id)
        assert body["outcome"] is None
        assert r.headers["etag"] == f'"{uuid.UUID(body["id"]).hex}-1"'
        assert r.headers["location"] == f"/api/v1/meetings/{body['id']}"

    async def test_a_call_that_is_not_the_members_is_refused(
        self,
        client: AsyncClient,
        db: Database,
        desk_token: str,
        club: dict,
        consultant: str,
        member: Member,
    ) -> None:
        other = await make_member(db, member.club_id)
        foreign = str((await make_call(db, other.id, other.club_id)).id)
        for call_id in (str(uuid.uuid4()), foreign):
            r = await book(client, desk_token, club, member, consultant, at(2, 10), call_id=call_id)
            assert r.status_code == 422, r.text
            assert r.json()["code"] == "call_mismatch"
        assert await meetings(db) == 0

    async def test_an_instant_in_any_offset_is_the_same_meeting(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        r = await book(client, admin_token, club, member, consultant, "2026-12-02T07:00:00Z")
        assert r.json()["starts_at"] == "2026-12-02T10:00:00+03:00"

    async def test_booking_emits_meeting_booked_and_is_audited(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        r = await book(client, admin_token, club, member, consultant, at(2, 10))
        async with db.sessionmaker() as s:
            event = (await s.scalars(select(Event).where(Event.type == "meeting.booked"))).one()
            audit = (
                await s.scalars(select(AuditEntry).where(AuditEntry.entity == "meeting"))
            ).one()
        assert event.club_id == uuid.UUID(club["id"])
        assert event.data["meeting_id"] == r.json()["id"]
        assert event.data["member_id"] == str(member.id)
        assert event.data["consultant_id"] == consultant
        assert event.data["purpose"] == "renewal"
        assert audit.action == "booked"

    async def test_a_replay_with_the_same_idempotency_key_books_once(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        h = bearer(admin_token) | {"Idempotency-Key": "book-1"}
        body = booking(club, member, consultant, at(2, 10))
        first = await client.post("/api/v1/meetings", json=body, headers=h)
        second = await client.post("/api/v1/meetings", json=body, headers=h)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["etag"] == first.headers["etag"]
        assert await meetings(db) == 1


class TestConsultantIsNeverDoubleBooked:
    async def test_an_overlapping_meeting_is_slot_taken(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        assert (
            await book(client, admin_token, club, member, consultant, at(2, 10))
        ).status_code == 201
        other = await make_member(db, club["id"])
        r = await book(client, admin_token, club, other, consultant, at(2, 10, 15))
        assert r.status_code == 409
        assert r.json()["code"] == "slot_taken"
        assert await meetings(db) == 1

    async def test_back_to_back_meetings_are_fine_without_a_buffer(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        await book(client, admin_token, club, member, consultant, at(2, 10))
        other = await make_member(db, club["id"])
        r = await book(
            client, admin_token, club, other, consultant, at(2, 10, 30), purpose="feedback"
        )
        assert r.status_code == 201

    async def test_the_buffer_applies_on_both_sides(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        club = await make_club(
            client, admin_token, meeting_settings={"slot_minutes": 30, "buffer_minutes": 15}
        )
        consultant = await add_staff(client, admin_token, club)
        members = [await make_member(db, club["id"]) for _ in range(4)]
        assert (
            await book(client, admin_token, club, members[0], consultant, at(2, 10))
        ).status_code == 201
        after = await book(client, admin_token, club, members[1], consultant, at(2, 10, 30))
        before = await book(client, admin_token, club, members[2], consultant, at(2, 9, 30))
        assert (after.status_code, after.json()["code"]) == (409, "slot_taken")
        assert (before.status_code, before.json()["code"]) == (409, "slot_taken")
        ok = await book(client, admin_token, club, members[3], consultant, at(2, 10, 45))
        assert ok.status_code == 201

    async def test_a_cancelled_meeting_frees_its_slot(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        r = await book(client, admin_token, club, member, consultant, at(2, 10))
        await client.patch(
            f"/api/v1/meetings/{r.json()['id']}",
            json={"status": "cancelled"},
            headers=bearer(admin_token),
        )
        other = await make_member(db, club["id"])
        assert (
            await book(client, admin_token, club, other, consultant, at(2, 10))
        ).status_code == 201

    async def test_other_consultants_are_independent(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        second = await add_staff(client, admin_token, club, name="Second")
        await book(client, admin_token, club, member, consultant, at(2, 10))
        other = await make_member(db, club["id"])
        assert (await book(client, admin_token, club, other, second, at(2, 10))).status_code == 201


class TestMemberHasOneMeetingAtATime:
    async def test_a_second_upcoming_renewal_meeting_is_refused(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        first = await book(client, admin_token, club, member, consultant, at(2, 10))
        r = await book(client, admin_token, club, member, consultant, at(9, 12))
        assert r.status_code == 409
        assert r.json()["code"] == "member_has_meeting"
        assert r.json()["meeting_id"] == first.json()["id"]
        assert await meetings(db) == 1

    async def test_other_purposes_may_be_booked_besides_a_renewal(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        await book(client, admin_token, club, member, consultant, at(2, 10))
        r = await book(client, admin_token, club, member, consultant, at(3, 10), purpose="feedback")
        assert r.status_code == 201

    async def test_a_member_is_never_in_two_meetings_at_once(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        second = await add_staff(client, admin_token, club, name="Second")
        await book(client, admin_token, club, member, consultant, at(2, 10), purpose="feedback")
        r = await book(
            client, admin_token, club, member, second, at(2, 10, 15), purpose="plan_change"
        )
        assert r.status_code == 409
        assert r.json()["code"] == "member_has_meeting"

    async def test_after_cancelling_a_new_renewal_meeting_can_be_booked(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        r = await book(client, admin_token, club, member, consultant, at(2, 10))
        await client.patch(
            f"/api/v1/meetings/{r.json()['id']}",
            json={"status": "cancelled"},
            headers=bearer(admin_token),
        )
        assert (
            await book(client, admin_token, club, member, consultant, at(3, 10))
        ).status_code == 201


class TestWhen:
    async def test_outside_opening_hours_is_refused(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        for starts_at in (at(2, 6, 30), at(2, 21, 45), at(2, 23)):
            r = await book(client, admin_token, club, member, consultant, starts_at)
            assert r.status_code == 422, starts_at
            assert r.json()["code"] == "outside_working_hours"

    async def test_outside_the_consultants_hours_is_refused(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        await put(
            client,
            admin_token,
            consultant,
            club,
            {
                "weekly": [{"weekday": 3, "starts": "12:00", "ends": "16:00"}],
                "exceptions": [{"date": "2026-12-09", "hours": []}],
            },
        )
        refused = [at(2, 11, 30), at(2, 15, 45), at(3, 12), at(9, 12)]  # last: a day off
        for starts_at in refused:
            r = await book(client, admin_token, club, member, consultant, starts_at)
            assert (r.status_code, r.json()["code"]) == (422, "outside_working_hours"), starts_at
        assert await meetings(db) == 0
        ok = await book(client, admin_token, club, member, consultant, at(2, 15, 30))
        assert ok.status_code == 201

    async def test_the_past_is_refused(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        r = await book(client, admin_token, club, member, consultant, at(1, 8, 30))
        assert r.status_code == 422
        assert r.json()["code"] == "starts_in_past"

    async def test_starts_at_needs_an_offset_and_a_whole_minute(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        for starts_at in ("2026-12-02T10:00:00", "2026-12-02T10:00:30+03:00"):
            r = await book(client, admin_token, club, member, consultant, starts_at)
            assert r.status_code == 422
            assert r.json()["code"] == "validation_error"
            assert r.json()["errors"][0]["pointer"] == "/starts_at"

    async def test_an_unknown_purpose_is_refused(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        r = await book(client, admin_token, club, member, consultant, at(2, 10), purpose="sale")
        assert r.status_code == 422


class TestWho:
    async def test_staff_without_the_consultant_role_are_not_eligible(
        self, client: AsyncClient, admin_token: str, club: dict, member: Member
    ) -> None:
        caller = await add_staff(client, admin_token, club, "caller", name="Carl")
        trainer = await add_staff(client, admin_token, club, "trainer", name="Tim")
        for staff_id in (caller, trainer):
            r = await book(client, admin_token, club, member, staff_id, at(2, 10))
            assert r.status_code == 422
            assert r.json()["code"] == "consultant_not_eligible"

    async def test_trainers_take_onboarding_meetings(
        self, client: AsyncClient, admin_token: str, club: dict, member: Member
    ) -> None:
        trainer = await add_staff(client, admin_token, club, "trainer", name="Tim")
        r = await book(client, admin_token, club, member, trainer, at(2, 10), purpose="onboarding")
        assert r.status_code == 201

    async def test_a_consultant_of_another_club_is_not_eligible(
        self, client: AsyncClient, admin_token: str, club: dict, member: Member
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        elsewhere = await add_staff(client, admin_token, other, name="Elsewhere")
        r = await book(client, admin_token, club, member, elsewhere, at(2, 10))
        assert r.json()["code"] == "consultant_not_eligible"

    async def test_an_inactive_consultant_is_not_eligible(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        await client.patch(
            f"/api/v1/staff/{consultant}", json={"active": False}, headers=bearer(admin_token)
        )
        r = await book(client, admin_token, club, member, consultant, at(2, 10))
        assert r.json()["code"] == "consultant_not_eligible"

    async def test_unknown_member_and_consultant_are_404(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        body = booking(club, member, consultant, at(2, 10))
        r = await client.post(
            "/api/v1/meetings",
            json=body | {"member_id": str(uuid.uuid4())},
            headers=bearer(admin_token),
        )
        assert (r.status_code, r.json()["code"]) == (404, "member_not_found")
        r = await client.post(
            "/api/v1/meetings",
            json=body | {"consultant_id": str(uuid.uuid4())},
            headers=bearer(admin_token),
        )
        assert (r.status_code, r.json()["code"]) == (404, "staff_not_found")

    async def test_the_meeting_is_in_the_members_club(
        self, client: AsyncClient, admin_token: str, club: dict, db: Database
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        consultant = await add_staff(client, admin_token, other, name="There")
        member = await make_member(db, club["id"])
        r = await book(client, admin_token, other, member, consultant, at(2, 10))
        assert r.status_code == 422
        assert r.json()["code"] == "member_in_another_club"

    async def test_an_erased_member_cannot_be_booked(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, db: Database
    ) -> None:
        from app.core.clock import utcnow

        member = await make_member(db, club["id"], erased_at=utcnow())
        r = await book(client, admin_token, club, member, consultant, at(2, 10))
        assert (r.status_code, r.json()["code"]) == (409, "member_erased")

    async def test_another_clubs_staff_cannot_book_here(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        desk = await make_token(db, "front_desk", club_ids=[uuid.UUID(other["id"])])
        r = await book(client, desk, club, member, consultant, at(2, 10))
        assert (r.status_code, r.json()["code"]) == (404, "club_not_found")
        assert await meetings(db) == 0

    async def test_callers_consultants_and_trainers_may_book(
        self, client: AsyncClient, club: dict, consultant: str, db: Database
    ) -> None:
        for i, role in enumerate(("caller", "consultant", "trainer")):
            token = await make_token(db, role, club_ids=[uuid.UUID(club["id"])], name=role)
            member = await make_member(db, club["id"])
            r = await book(client, token, club, member, consultant, at(2, 10 + i))
            assert r.status_code == 201, (role, r.text)

    async def test_a_read_only_token_cannot_book(
        self, client: AsyncClient, club: dict, consultant: str, member: Member, db: Database
    ) -> None:
        token = await make_token(
            db, "consultant", club_ids=[uuid.UUID(club["id"])], scopes=["meetings:read"]
        )
        r = await book(client, token, club, member, consultant, at(2, 10))
        assert r.status_code == 403
