"""Referrals: leads with E.164 phones, joined (links the new member, credits the
referrer, final) or lost; club scope; unhappy paths change nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import AuditEntry, Member, Referral
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.retention import problem, rows

URL = "/api/v1/referrals"


@pytest.fixture
async def desk(db: Database, club: dict[str, Any]) -> str:
    return await make_token(db, "front_desk", club_ids=[uuid.UUID(club["id"])], name="Dan Desk")


@pytest.fixture
async def referrer(db: Database, club: dict[str, Any]) -> Member:
    return await make_member(db, club["id"], first_name="Rita")


async def refer(
    client: AsyncClient, token: str, referrer: Member, phone: str = "+7 916 555-01-02"
) -> dict[str, Any]:
    r = await client.post(
        URL,
        json={"referrer_id": str(referrer.id), "name": "Anna Petrova", "phone": phone},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def patch(client: AsyncClient, token: str, rid: str, **body: Any) -> Any:
    return await client.patch(f"{URL}/{rid}", json=body, headers=bearer(token))


async def snapshot(db: Database) -> dict[str, Any]:
    return await rows(db, Referral, Member, AuditEntry)


class TestCreate:
    async def test_a_lead_stores_the_phone_as_e164(
        self, client: AsyncClient, desk: str, referrer: Member
    ) -> None:
        ref = await refer(client, desk, referrer, phone="+7 (916) 555-01-02")
        assert ref["phone"] == "+79165550102"
        assert (ref["status"], ref["referrer_id"]) == ("lead", str(referrer.id))
        assert ref["member_id"] is None
        assert ref["credited_at"] is None

    async def test_an_invalid_phone_is_refused_without_echo(
        self, client: AsyncClient, db: Database, desk: str, referrer: Member
    ) -> None:
        before = await snapshot(db)
        r = await client.post(
            URL,
            json={"referrer_id": str(referrer.id), "name": "Anna", "phone": "12345"},
            headers=bearer(desk),
        )
        body = problem(r, 422, "validation_error")
        assert body["errors"][0]["pointer"] == "/phone"
        assert "12345" not in r.text
        assert await snapshot(db) == before

    async def test_a_current_members_phone_is_a_conflict(
        self, client: AsyncClient, db: Database, desk: str, referrer: Member, club: dict
    ) -> None:
        existing = await make_member(db, club["id"], phone="+79165550102")
        before = await snapshot(db)
        r = await client.post(
            URL,
            json={"referrer_id": str(referrer.id), "name": "A", "phone": existing.phone},
            headers=bearer(desk),
        )
        problem(r, 409, "already_a_member")
        assert await snapshot(db) == before

    async def test_an_open_lead_with_the_same_phone_is_a_conflict(
        self, client: AsyncClient, db: Database, desk: str, referrer: Member, club: dict
    ) -> None:
        first = await refer(client, desk, referrer)
        other = await make_member(db, club["id"])
        before = await snapshot(db)
        r = await client.post(
            URL,
            json={"referrer_id": str(other.id), "name": "Anna P.", "phone": "+79165550102"},
            headers=bearer(desk),
        )
        body = problem(r, 409, "referral_exists")
        assert body["referral_id"] == first["id"]
        assert await snapshot(db) == before

    async def test_a_lost_lead_may_be_recommended_again(
        self, client: AsyncClient, desk: str, referrer: Member
    ) -> None:
        first = await refer(client, desk, referrer)
        assert (await patch(client, desk, first["id"], status="lost")).status_code == 200
        again = await refer(client, desk, referrer)
        assert again["id"] != first["id"]

    async def test_another_clubs_referrer_is_not_found(
        self, client: AsyncClient, db: Database, desk: str, admin_token: str
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        stranger = await make_member(db, other["id"])
        before = await snapshot(db)
        r = await client.post(
            URL,
            json={"referrer_id": str(stranger.id), "name": "A", "phone": "+79165550102"},
            headers=bearer(desk),
        )
        problem(r, 404, "member_not_found")
        assert await snapshot(db) == before

    async def test_an_erased_referrer_is_refused(
        self, client: AsyncClient, db: Database, desk: str, admin_token: str, referrer: Member
    ) -> None:
        await client.delete(f"/api/v1/members/{referrer.id}", headers=bearer(admin_token))
        before = await snapshot(db)
        r = await client.post(
            URL,
            json={"referrer_id": str(referrer.id), "name": "A", "phone": "+79165550102"},
            headers=bearer(desk),
        )
        problem(r, 409, "member_erased")
        assert await snapshot(db) == before

    async def test_a_trainer_may_not_record_referrals(
        self, client: AsyncClient, db: Database, club: dict, referrer: Member
    ) -> None:
        trainer = await make_token(db, "trainer", club_ids=[uuid.UUID(club["id"])])
        r = await client.post(
            URL,
            json={"referrer_id": str(referrer.id), "name": "A", "phone": "+79165550102"},
            headers=bearer(trainer),
        )
        problem(r, 403, "forbidden")


class TestJoin:
    @pytest.fixture
    async def lead(self, client: AsyncClient, desk: str, referrer: Member) -> dict[str, Any]:
        return await refer(client, desk, referrer)

    @pytest.fixture
    async def newcomer(self, db: Database, club: dict) -> Member:
        return await make_member(db, club["id"], first_name="Anna")

    async def test_joined_links_the_member_and_credits_the_referrer(
        self, client: AsyncClient, desk: str, lead: dict, newcomer: Member, referrer: Member
    ) -> None:
        r = await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["member_id"]) == ("joined", str(newcomer.id))
        assert body["credited_at"] is not None
        summary = await client.get(f"/api/v1/members/{referrer.id}/referrals", headers=bearer(desk))
        assert summary.json()["joined"] == 1
        assert summary.json()["last_credited_at"] == body["credited_at"]

    async def test_the_new_members_card_names_the_referrer(
        self, client: AsyncClient, desk: str, lead: dict, newcomer: Member, referrer: Member
    ) -> None:
        await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        card = await client.get(f"/api/v1/members/{newcomer.id}", headers=bearer(desk))
        assert card.json()["referred_by_id"] == str(referrer.id)

    async def test_the_credit_is_in_the_referrers_audit_trail(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        lead: dict,
        newcomer: Member,
        referrer: Member,
    ) -> None:
        await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        r = await client.get(
            "/api/v1/audit",
            params={"entity": "member", "entity_id": str(referrer.id)},
            headers=bearer(admin_token),
        )
        [entry] = r.json()["items"]
        assert entry["action"] == "referral_credited"
        assert entry["changes"] == {"referral_id": lead["id"], "member_id": str(newcomer.id)}

    async def test_joined_needs_the_member(
        self, client: AsyncClient, db: Database, desk: str, lead: dict
    ) -> None:
        before = await snapshot(db)
        body = problem(
            await patch(client, desk, lead["id"], status="joined"), 422, "validation_error"
        )
        assert body["errors"][0]["pointer"] == "/member_id"
        assert await snapshot(db) == before

    async def test_a_member_id_with_another_status_is_refused(
        self, client: AsyncClient, db: Database, desk: str, lead: dict, newcomer: Member
    ) -> None:
        before = await snapshot(db)
        r = await patch(client, desk, lead["id"], status="lost", member_id=str(newcomer.id))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_the_referrer_cannot_join_through_their_own_referral(
        self, client: AsyncClient, db: Database, desk: str, lead: dict, referrer: Member
    ) -> None:
        before = await snapshot(db)
        r = await patch(client, desk, lead["id"], status="joined", member_id=str(referrer.id))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_a_member_of_another_club_is_refused(
        self, client: AsyncClient, db: Database, admin_token: str, lead: dict
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        stranger = await make_member(db, other["id"])
        before = await snapshot(db)
        r = await patch(
            client, admin_token, lead["id"], status="joined", member_id=str(stranger.id)
        )
        body = problem(r, 422, "validation_error")
        assert body["errors"][0]["pointer"] == "/member_id"
        assert await snapshot(db) == before

    async def test_a_club_token_cannot_name_another_clubs_member(
        self, client: AsyncClient, db: Database, admin_token: str, desk: str, lead: dict
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        stranger = await make_member(db, other["id"])
        r = await patch(client, desk, lead["id"], status="joined", member_id=str(stranger.id))
        problem(r, 404, "member_not_found")

    async def test_joined_is_final(
        self, client: AsyncClient, db: Database, desk: str, lead: dict, newcomer: Member
    ) -> None:
        await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        before = await snapshot(db)
        problem(
            await patch(client, desk, lead["id"], status="lost"), 409, "referral_already_joined"
        )
        assert await snapshot(db) == before

    async def test_repeating_joined_changes_nothing(
        self, client: AsyncClient, db: Database, desk: str, lead: dict, newcomer: Member
    ) -> None:
        first = await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        before = await snapshot(db)
        again = await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        assert again.status_code == 200
        assert again.json() == first.json()
        assert await snapshot(db) == before

    async def test_a_member_is_credited_to_one_referrer_only(
        self,
        client: AsyncClient,
        db: Database,
        desk: str,
        lead: dict,
        newcomer: Member,
        club: dict,
    ) -> None:
        await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        second_referrer = await make_member(db, club["id"])
        other_lead = await refer(client, desk, second_referrer, phone="+79165550199")
        before = await snapshot(db)
        r = await patch(client, desk, other_lead["id"], status="joined", member_id=str(newcomer.id))
        problem(r, 409, "member_already_referred")
        assert await snapshot(db) == before

    async def test_a_member_already_referred_by_someone_else_is_refused(
        self, client: AsyncClient, db: Database, desk: str, lead: dict, club: dict
    ) -> None:
        someone = await make_member(db, club["id"])
        newcomer = await make_member(db, club["id"], referred_by_id=someone.id)
        r = await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        problem(r, 409, "member_already_referred")

    async def test_a_lost_lead_can_still_join(
        self, client: AsyncClient, desk: str, lead: dict, newcomer: Member
    ) -> None:
        assert (await patch(client, desk, lead["id"], status="lost")).json()["lost_at"]
        r = await patch(client, desk, lead["id"], status="joined", member_id=str(newcomer.id))
        assert r.json()["status"] == "joined"
        assert r.json()["lost_at"] is None


class TestLostAndReopen:
    async def test_lost_then_lead_again(
        self, client: AsyncClient, desk: str, referrer: Member
    ) -> None:
        lead = await refer(client, desk, referrer)
        lost = await patch(client, desk, lead["id"], status="lost")
        assert lost.json()["status"] == "lost"
        reopened = await patch(client, desk, lead["id"], status="lead")
        assert (reopened.json()["status"], reopened.json()["lost_at"]) == ("lead", None)

    async def test_reopening_is_refused_when_the_phone_has_another_open_lead(
        self, client: AsyncClient, db: Database, desk: str, referrer: Member
    ) -> None:
        lead = await refer(client, desk, referrer)
        await patch(client, desk, lead["id"], status="lost")
        await refer(client, desk, referrer)
        before = await snapshot(db)
        problem(await patch(client, desk, lead["id"], status="lead"), 409, "referral_exists")
        assert await snapshot(db) == before

    async def test_an_unknown_status_is_refused(
        self, client: AsyncClient, desk: str, referrer: Member
    ) -> None:
        lead = await refer(client, desk, referrer)
        problem(await patch(client, desk, lead["id"], status="won"), 422, "validation_error")


class TestRead:
    async def test_list_filters_by_referrer_and_status(
        self, client: AsyncClient, db: Database, desk: str, referrer: Member, club: dict
    ) -> None:
        a = await refer(client, desk, referrer, phone="+79165550101")
        b = await refer(client, desk, referrer, phone="+79165550102")
        other = await make_member(db, club["id"])
        await refer(client, desk, other, phone="+79165550103")
        await patch(client, desk, a["id"], status="lost")
        r = await client.get(
            URL, params={"referrer_id": str(referrer.id), "status": "lead"}, headers=bearer(desk)
        )
        assert [x["id"] for x in r.json()["items"]] == [b["id"]]

    async def test_another_clubs_referral_is_not_found(
        self, client: AsyncClient, db: Database, admin_token: str, desk: str
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        stranger = await make_member(db, other["id"])
        theirs = await refer(client, admin_token, stranger)
        problem(
            await client.get(f"{URL}/{theirs['id']}", headers=bearer(desk)),
            404,
            "referral_not_found",
        )
        problem(await patch(client, desk, theirs["id"], status="lost"), 404, "referral_not_found")
        listed = await client.get(URL, headers=bearer(desk))
        assert listed.json()["items"] == []

    async def test_the_referrer_summary_counts_each_status(
        self, client: AsyncClient, db: Database, desk: str, referrer: Member
    ) -> None:
        a = await refer(client, desk, referrer, phone="+79165550101")
        await refer(client, desk, referrer, phone="+79165550102")
        await patch(client, desk, a["id"], status="lost")
        r = await client.get(f"/api/v1/members/{referrer.id}/referrals", headers=bearer(desk))
        assert r.json() == {
            "member_id": str(referrer.id),
            "referred": 2,
            "leads": 1,
            "joined": 0,
            "lost": 1,
            "last_credited_at": None,
        }


class TestDatabaseGuarantees:
    """What holds when two requests race past the service's checks."""

    async def test_one_open_lead_per_phone_and_club(self, db: Database, referrer: Member) -> None:
        from sqlalchemy.exc import IntegrityError

        def lead(status: str = "lead") -> Referral:
            return Referral(
                club_id=referrer.club_id,
                referrer_id=referrer.id,
                name="Anna",
                phone="+79165550102",
                status=status,
            )

        async with db.sessionmaker() as s:
            s.add_all([lead("lost"), lead("lost"), lead()])
            await s.flush()  # lost ones may repeat
            s.add(lead())
            with pytest.raises(IntegrityError):
                await s.flush()
            await s.rollback()

    async def test_a_member_joins_through_one_referral(
        self, db: Database, referrer: Member, club: dict
    ) -> None:
        from sqlalchemy.exc import IntegrityError

        newcomer = await make_member(db, club["id"])
        async with db.sessionmaker() as s:
            for phone in ("+79165550101", "+79165550102"):
                s.add(
                    Referral(
                        club_id=referrer.club_id,
                        referrer_id=referrer.id,
                        name="A",
                        phone=phone,
                        status="joined",
                        member_id=newcomer.id,
                    )
                )
            with pytest.raises(IntegrityError):
                await s.flush()
            await s.rollback()
