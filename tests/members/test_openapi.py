"""The console (/docs) documents every members route well enough to use it alone."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient


async def test_every_members_route_is_documented(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    ops = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "Members" in op.get("tags", [])
    ]
    assert len(ops) == 11  # 10 of the members domain, and GET /members/{id}/value
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert op["tags"] == ["Members"], where
        assert op.get("summary"), where
        assert op.get("description"), where
        assert "\n" not in op["description"].strip(), where
        responses: dict[str, Any] = op["responses"]
        assert {"401", "403", "404"} <= set(responses), where
        success = [s for s in responses if s.startswith("2")]
        assert len(success) == 1, where
        if "requestBody" in op:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
            assert schema.get("examples"), f"{where}: input example"
            assert schema.get("additionalProperties") is False, f"{where}: extra fields allowed"
    assert any(t["name"] == "Members" and t.get("description") for t in spec["tags"])
