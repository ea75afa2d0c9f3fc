from httpx import AsyncClient

from tests.fixtures.factories import bearer


async def test_admin_token_lists_clubs(client: AsyncClient, admin_token: str, club: dict) -> None:
    r = await client.get("/api/v1/clubs", headers=bearer(admin_token))
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["items"]] == [club["id"]]
