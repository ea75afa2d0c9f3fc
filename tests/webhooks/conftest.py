from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from app.webhooks.dependencies import get_target_guard
from app.webhooks.targets import TargetGuard

PUBLIC_IP = "93.184.216.34"


class FakeDns:
    """A resolver the tests control (no real DNS in tests)."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {
            "hooks.example.com": [PUBLIC_IP],
            "crm.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
            "internal.example.com": ["10.1.2.3"],
            "mixed.example.com": [PUBLIC_IP, "127.0.0.1"],
            "metadata.example.com": ["169.254.169.254"],
        }

    async def __call__(self, host: str, port: int) -> list[str]:
        if host in self.records:
            return list(self.records[host])
        try:
            import ipaddress

            ipaddress.ip_address(host)
            return [host]
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns()


@pytest.fixture
def guard(dns: FakeDns) -> TargetGuard:
    return TargetGuard(allow_private=False, resolver=dns)


@pytest.fixture
def fake_guard(app: Any, guard: TargetGuard) -> Iterator[TargetGuard]:
    """Routes use the fake DNS instead of the system resolver."""
    app.dependency_overrides[get_target_guard] = lambda: guard
    yield guard
    app.dependency_overrides.pop(get_target_guard, None)
