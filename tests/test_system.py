"""Health, readiness and metrics."""

from __future__ import annotations

from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db import Database
from app.main import create_app, startup
from app.migrate import downgrade, upgrade
from tests.fixtures.factories import bearer


async def test_healthz(client: AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_readyz_when_migrated(client: AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "migrations": "at head"}


async def test_readyz_is_503_when_schema_is_behind(
    settings: Settings, isolated_db: Database
) -> None:
    await downgrade(isolated_db.engine, "0001")
    app = create_app(settings, db=isolated_db, run_scheduler=False)
    await startup(app)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["migrations"].startswith("behind head")
    await upgrade(isolated_db.engine)


async def test_readyz_is_503_when_database_is_unreachable(settings: Settings) -> None:
    broken = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}
    )
    db = Database.from_settings(broken)
    app = create_app(broken, db=db, run_scheduler=False)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["database"].startswith("unreachable")
    finally:
        await db.dispose()


async def test_api_answers_503_problem_when_database_is_down(settings: Settings) -> None:
    broken = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}
    )
    db = Database.from_settings(broken)
    app = create_app(broken, db=db, run_scheduler=False)
    try:
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/api/v1/clubs", headers=bearer("crk_x"))
        assert r.status_code == 503
        assert r.json()["code"] == "service_unavailable"
    finally:
        await db.dispose()


async def test_metrics_count_requests_by_route_template(
    client: AsyncClient, admin_token: str, club: dict
) -> None:
    await client.get(f"/api/v1/clubs/{club['id']}", headers=bearer(admin_token))
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "club_renewal_http_requests_total" in r.text
    assert 'route="/api/v1/clubs/{club_id}"' in r.text
    assert club["id"] not in r.text


async def test_openapi_documents_every_route(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "Problem" in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method} {path} has no summary"
            assert op.get("description"), f"{method} {path} has no description"
            if path.startswith("/api/v1"):
                assert "401" in op["responses"], f"{method} {path} documents no 401"
