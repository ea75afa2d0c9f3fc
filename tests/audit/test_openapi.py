"""The console is enough on its own for the retention routes (audit, feedback,
referrals, complaints, analytics): summarised, described, tagged, problem responses
documented, example bodies."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

MINE = {
    "/api/v1/audit": "Audit",
    "/api/v1/feedback": "Feedback",
    "/api/v1/referrals": "Referrals",
    "/api/v1/members/{member_id}/referrals": "Referrals",
    "/api/v1/analytics/": "Analytics",
}


@pytest.fixture
async def spec(client: AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def operations(spec: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    out = []
    for path, ops in spec["paths"].items():
        tag = next((t for prefix, t in MINE.items() if path.startswith(prefix)), None)
        if tag is None or path.startswith("/api/v1/analytics/onboarding"):
            continue
        out += [(method, path, tag, op) for method, op in ops.items()]
    return out


def test_every_route_is_summarised_described_and_tagged(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert len(ops) >= 12
    for method, path, tag, op in ops:
        assert op.get("summary"), (method, path)
        assert op.get("description"), (method, path)
        assert op["tags"] == [tag], (method, path)


def test_every_route_documents_its_problem_responses(spec: dict[str, Any]) -> None:
    for method, path, _, op in operations(spec):
        for status in ("401", "403", "422" if method == "get" else "404"):
            content = op["responses"][status]["content"]
            assert "application/problem+json" in content, (method, path, status)


def test_every_body_has_an_example(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for method, path, _, op in operations(spec):
        if "requestBody" not in op:
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert schemas[ref.rsplit("/", 1)[-1]].get("examples"), (method, path)


def test_tags_have_descriptions(spec: dict[str, Any]) -> None:
    tags = {t["name"]: t.get("description") for t in spec["tags"]}
    for tag in set(MINE.values()):
        assert tags.get(tag), tag
