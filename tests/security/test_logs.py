"""Secrets and personal data never reach the logs."""

from __future__ import annotations

import logging

import pytest
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db import Database
from app.main import create_app, startup
from tests.fixtures.factories import bearer


async def test_tokens_and_bodies_are_not_logged(
    settings: Settings,
    db: Database,
    admin_token: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = create_app(settings.model_copy(update={"log_level": "DEBUG"}), db=db, run_scheduler=False)
    await startup(app)
    client = AsyncClient(transport=ASGITransport(app=app), base_url="http://t")
    caplog.set_level(logging.DEBUG)
    phone = "+74951234567"
    await client.post(
        "/api/v1/clubs",
        json={"name": "Private Name", "timezone": "UTC", "currency": "EUR", "phone": phone},
        headers=bearer(admin_token),
    )
    await client.get("/api/v1/clubs?q=secret-query", headers=bearer("crk_wrong_secret_token"))
    captured = capsys.readouterr()
    # httpx here is the test's own client logging its requests, not the service.
    server_records = [r for r in caplog.records if not r.name.startswith("httpx")]
    logs = "\n".join(r.getMessage() for r in server_records) + captured.err + captured.out
    assert "request" in logs  # the access log did run
    for secret in (admin_token, "crk_wrong_secret_token", phone, "Private Name", "secret-query"):
        assert secret not in logs
