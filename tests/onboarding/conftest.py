"""Onboarding tests run at NOW (2026-03-10 09:00 Moscow) in the default club unless a
test pins another instant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient
from sqlalchemy import func, select

from app.auth.permissions import Role
from app.auth.service import auth_service
from app.core.clock import freeze
from app.db import Database
from app.members.privacy import row_dict
from app.models import AuditEntry, Onboarding, OnboardingItem, VisitPlanSlot, WellnessTest
from app.staff.schemas import StaffCreate
from app.staff.service import staff_service
from tests.fixtures.factories import make_club, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import NOW, TODAY, create_plan, sold


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


@pytest.fixture
def club_id(club: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


@pytest_asyncio.fixture
async def manager(db: Database, club_id: uuid.UUID) -> str:
    return await make_token(db, "manager", club_ids=[club_id], name="Mila Manager")


@pytest_asyncio.fixture
async def other_club(client: AsyncClient, admin_token: str) -> dict[str, Any]:
    return await make_club(
        client, admin_token, name="Harbour Gym", timezone="Europe/Berlin", currency="RUB"
    )


@pytest_asyncio.fixture
async def plan(client: AsyncClient, admin_token: str, club_id: uuid.UUID) -> dict[str, Any]:
    return await create_plan(client, admin_token, club_id)


@pytest_asyncio.fixture
async def member(db: Database, club_id: uuid.UUID) -> Any:
    return await make_member(db, club_id)


@pytest_asyncio.fixture
async def membership(
    client: AsyncClient, manager: str, member: Any, plan: dict[str, Any]
) -> dict[str, Any]:
    """A new membership sold today, starting today."""
    return await sold(client, manager, member.id, plan["id"], TODAY)


async def make_staff(
    db: Database, *roles: str, club_ids: list[uuid.UUID], name: str = "Staff Person"
) -> tuple[str, str]:
    """A staff member with `roles` in `club_ids`: (staff id, raw token)."""
    async with db.session_scope() as s:
        staff = await staff_service.create(
            s, None, StaffCreate(name=name, roles=[Role(r) for r in roles], club_ids=club_ids)
        )
        _, raw = await auth_service.issue_staff_token(s, None, staff, name="test", scopes=None)
    return str(staff.id), raw


@pytest_asyncio.fixture
async def trainer(db: Database, club_id: uuid.UUID) -> tuple[str, str]:
    """A trainer of the club: (staff id, token)."""
    return await make_staff(db, "trainer", club_ids=[club_id], name="Tom Trainer")


async def snapshot(db: Database) -> dict[str, Any]:
    """Every row onboarding writes, as stored: equal snapshots mean nothing changed."""
    async with db.sessionmaker() as s:
        out: dict[str, Any] = {}
        for model in (Onboarding, OnboardingItem, WellnessTest, VisitPlanSlot):
            rows = (await s.scalars(select(model).order_by(model.id))).all()
            out[model.__tablename__] = [row_dict(r) for r in rows]
        out["audit"] = await s.scalar(select(func.count()).select_from(AuditEntry))
        return out
