from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.core.clock import freeze
from tests.fixtures.desk import desk
from tests.memberships.helpers import NOW

__all__ = ["desk"]


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    """Every renewal test runs at NOW (2026-03-10 09:00 in Moscow)."""
    with freeze(NOW):
        yield
