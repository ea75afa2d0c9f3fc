"""GET/PUT /clubs/{id}/playbook: seeded defaults, validation, If-Match, authorisation."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from app.db import Database
from app.members.privacy import row_dict
from app.models import Playbook, PlaybookStep
from app.playbooks.defaults import DEFAULT_STEPS
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.retention import problem


async def snapshot(db: Database) -> dict[str, Any]:
    """Every playbook and step as stored: equal snapshots mean nothing changed."""
    async with db.sessionmaker() as s:
        books = (await s.scalars(select(Playbook).order_by(Playbook.club_id))).all()
        found = (await s.scalars(select(PlaybookStep).order_by(PlaybookStep.id))).all()
        return {"playbooks": [row_dict(b) for b in books], "steps": [row_dict(x) for x in found]}


def url(club: dict[str, Any]) -> str:
    return f"/api/v1/clubs/{club['id']}/playbook"


async def read(client: AsyncClient, token: str, club: dict[str, Any]) -> tuple[dict[str, Any], str]:
    r = await client.get(url(club), headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json(), r.headers["ETag"]


def steps() -> list[dict[str, Any]]:
    return [
        {k: v for k, v in s.items() if v is not None} for s in copy.deepcopy(list(DEFAULT_STEPS))
    ]


class TestDefaults:
    async def test_a_new_club_shows_the_default_plan(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        club = await make_club(client, admin_token, name="Brand New")
        body, etag = await read(client, admin_token, club)
        assert [s["key"] for s in body["steps"]] == [s["key"] for s in DEFAULT_STEPS]
        assert body["version"] == 1
        assert etag == f'"{uuid.UUID(club["id"]).hex}-1"'
        by_key = {s["key"]: s for s in body["steps"]}
        assert (by_key["thank_you"]["action"], by_key["thank_you"]["offset_days"]) == (
            "message",
            0,
        )
        welcome = by_key["welcome_call"]
        assert (welcome["call_kind"], welcome["offset_days"], welcome["window_days"]) == (
            "welcome",
            3,
            4,
        )
        assert by_key["renewal_call_30"]["offset_days"] == -30
        assert by_key["renewal_call_14"]["offset_days"] == -14
        assert by_key["lapse_call"]["risk_levels"] == ["at_risk", "lapsed"]
        assert by_key["whats_new"]["trigger"] == "monthly"
        assert by_key["whats_new"]["category"] == "marketing"
        triggers = {s["trigger"] for s in body["steps"]}
        assert triggers == {
            "purchase",
            "expiry_approaching",
            "freeze_ended",
            "birthday",
            "meeting_no_show",
            "complaint_resolved",
            "lapse",
            "monthly",
        }

    async def test_reading_twice_seeds_once(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], db: Database
    ) -> None:
        await read(client, admin_token, club)
        await read(client, admin_token, club)
        assert len((await snapshot(db))["steps"]) == len(DEFAULT_STEPS)


class TestReplace:
    async def test_put_replaces_every_step_and_bumps_the_version(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        _, etag = await read(client, admin_token, club)
        new = steps()[:2] + [
            {
                "key": "welcome_pack",
                "trigger": "purchase",
                "offset_days": 0,
                "window_days": 2,
                "action": "task",
                "title": "Hand over the welcome pack",
                "priority": 40,
            }
        ]
        r = await client.put(
            url(club), json={"steps": new}, headers=bearer(admin_token) | {"If-Match": etag}
        )
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 2
        assert r.headers["ETag"] != etag
        body, _ = await read(client, admin_token, club)
        assert [s["key"] for s in body["steps"]] == ["thank_you", "welcome_call", "welcome_pack"]
        assert body["steps"][2]["title"] == "Hand over the welcome pack"

    async def test_a_stale_if_match_gets_412_and_changes_nothing(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], db: Database
    ) -> None:
        _, etag = await read(client, admin_token, club)
        r = await client.put(
            url(club), json={"steps": steps()}, headers=bearer(admin_token) | {"If-Match": etag}
        )
        assert r.status_code == 200, r.text
        before = await snapshot(db)
        r = await client.put(
            url(club),
            json={"steps": steps()[:1]},
            headers=bearer(admin_token) | {"If-Match": etag},
        )
        problem(r, 412, "precondition_failed")
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        ("change", "pointer"),
        [
            (lambda s: s.append(dict(s[0])), "/steps/15/key"),
            (lambda s: s[0].update(trigger="sunrise"), "/steps/0/trigger"),
            (lambda s: s[0].update(action="fax"), "/steps/0/action"),
            (lambda s: s[1].update(call_kind="sales"), "/steps/1/call_kind"),
            (lambda s: s[0].update(template="no_such_template"), "/steps/0/template"),
            (lambda s: s[0].update(category="marketing"), "/steps/0/category"),
            (lambda s: s[14].update(category="service"), "/steps/14/category"),
            (lambda s: s[0].update(template="meeting_reminder"), "/steps/0/template"),
            (lambda s: s[1].update(offset_days=400), "/steps/1/offset_days"),
            (lambda s: s[1].update(offset_days=-3), "/steps/1/offset_days"),
            (lambda s: s[7].update(offset_days=5), "/steps/7/offset_days"),
            (lambda s: s[14].update(offset_days=28), "/steps/14/offset_days"),
            (lambda s: s[1].update(window_days=91), "/steps/1/window_days"),
            (lambda s: s[1].update(window_days=-1), "/steps/1/window_days"),
            (lambda s: s[1].pop("call_kind"), "/steps/1/call_kind"),
            (lambda s: s[0].pop("template"), "/steps/0/template"),
            (lambda s: s[0].update(action="task", template=None, title=None), "/steps/0/title"),
            (lambda s: s[0].update(call_kind="welcome"), "/steps/0/call_kind"),
            (lambda s: s[1].update(priority=101), "/steps/1/priority"),
            (lambda s: s[13].pop("risk_levels"), "/steps/13/risk_levels"),
            (lambda s: s[1].update(risk_levels=["at_risk"]), "/steps/1/risk_levels"),
            (lambda s: s[13].update(risk_levels=["doomed"]), "/steps/13/risk_levels/0"),
            (lambda s: s[14].update(action="call", call_kind="welcome"), "/steps/14/action"),
            (lambda s: s[0].update(key="Not A Slug"), "/steps/0/key"),
            (lambda s: s.extend(dict(s[0], key=f"k{i}") for i in range(40)), "/steps"),
            (lambda s: s[0].update(surprise=True), "/steps/0/surprise"),
        ],
    )
    async def test_an_invalid_plan_gets_422_with_a_pointer_and_changes_nothing(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict[str, Any],
        db: Database,
        change: Any,
        pointer: str,
    ) -> None:
        _, etag = await read(client, admin_token, club)
        before = await snapshot(db)
        body = steps()
        change(body)
        r = await client.put(
            url(club), json={"steps": body}, headers=bearer(admin_token) | {"If-Match": etag}
        )
        found = problem(r, 422, "validation_error")
        assert pointer in [e["pointer"] for e in found["errors"]], found
        assert await snapshot(db) == before


class TestAccess:
    async def test_a_caller_reads_but_may_not_change_the_plan(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], db: Database
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])])
        _, etag = await read(client, caller, club)
        r = await client.put(
            url(club), json={"steps": steps()}, headers=bearer(caller) | {"If-Match": etag}
        )
        problem(r, 403, "forbidden")

    async def test_a_manager_of_the_club_may_change_it(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], db: Database
    ) -> None:
        manager = await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])])
        _, etag = await read(client, manager, club)
        r = await client.put(
            url(club), json={"steps": steps()[:3]}, headers=bearer(manager) | {"If-Match": etag}
        )
        assert r.status_code == 200, r.text

    async def test_another_clubs_playbook_is_not_found(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], db: Database
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        manager = await make_token(db, "manager", club_ids=[uuid.UUID(other["id"])])
        problem(await client.get(url(club), headers=bearer(manager)), 404, "club_not_found")
        r = await client.put(url(club), json={"steps": steps()}, headers=bearer(manager))
        problem(r, 404, "club_not_found")
