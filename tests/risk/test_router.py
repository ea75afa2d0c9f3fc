"""GET /risk and GET /members/{id}/risk: order, filters, pages, scoping, history."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from httpx import AsyncClient

from app.db import Database
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.risk.conftest import AS_OF, TODAY, Cast, every

API_FIELDS = {
    "member_id",
    "membership_id",
    "score",
    "level",
    "reasons",
    "suppressed",
    "assessed_at",
}


async def _club_with_cast(cast: Cast) -> dict[str, uuid.UUID]:
    """ok, watch (term ends), at_risk, lapsed, a suppressed one and a sleeper."""
    names = {}
    names["ok"] = (await cast.member(every(2, since=180)))[0].id
    names["watch"] = (await cast.member(every(2, since=180), ends_in=10))[0].id
    names["at_risk"] = (await cast.member(every(2, since=180, until=9)))[0].id
    names["lapsed"] = (await cast.member(every(2, since=180, until=30)))[0].id
    names["dnc"] = (await cast.member(every(2, since=180, until=12), do_not_contact=True))[0].id
    names["sleeper"] = (await cast.member(every(3, since=180, until=100)))[0].id
    await cast.scan()
    return names


async def _list(client: AsyncClient, token: str, **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/risk", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


class TestRiskList:
    async def test_highest_score_first_with_the_contract_fields(
        self, client: AsyncClient, admin_token: str, cast: Cast
    ) -> None:
        ids = await _club_with_cast(cast)
        items = await _list(client, admin_token, club_id=str(cast.club_id))
        assert len(items) == len(ids)
        assert set(items[0]) >= API_FIELDS
        scores = [i["score"] for i in items]
        assert scores == sorted(scores, reverse=True)
        level = {uuid.UUID(i["member_id"]): i["level"] for i in items}
        assert level[ids["lapsed"]] == "lapsed"
        assert level[ids["at_risk"]] == "at_risk"
        assert level[ids["watch"]] == "watch"
        assert level[ids["ok"]] == "ok"

    async def test_sleepers_never_top_the_list(
        self, client: AsyncClient, admin_token: str, cast: Cast
    ) -> None:
        ids = await _club_with_cast(cast)
        items = await _list(client, admin_token, club_id=str(cast.club_id))
        order = [uuid.UUID(i["member_id"]) for i in items]
        assert order.index(ids["sleeper"]) > order.index(ids["at_risk"])
        sleeper = next(i for i in items if uuid.UUID(i["member_id"]) == ids["sleeper"])
        assert (sleeper["level"], sleeper["segment"]) == ("lapsed", "sleeper")

    async def test_filters(self, client: AsyncClient, admin_token: str, cast: Cast) -> None:
        ids = await _club_with_cast(cast)
        club = str(cast.club_id)

        def members(items: list[dict[str, Any]]) -> set[uuid.UUID]:
            return {uuid.UUID(i["member_id"]) for i in items}

        at_risk = await _list(client, admin_token, club_id=club, level="at_risk")
        assert members(at_risk) == {ids["at_risk"], ids["dnc"]}
        call_list = await _list(
            client, admin_token, club_id=club, suppressed="none", segment="active"
        )
        assert ids["dnc"] not in members(call_list)
        assert ids["sleeper"] not in members(call_list)
        dnc = await _list(client, admin_token, club_id=club, suppressed="do_not_contact")
        assert members(dnc) == {ids["dnc"]}
        assert dnc[0]["suppressed"] == "do_not_contact"
        assert members(await _list(client, admin_token, club_id=club, suppressed="any")) == {
            ids["dnc"]
        }
        sleepers = await _list(client, admin_token, club_id=club, segment="sleeper")
        assert members(sleepers) == {ids["sleeper"]}

    async def test_cursor_pages_cover_everyone_once(
        self, client: AsyncClient, admin_token: str, cast: Cast
    ) -> None:
        ids = await _club_with_cast(cast)
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"club_id": str(cast.club_id), "limit": 2}
            if cursor:
                params["cursor"] = cursor
            r = await client.get("/api/v1/risk", params=params, headers=bearer(admin_token))
            body = r.json()
            seen += [i["member_id"] for i in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(str(i) for i in ids.values())

    async def test_only_the_latest_scan_is_listed(
        self, client: AsyncClient, admin_token: str, cast: Cast
    ) -> None:
        gone, _ = await cast.member(every(2, since=180), ends_in=0)
        stays, _ = await cast.member(every(2, since=180, until=9))
        await cast.scan()
        await cast.scan(AS_OF + timedelta(days=1))  # `gone`'s term ended yesterday
        items = await _list(client, admin_token, club_id=str(cast.club_id))
        assert [i["member_id"] for i in items] == [str(stays.id)]
        del gone

    async def test_another_clubs_list_is_not_found(
        self, client: AsyncClient, admin_token: str, db: Database, cast: Cast
    ) -> None:
        await _club_with_cast(cast)
        other = await make_club(client, admin_token, name="Other Club")
        manager = await make_token(db, "manager", club_ids=[uuid.UUID(other["id"])])
        r = await client.get(
            "/api/v1/risk", params={"club_id": str(cast.club_id)}, headers=bearer(manager)
        )
        assert r.status_code == 404
        assert r.json()["code"] == "club_not_found"
        assert await _list(client, manager) == []  # their own clubs only

    async def test_a_token_pinned_to_a_member_sees_only_that_member(
        self, client: AsyncClient, admin_token: str, cast: Cast
    ) -> None:
        ids = await _club_with_cast(cast)
        r = await client.post(
            "/api/v1/tokens",
            json={
                "name": "member app",
                "club_id": str(cast.club_id),
                "scopes": ["risk:read"],
                "member_id": str(ids["ok"]),
            },
            headers=bearer(admin_token),
        )
        assert r.status_code == 201, r.text
        app_token = r.json()["token"]
        items = await _list(client, app_token, club_id=str(cast.club_id))
        assert [i["member_id"] for i in items] == [str(ids["ok"])]
        other = await client.get(f"/api/v1/members/{ids['lapsed']}/risk", headers=bearer(app_token))
        assert other.status_code == 404

    async def test_without_risk_read_is_forbidden(
        self, client: AsyncClient, db: Database, club_id: uuid.UUID
    ) -> None:
        trainer = await make_token(db, "trainer", club_ids=[club_id])
        r = await client.get("/api/v1/risk", headers=bearer(trainer))
        assert r.status_code == 403

    async def test_unknown_level_is_a_validation_error(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        r = await client.get(
            "/api/v1/risk", params={"level": "doomed"}, headers=bearer(admin_token)
        )
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"


class TestMemberRisk:
    async def test_latest_and_history_newest_first(
        self, client: AsyncClient, admin_token: str, cast: Cast
    ) -> None:
        m, _ = await cast.member(every(2, since=180, until=9))
        await cast.scan()
        await cast.scan(AS_OF + timedelta(days=1))
        r = await client.get(f"/api/v1/members/{m.id}/risk", headers=bearer(admin_token))
        assert r.status_code == 200
        body = r.json()
        assert body["latest"]["scan_date"] == str(TODAY + timedelta(days=1))
        assert set(body["latest"]) >= API_FIELDS
        assert [h["scan_date"] for h in body["history"]] == [
            str(TODAY + timedelta(days=1)),
            str(TODAY),
        ]
        assert body["history"][1]["reasons"][0] == "no visit for 9 days; usually every 2 days"

    async def test_never_scanned_member_has_no_assessment(
        self, client: AsyncClient, admin_token: str, db: Database, club_id: uuid.UUID
    ) -> None:
        m = await make_member(db, club_id)
        r = await client.get(f"/api/v1/members/{m.id}/risk", headers=bearer(admin_token))
        assert r.json() == {"member_id": str(m.id), "latest": None, "history": []}

    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, admin_token: str, db: Database, cast: Cast
    ) -> None:
        m, _ = await cast.member(every(2, since=180))
        await cast.scan()
        other = await make_club(client, admin_token, name="Other Club")
        caller = await make_token(db, "caller", club_ids=[uuid.UUID(other["id"])])
        r = await client.get(f"/api/v1/members/{m.id}/risk", headers=bearer(caller))
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"
