"""The console is enough on its own for campaigns."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

MINE = {
    ("post", "/api/v1/campaigns"),
    ("get", "/api/v1/campaigns"),
    ("get", "/api/v1/campaigns/{campaign_id}"),
    ("post", "/api/v1/campaigns/{campaign_id}/preview"),
    ("post", "/api/v1/campaigns/{campaign_id}/send"),
}


@pytest.fixture
async def spec(client: AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def test_every_route_is_summarised_described_tagged_and_documents_problems(
    spec: dict[str, Any],
) -> None:
    ops = {(m, p) for p, o in spec["paths"].items() if "/campaigns" in p for m in o}
    assert ops == MINE
    for method, path in MINE:
        op = spec["paths"][path][method]
        assert op.get("summary"), (method, path)
        assert op.get("description"), (method, path)
        assert op["tags"] == ["Campaigns"], (method, path)
        for status in ("401", "403", "404"):
            assert "application/problem+json" in op["responses"][status]["content"]


def test_the_create_body_has_an_example_and_the_codes_are_documented(
    spec: dict[str, Any],
) -> None:
    op = spec["paths"]["/api/v1/campaigns"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert spec["components"]["schemas"][ref.rsplit("/", 1)[-1]].get("examples")
    assert "channel_without_consent" in op["responses"]["422"]["description"]
    send = spec["paths"]["/api/v1/campaigns/{campaign_id}/send"]["post"]
    assert "campaign_already_sent" in send["responses"]["409"]["description"]


def test_the_tag_is_described(spec: dict[str, Any]) -> None:
    assert {t["name"]: t.get("description") for t in spec["tags"]}["Campaigns"]
