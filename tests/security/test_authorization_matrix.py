"""Function-level authorisation, generated over every route: a token that may only read
clubs is refused everywhere else (403, or 404 where the object lookup runs first), and
no route answers without a token."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.factories import bearer

# Routes a `clubs:read` integration token may use.
ALLOWED = {("GET", "/api/v1/clubs"), ("GET", "/api/v1/clubs/{club_id}")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


async def _api_routes(app: FastAPI, client: AsyncClient) -> list[tuple[str, str]]:
    spec = (await client.get("/openapi.json")).json()
    return [
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method in ops
    ]


async def test_every_route_requires_a_token(app: FastAPI, client: AsyncClient) -> None:
    routes = await _api_routes(app, client)
    assert len(routes) > 10
    for method, path in routes:
        r = await client.request(method, _concrete(path), json={})
        assert r.status_code == 401, f"{method} {path} answered {r.status_code} without a token"


async def test_every_route_checks_the_tokens_permissions(
    app: FastAPI, client: AsyncClient, admin_token: str, club: dict
) -> None:
    r = await client.post(
        "/api/v1/tokens",
        json={"name": "reader", "club_id": club["id"], "scopes": ["clubs:read"]},
        headers=bearer(admin_token),
    )
    reader = r.json()["token"]
    checked = 0
    for method, path in await _api_routes(app, client):
        if (method, path) in ALLOWED:
            continue
        url = _concrete(path.replace("{club_id}", club["id"]))
        r = await client.request(method, url, json={}, headers=bearer(reader))
        assert r.status_code in (403, 404), f"{method} {path} answered {r.status_code}"
        checked += 1
    assert checked > 5


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_unknown_fields_are_rejected_everywhere(
    app: FastAPI, client: AsyncClient, admin_token: str, method: str
) -> None:
    """Mass assignment: every JSON body schema forbids properties it does not declare."""
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    checked = 0
    for path, ops in spec["paths"].items():
        op = ops.get(method.lower())
        if not op or "requestBody" not in op:
            continue
        content = op["requestBody"]["content"].get("application/json")
        if not content:
            continue
        ref = content["schema"].get("$ref") or next(
            (s.get("$ref") for s in content["schema"].get("anyOf", []) if "$ref" in s), None
        )
        if ref is None:
            continue
        schema = schemas[ref.rsplit("/", 1)[1]]
        assert schema.get("additionalProperties") is False, f"{method} {path} allows extra fields"
        checked += 1
    assert checked > 0
