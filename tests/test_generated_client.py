"""A typed Python client generated from the live /openapi.json works against the API.

`openapi-python-client` generates the client (it must not warn: a warning means an
operation or model is missing from it), then a smoke test drives a real `club-renewal
serve` through it: create a club, list clubs, read a problem response.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.live_server import CLI, live_server

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "club_renewal_client"
# The bulk check-in upload also takes NDJSON and CSV bodies, which the generator does not
# model; sent as raw bytes they are what they are. No formatter hooks: nothing to format.
CONFIG = """\
post_hooks: []
content_type_overrides:
  application/x-ndjson: application/octet-stream
  text/csv: application/octet-stream
"""


def _admin_token(workdir: Path) -> str:
    env = os.environ | {"CLUB_RENEWAL_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'live.db'}"}
    done = subprocess.run(
        [*CLI, "token", "create", "--role", "admin", "--name", "Client Smoke"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[tuple[Any, str, str]]:
    """(the generated package, base url, admin token) with a live server behind them."""
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR.name} is not installed: pip install -e '.[test]'")
    with live_server(tmp_path) as server:
        token = _admin_token(tmp_path)
        spec = tmp_path / "openapi.json"
        spec.write_bytes(httpx.get(f"{server.base_url}/openapi.json", timeout=10).content)
        (tmp_path / "config.yaml").write_text(CONFIG)
        out = subprocess.run(
            [
                str(GENERATOR),
                "generate",
                "--path",
                str(spec),
                "--meta",
                "none",
                "--output-path",
                str(tmp_path / PACKAGE),
                "--config",
                str(tmp_path / "config.yaml"),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        log = out.stdout + out.stderr
        assert out.returncode == 0, log
        assert "warning" not in log.lower(), f"the generator warned:\n{log}"
        sys.path.insert(0, str(tmp_path))
        try:
            yield importlib.import_module(PACKAGE), server.base_url, token
        finally:
            sys.path.remove(str(tmp_path))
            for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
                del sys.modules[name]


def test_generated_client_creates_and_lists_clubs(generated: tuple[Any, str, str]) -> None:
    pkg, base_url, token = generated
    create_club = importlib.import_module(f"{PACKAGE}.api.clubs.create_club")
    list_clubs = importlib.import_module(f"{PACKAGE}.api.clubs.list_clubs")
    get_club = importlib.import_module(f"{PACKAGE}.api.clubs.get_club")
    models = importlib.import_module(f"{PACKAGE}.models")

    with pkg.AuthenticatedClient(base_url=base_url, token=token, timeout=30.0) as client:
        created = create_club.sync_detailed(
            client=client,
            body=models.ClubCreate(
                name="Generated Client Gym", timezone="Europe/Moscow", currency="RUB"
            ),
        )
        assert created.status_code == 201, created.content
        club = created.parsed
        assert isinstance(club, models.ClubRead)
        assert club.timezone == "Europe/Moscow"

        page = list_clubs.sync(client=client, limit=50)
        assert isinstance(page, models.PageClubRead)
        assert club.id in [c.id for c in page.items]

        missing = get_club.sync_detailed(
            client=client, club_id=uuid.UUID("00000000-0000-7000-8000-000000000000")
        )
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem)
        assert missing.parsed.code == "club_not_found"


def test_operations_are_grouped_by_tag_under_their_function_names(
    generated: tuple[Any, str, str],
) -> None:
    root = Path(generated[0].__file__).parent / "api"
    assert (root / "clubs" / "create_club.py").exists()
    assert (root / "memberships" / "renew_membership.py").exists()
    assert (root / "check_ins" / "upload_checkins.py").exists()
