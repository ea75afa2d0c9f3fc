"""Consents with provenance: an append-only history; the latest decision per purpose wins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import utcnow
from app.db import Database
from app.members.consents import ConsentPurpose, current_consents, latest_consent_events
from app.models import ConsentEvent
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_member
from tests.members.conftest import MEMBERS, assert_problem, audit_entries, pointers, snapshot


def url(member: dict[str, Any]) -> str:
    return f"{MEMBERS}/{member['id']}/consents"


async def record(
    client: AsyncClient, token: str, member: dict[str, Any], **body: Any
) -> dict[str, Any]:
    r = await client.post(url(member), json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestRecordConsent:
    async def test_withdrawal_is_a_new_event_and_history_is_kept(
        self, client: AsyncClient, admin_token: str, member: dict[str, Any]
    ) -> None:
        event = await record(
            client,
            admin_token,
            member,
            purpose="calls",
            granted=False,
            source="call",
            note="Asked on the welcome call not to be called.",
        )
        assert (event["purpose"], event["granted"], event["source"]) == ("calls", False, "call")
        assert event["note"] == "Asked on the welcome call not to be called."

        r = await client.get(url(member), headers=bearer(admin_token))
        body = r.json()
        assert body["current"]["calls"]["granted"] is False
        assert body["current"]["calls"]["event_id"] == event["id"]
        assert body["current"]["calls"]["source"] == "call"
        calls = [(e["granted"], e["source"]) for e in body["history"] if e["purpose"] == "calls"]
        assert calls == [(False, "call"), (True, "desk")]  # newest first, nothing rewritten

        m = (await client.get(f"{MEMBERS}/{member['id']}", headers=bearer(admin_token))).json()
        assert m["consents"]["calls"] is False

    async def test_purpose_never_recorded_is_not_consented(
        self, client: AsyncClient, admin_token: str, member: dict[str, Any]
    ) -> None:
        body = (await client.get(url(member), headers=bearer(admin_token))).json()
        assert body["current"]["marketing_email"] == {
            "granted": False,
            "source": None,
            "recorded_at": None,
            "event_id": None,
        }
        assert set(body["current"]) == {p.value for p in ConsentPurpose}

    async def test_a_back_dated_paper_form_does_not_override_a_newer_decision(
        self, client: AsyncClient, admin_token: str, member: dict[str, Any]
    ) -> None:
        # The member said yes to calls at the desk (fixture, now); a paper form signed
        # last month that said no is entered afterwards: it joins the history only.
        last_month = (utcnow() - timedelta(days=30)).isoformat()
        await record(
            client,
            admin_token,
            member,
            purpose="calls",
            granted=False,
            source="import",
            recorded_at=last_month,
        )
        body = (await client.get(url(member), headers=bearer(admin_token))).json()
        assert body["current"]["calls"]["granted"] is True
        assert [e["source"] for e in body["history"] if e["purpose"] == "calls"] == [
            "desk",
            "import",
        ]

    async def test_recorder_is_the_principals_staff(
        self, client: AsyncClient, db: Database, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        event = await record(
            client, desk, member, purpose="marketing_sms", granted=True, source="desk"
        )
        assert event["recorded_by_staff_id"] is not None

    async def test_consent_change_is_audited_with_a_diff(
        self, client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
    ) -> None:
        event = await record(
            client, admin_token, member, purpose="service_sms", granted=False, source="web"
        )
        [entry] = await audit_entries(db, member["id"], "consent_recorded")
        assert entry.changes["consent.service_sms"] == [True, False]
        assert entry.changes["event_id"] == event["id"]
        assert entry.changes["source"] == "web"

    @pytest.mark.parametrize(
        ("body", "pointer"),
        [
            (
                {
                    "purpose": "calls",
                    "granted": True,
                    "source": "desk",
                    "recorded_at": "2026-01-01T10:00:00",
                },
                "/recorded_at",
            ),
            (
                {"purpose": "calls", "granted": True, "source": "desk", "recorded_at": "yesterday"},
                "/recorded_at",
            ),
            ({"purpose": "calls", "granted": "true", "source": "desk"}, "/granted"),
            ({"purpose": "calls", "granted": 1, "source": "desk"}, "/granted"),
            ({"purpose": "telepathy", "granted": True, "source": "desk"}, "/purpose"),
            ({"purpose": "calls", "granted": True, "source": "fax"}, "/source"),
            ({"purpose": "calls", "granted": True}, "/source"),
            ({"purpose": "calls", "granted": True, "source": "desk", "note": "a\x00"}, "/note"),
            ({"purpose": "calls", "granted": True, "source": "desk", "note": "x" * 501}, "/note"),
            (
                {"purpose": "calls", "granted": True, "source": "desk", "member_id": "x"},
                "/member_id",
            ),
        ],
    )
    async def test_bad_consent_is_refused_and_writes_nothing(
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

    async def test_future_decision_is_refused(
        self, client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
    ) -> None:
        before = await snapshot(db)
        tomorrow = (utcnow() + timedelta(days=1)).isoformat()
        r = await client.post(
            url(member),
            json={"purpose": "calls", "granted": True, "source": "desk", "recorded_at": tomorrow},
            headers=bearer(admin_token),
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {"/recorded_at"}
        assert await snapshot(db) == before

    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, db: Database, club: dict[str, Any], outsider: dict[str, Any]
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        before = await snapshot(db)
        r = await client.post(
            url(outsider),
            json={"purpose": "calls", "granted": True, "source": "desk"},
            headers=bearer(desk),
        )
        assert_problem(r, 404, "member_not_found")
        assert_problem(
            await client.get(url(outsider), headers=bearer(desk)), 404, "member_not_found"
        )
        assert await snapshot(db) == before


class TestConsentQueries:
    async def test_latest_event_per_purpose_decides_on_both_helpers(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        m = await make_member(db, club_id, consents={"calls": True, "marketing_sms": True})
        other = await make_member(db, club_id)
        async with db.session_scope() as s:
            s.add(
                ConsentEvent(
                    club_id=m.club_id,
                    member_id=m.id,
                    purpose="calls",
                    granted=False,
                    source="call",
                    recorded_at=datetime(2100, 1, 1, tzinfo=UTC),
                )
            )
        async with db.sessionmaker() as s:
            flags = await current_consents(s, [m.id, other.id])
            latest = await latest_consent_events(s, [m.id, other.id])
        assert flags[m.id][ConsentPurpose.CALLS] is False
        assert flags[m.id][ConsentPurpose.MARKETING_SMS] is True
        assert flags[other.id] == dict.fromkeys(ConsentPurpose, False)
        assert latest[m.id][ConsentPurpose.CALLS].source == "call"
        assert ConsentPurpose.SERVICE_SMS not in latest[m.id]
        assert latest[other.id] == {}
