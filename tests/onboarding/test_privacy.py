"""Wellness tests and visit plans are personal (health) data: exported and erased."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from app.db import Database
from app.models import VisitPlanSlot, WellnessTest
from tests.fixtures.factories import bearer
from tests.onboarding.test_visit_plan import PLAN
from tests.onboarding.test_wellness_tests import BODY


async def test_export_lists_wellness_tests_and_the_visit_plan(
    client: AsyncClient, admin_token: str, member: Any
) -> None:
    base = f"/api/v1/members/{member.id}"
    assert (
        await client.post(f"{base}/wellness-tests", json=BODY, headers=bearer(admin_token))
    ).is_success
    assert (
        await client.put(f"{base}/visit-plan", json=PLAN, headers=bearer(admin_token))
    ).is_success
    r = await client.get(f"{base}/export", headers=bearer(admin_token))
    assert r.status_code == 200, r.text
    sections = r.json()["sections"]
    [test] = sections["wellness_tests"]
    assert (test["weight_kg"], test["measured_on"]) == (80.0, "2026-03-10")
    assert len(sections["visit_plan"]) == 4


async def test_erasure_blanks_measurements_keeps_the_date_and_drops_the_plan(
    client: AsyncClient, admin_token: str, member: Any, db: Database
) -> None:
    base = f"/api/v1/members/{member.id}"
    await client.post(f"{base}/wellness-tests", json=BODY, headers=bearer(admin_token))
    await client.put(f"{base}/visit-plan", json=PLAN, headers=bearer(admin_token))
    for _ in range(2):  # erasure is idempotent
        assert (await client.delete(base, headers=bearer(admin_token))).status_code == 204
    async with db.sessionmaker() as s:
        [test] = (await s.scalars(select(WellnessTest))).all()
        slots = (await s.scalars(select(VisitPlanSlot))).all()
    assert (test.weight_kg, test.body_fat_pct, test.muscle_mass_kg) == (None, None, None)
    assert (test.body_water_pct, test.bmr_kcal) == (None, None)
    assert test.measured_on.isoformat() == "2026-03-10"
    assert test.erased_at is not None
    assert slots == []
    r = await client.get(f"{base}/wellness-tests", headers=bearer(admin_token))
    assert r.json()["items"][0]["change_since_first"] is None
