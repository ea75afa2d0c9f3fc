"""The console (/docs) is enough on its own: every plan and membership route is
summarised, described, shows its problem responses and an example body."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

MINE = ("/api/v1/plans", "/api/v1/memberships")


@pytest.fixture
async def spec(client: AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        # Onboarding routes live under /memberships/{id}/onboarding but belong to Onboarding.
        if path.startswith(MINE) and "/onboarding" not in path
        for method, op in ops.items()
    ]


def test_every_route_is_summarised_described_and_tagged(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert len(ops) == 15  # 14 of plans and memberships, and POST .../{id}/renewals
    for method, path, op in ops:
        assert op.get("summary"), (method, path)
        assert op.get("description"), (method, path)
        assert op["tags"] in (["Plans"], ["Memberships"]), (method, path)


def test_every_route_documents_its_problem_responses(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        for status in ("401", "403", "404"):
            content = op["responses"][status]["content"]
            assert "application/problem+json" in content, (method, path, status)


def test_every_body_has_an_example(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for method, path, op in operations(spec):
        if "requestBody" not in op:
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert schemas[ref.rsplit("/", 1)[-1]].get("examples"), (method, path)


def test_the_sale_explains_the_end_date_rule(spec: dict[str, Any]) -> None:
    description = spec["paths"]["/api/v1/memberships"]["post"]["description"]
    assert "31 Jan + 1 month ends on the last day of February" in description
    assert "end_date = base_end_date + frozen_days + bonus_days" in description


def test_freeze_codes_are_documented(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/api/v1/memberships/{membership_id}/freezes"]["post"]["responses"]
    assert "freeze_overlap" in responses["409"]["description"]
    for code in (
        "freeze_outside_term",
        "freeze_limit_reached",
        "freeze_too_short",
        "freeze_too_long",
        "freeze_total_exceeded",
        "membership_not_active",
    ):
        assert code in responses["422"]["description"], code


def test_tags_have_descriptions(spec: dict[str, Any]) -> None:
    tags = {t["name"]: t.get("description") for t in spec["tags"]}
    assert tags["Plans"]
    assert tags["Memberships"]
