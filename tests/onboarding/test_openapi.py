"""The console is enough on its own for onboarding: every route summarised, described,
tagged, with its problem responses and an example body."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

MINE = {
    ("get", "/api/v1/memberships/{membership_id}/onboarding"),
    ("patch", "/api/v1/memberships/{membership_id}/onboarding/{kind}"),
    ("get", "/api/v1/members/{member_id}/onboarding"),
    ("post", "/api/v1/members/{member_id}/wellness-tests"),
    ("get", "/api/v1/members/{member_id}/wellness-tests"),
    ("put", "/api/v1/members/{member_id}/visit-plan"),
    ("get", "/api/v1/members/{member_id}/visit-plan"),
    ("get", "/api/v1/analytics/onboarding"),
}


@pytest.fixture
async def spec(client: AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def test_every_route_is_summarised_described_tagged_and_documents_problems(
    spec: dict[str, Any],
) -> None:
    for method, path in MINE:
        op = spec["paths"][path][method]
        assert op.get("summary"), (method, path)
        assert op.get("description"), (method, path)
        assert op["tags"] == ["Onboarding"], (method, path)
        for status in ("401", "403", "404"):
            assert "application/problem+json" in op["responses"][status]["content"]


def test_every_body_has_an_example(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for method, path in MINE:
        op = spec["paths"][path][method]
        if "requestBody" in op:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert schemas[ref.rsplit("/", 1)[-1]].get("examples"), (method, path)


def test_the_checklist_documents_its_due_dates(spec: dict[str, Any]) -> None:
    description = spec["paths"]["/api/v1/memberships/{membership_id}/onboarding"]["get"][
        "description"
    ]
    assert "`first_session` within 7 days" in description
    assert "`meet_trainers` within 21 days" in description


def test_the_tag_is_described(spec: dict[str, Any]) -> None:
    tags = {t["name"]: t.get("description") for t in spec["tags"]}
    assert tags["Onboarding"]
