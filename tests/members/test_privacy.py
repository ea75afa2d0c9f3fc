"""Privacy: export everything kept about a member; erase personal data, keep money and
counts; other domains plug in through the registry."""

from __future__ import annotations

import ast
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.members import privacy
from app.members.privacy import REDACTED, row_dict
from app.models import ConsentEvent, Member, MemberNote, Membership
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_membership, make_plan
from tests.members.conftest import (
    MEMBERS,
    assert_problem,
    audit_entries,
    create_member,
    member_row,
    snapshot,
)


async def membership_for(db: Database, member: dict[str, Any]) -> Membership:
    row = await member_row(db, member["id"])
    plan = await make_plan(db, row.club_id)
    return await make_membership(
        db, row, plan, start_date=date(2026, 1, 1), price_paid=3_000_000, bonus_days=7
    )


async def memberships_of(db: Database, member_id: str) -> list[dict[str, Any]]:
    async with db.sessionmaker() as s:
        rows = await s.scalars(
            select(Membership).where(Membership.member_id == uuid.UUID(member_id))
        )
        return [row_dict(m) for m in rows]


async def rows_of(db: Database, model: Any, member_id: str) -> list[Any]:
    async with db.sessionmaker() as s:
        return list(
            (await s.scalars(select(model).where(model.member_id == uuid.UUID(member_id)))).all()
        )


@pytest.fixture
async def rich_member(
    client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
) -> dict[str, Any]:
    """The fixture member with a later edit, a consent note and a desk note."""
    h = bearer(admin_token)
    mid = member["id"]
    r = await client.patch(
        f"{MEMBERS}/{mid}",
        json={
            "phone": "+7 903 111-22-33",
            "birth_date": "1990-04-12",
            "interests": ["pool"],
            "personal_dates": [{"kind": "family_birthday", "date": "09-01", "label": "Son Artem"}],
            "goals": "Back pain",
            "contact_window_start": "18:00",
            "contact_window_end": "20:00",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{MEMBERS}/{mid}/consents",
        json={
            "purpose": "marketing_sms",
            "granted": True,
            "source": "call",
            "note": "Maria said yes on her personal number",
        },
        headers=h,
    )
    assert r.status_code == 201
    r = await client.post(
        f"{MEMBERS}/{mid}/notes", json={"kind": "desk", "body": "Knee surgery in May."}, headers=h
    )
    assert r.status_code == 201
    return member


class TestExport:
    async def test_export_holds_every_kind_of_personal_data(
        self, client: AsyncClient, db: Database, admin_token: str, rich_member: dict[str, Any]
    ) -> None:
        membership = await membership_for(db, rich_member)
        r = await client.get(f"{MEMBERS}/{rich_member['id']}/export", headers=bearer(admin_token))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["member"]["phone"] == "+79031112233"
        assert body["member"]["personal_dates"][0]["label"] == "Son Artem"
        sections = body["sections"]
        assert {"consent_events", "notes", "memberships", "audit"} <= set(sections)
        assert [(e["purpose"], e["granted"]) for e in sections["consent_events"]][-1] == (
            "marketing_sms",
            True,
        )
        assert sections["consent_events"][-1]["note"] == "Maria said yes on her personal number"
        assert {n["body"] for n in sections["notes"]} == {
            "Came with her sister; prefers evening calls.",
            "Knee surgery in May.",
        }
        [ms] = sections["memberships"]
        assert ms["id"] == str(membership.id)
        assert ms["price_paid"] == 3_000_000
        actions = [a["action"] for a in sections["audit"]]
        assert actions[:3] == ["created", "updated", "consent_recorded"]
        assert body["exported_at"]

    async def test_export_is_audited(
        self, client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
    ) -> None:
        r = await client.get(f"{MEMBERS}/{member['id']}/export", headers=bearer(admin_token))
        assert r.status_code == 200
        [entry] = await audit_entries(db, member["id"], "exported")
        assert entry.changes["sections"] == sorted(r.json()["sections"])

    async def test_another_clubs_member_cannot_be_exported(
        self, client: AsyncClient, db: Database, club: dict[str, Any], outsider: dict[str, Any]
    ) -> None:
        manager = await make_token(db, "manager", club_ids=[club["id"]])
        before = await snapshot(db)
        r = await client.get(f"{MEMBERS}/{outsider['id']}/export", headers=bearer(manager))
        assert_problem(r, 404, "member_not_found")
        assert await snapshot(db) == before


class TestErase:
    async def test_erase_anonymises_personal_data_and_keeps_money(
        self, client: AsyncClient, db: Database, admin_token: str, rich_member: dict[str, Any]
    ) -> None:
        mid = rich_member["id"]
        await membership_for(db, rich_member)
        money_before = await memberships_of(db, mid)
        consents_before = [
            (e.purpose, e.granted, e.source, e.recorded_at)
            for e in await rows_of(db, ConsentEvent, mid)
        ]

        r = await client.delete(f"{MEMBERS}/{mid}", headers=bearer(admin_token))
        assert r.status_code == 204
        assert r.content == b""

        row: Member = await member_row(db, mid)
        assert (row.first_name, row.last_name) == ("Erased", "Member")
        for field in (
            "phone",
            "email",
            "birth_date",
            "card_number",
            "goals",
            "contact_window_start",
            "contact_window_end",
        ):
            assert getattr(row, field) is None, field
        assert row.interests == []
        assert row.personal_dates == []
        assert row.do_not_contact is True
        assert row.erased_at is not None

        assert await memberships_of(db, mid) == money_before  # money and dates untouched
        notes = await rows_of(db, MemberNote, mid)
        assert len(notes) == 2
        assert {n.body for n in notes} == {REDACTED}
        consents = await rows_of(db, ConsentEvent, mid)
        assert {e.note for e in consents} == {None}
        assert [(e.purpose, e.granted, e.source, e.recorded_at) for e in consents] == (
            consents_before
        )

        read = (await client.get(f"{MEMBERS}/{mid}", headers=bearer(admin_token))).json()
        assert read["phone"] is None
        assert read["do_not_contact"] is True
        assert {n["body"] for n in read["handoff_notes"]} == {REDACTED}

    async def test_erase_redacts_contact_data_in_the_audit_trail(
        self, client: AsyncClient, db: Database, admin_token: str, rich_member: dict[str, Any]
    ) -> None:
        mid = rich_member["id"]
        await client.delete(f"{MEMBERS}/{mid}", headers=bearer(admin_token))
        entries = await audit_entries(db, mid)
        text = repr([e.changes for e in entries])
        for secret in ("+79161234567", "+79031112233", "maria@example.com", "Ivanova", "004512"):
            assert secret not in text
        updated = next(e for e in entries if e.action == "updated")
        assert updated.changes["phone"] == [REDACTED, REDACTED]
        [erased] = [e for e in entries if e.action == "erased"]
        assert "phone" in erased.changes["erased_fields"]
        assert erased.changes["do_not_contact"] == [False, True]

    async def test_second_erase_is_harmless(
        self, client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
    ) -> None:
        mid = member["id"]
        assert (
            await client.delete(f"{MEMBERS}/{mid}", headers=bearer(admin_token))
        ).status_code == 204
        first = await snapshot(db)
        assert (
            await client.delete(f"{MEMBERS}/{mid}", headers=bearer(admin_token))
        ).status_code == 204
        assert await snapshot(db) == first
        assert len(await audit_entries(db, mid, "erased")) == 1

    async def test_erased_member_cannot_be_edited(
        self, client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
    ) -> None:
        mid = member["id"]
        h = bearer(admin_token)
        await client.delete(f"{MEMBERS}/{mid}", headers=h)
        before = await snapshot(db)
        r = await client.patch(f"{MEMBERS}/{mid}", json={"first_name": "Maria"}, headers=h)
        assert_problem(r, 409, "member_erased")
        r = await client.post(
            f"{MEMBERS}/{mid}/consents",
            json={"purpose": "calls", "granted": True, "source": "desk"},
            headers=h,
        )
        assert_problem(r, 409, "member_erased")
        r = await client.post(
            f"{MEMBERS}/{mid}/notes", json={"kind": "desk", "body": "x"}, headers=h
        )
        assert_problem(r, 409, "member_erased")
        assert await snapshot(db) == before

    async def test_erased_members_card_number_can_be_reused(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        await client.delete(f"{MEMBERS}/{member['id']}", headers=bearer(admin_token))
        m = await create_member(client, admin_token, club, card_number=member["card_number"])
        assert m["card_number"] == member["card_number"]

    async def test_another_clubs_member_cannot_be_erased(
        self, client: AsyncClient, db: Database, club: dict[str, Any], outsider: dict[str, Any]
    ) -> None:
        manager = await make_token(db, "manager", club_ids=[club["id"]])
        before = await snapshot(db)
        r = await client.delete(f"{MEMBERS}/{outsider['id']}", headers=bearer(manager))
        assert_problem(r, 404, "member_not_found")
        assert await snapshot(db) == before

    async def test_club_manager_may_erase(
        self, client: AsyncClient, db: Database, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        manager = await make_token(db, "manager", club_ids=[club["id"]])
        r = await client.delete(f"{MEMBERS}/{member['id']}", headers=bearer(manager))
        assert r.status_code == 204


class TestRegistry:
    @pytest.fixture
    def clean_registry(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(privacy, "_sections", dict(privacy._sections))
        monkeypatch.setattr(privacy, "_erasures", list(privacy._erasures))

    @pytest.mark.usefixtures("clean_registry")
    async def test_other_domains_add_export_sections_and_erasure_steps(
        self, client: AsyncClient, admin_token: str, member: dict[str, Any]
    ) -> None:
        erased: list[tuple[uuid.UUID, bool]] = []

        async def export_visits(session: AsyncSession, m: Member) -> list[dict[str, Any]]:
            return [{"member_id": m.id, "visits": 12}]

        async def erase_visits(session: AsyncSession, m: Member) -> None:
            erased.append((m.id, m.erased_at is not None))

        privacy.register_export_section("visits", export_visits)
        privacy.register_erasure(erase_visits)
        privacy.register_erasure(erase_visits)  # registering twice runs it once

        r = await client.get(f"{MEMBERS}/{member['id']}/export", headers=bearer(admin_token))
        assert r.json()["sections"]["visits"] == [{"member_id": member["id"], "visits": 12}]
        await client.delete(f"{MEMBERS}/{member['id']}", headers=bearer(admin_token))
        assert erased == [(uuid.UUID(member["id"]), True)]
        await client.delete(f"{MEMBERS}/{member['id']}", headers=bearer(admin_token))
        assert len(erased) == 2  # steps run again on a repeated erase: they are idempotent

    @pytest.mark.usefixtures("clean_registry")
    async def test_section_names_are_unique_and_snake_case(self) -> None:
        async def one(session: AsyncSession, m: Member) -> None:
            return None

        async def two(session: AsyncSession, m: Member) -> None:
            return None

        privacy.register_export_section("visits", one)
        privacy.register_export_section("visits", one)  # the same function again is fine
        with pytest.raises(ValueError, match="already registered"):
            privacy.register_export_section("visits", two)
        with pytest.raises(ValueError, match="already registered"):
            privacy.register_export_section("notes", two)
        with pytest.raises(ValueError, match="snake_case"):
            privacy.register_export_section("Visits!", two)

    def test_members_domain_does_not_import_other_domains(self) -> None:
        # Check-ins, messages, calls... plug in through the registry; never the reverse.
        allowed = (
            "app.members",
            "app.models",
            "app.core",
            "app.errors",
            "app.audit",
            "app.auth",
            "app.clubs",
            "app.dependencies",
            "app.routing",
        )
        for path in Path(privacy.__file__).parent.glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app."):
                    assert str(node.module).startswith(allowed), f"{path.name}: {node.module}"
