"""Schema-driven fuzzing of the whole API with schemathesis, in-process over ASGI.

Every operation in /openapi.json gets generated requests (valid and invalid) sent with
an admin token against a freshly migrated database; every response must be documented
(status code, content type, body schema) and none may be a server error. The example
budget keeps CI fast; raise CLUB_RENEWAL_FUZZ_EXAMPLES locally for a deeper run.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.config import Settings
from app.db import Database
from app.demo.seed import build
from app.main import create_app
from app.migrate import upgrade
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.factories import make_token

T = TypeVar("T")
# Business rules legitimately refuse schema-valid input with 422 (a freeze longer than
# the plan allows, an unknown time zone name): "positive data acceptance" cannot hold for
# a rules-heavy API. Every other check runs, including negative-data rejection.
EXCLUDED = [positive_data_acceptance]
EXAMPLES = int(os.environ.get("CLUB_RENEWAL_FUZZ_EXAMPLES", "20"))


class _LoopThread:
    """An event loop of its own, so async setup never touches pytest-asyncio's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        return asyncio.run_coroutine_threadsafe(fn(), self.loop).result(timeout=120)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def fuzz_env() -> Iterator[dict[str, Any]]:
    runner = _LoopThread()
    cm = fresh_database_url("fuzz")
    url = runner.run(cm.__aenter__)
    try:
        settings_ = Settings(
            database_url=url,
            scheduler="off",
            log_level="ERROR",
            secret_key="fuzz-key",  # type: ignore[arg-type]
        )

        async def prepare() -> str:
            db = Database.from_settings(settings_)
            try:
                await upgrade(db.engine)
                return await make_token(db, "admin", name="Fuzz Admin")
            finally:
                await db.dispose()

        token = runner.run(prepare)
        app = create_app(settings_, run_scheduler=False)
        yield {"app": app, "token": token}
    finally:
        runner.run(lambda: cm.__aexit__(None, None, None))
        runner.close()


def test_api_conforms_to_its_schema(fuzz_env: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_env["app"])
    headers = {"Authorization": f"Bearer {fuzz_env['token']}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10

    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        try:
            check()
        except Exception as exc:  # collect every operation's failure, report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)


STATEFUL_EXAMPLES = int(os.environ.get("CLUB_RENEWAL_FUZZ_STATEFUL_EXAMPLES", "10"))


@pytest.fixture(scope="module")
def demo_env() -> Iterator[dict[str, Any]]:
    """A database holding a small demo club: real ids for stateful runs to start from."""
    runner = _LoopThread()
    cm = fresh_database_url("fuzzdemo")
    url = runner.run(cm.__aenter__)
    try:
        settings_ = Settings(
            database_url=url, scheduler="off", log_level="ERROR", secret_key="fuzz-key"
        )  # type: ignore[arg-type]

        async def prepare() -> str:
            db = Database.from_settings(settings_)
            try:
                await upgrade(db.engine)
                return (await build(db, members=6)).admin_token
            finally:
                await db.dispose()

        token = runner.run(prepare)
        yield {"app": create_app(settings_, run_scheduler=False), "token": token}
    finally:
        runner.run(lambda: cm.__aexit__(None, None, None))
        runner.close()


def test_linked_flows_hold_up_under_stateful_fuzzing(demo_env: dict[str, Any]) -> None:
    """Chain operations through their links (declared and inferred: list -> item ->
    membership -> freeze / renewal) from a demo club's real resources; every step's
    response must conform and none may be a server error."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", demo_env["app"])
    headers = {"Authorization": f"Bearer {demo_env['token']}"}
    answered: list[tuple[str, str, int]] = []

    class Flows(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            answered.append((case.method, case.path, response.status_code))
            case.validate_response(response, excluded_checks=EXCLUDED, headers=headers)

    run_state_machine_as_test(
        Flows,
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        ),
    )
    # Links were followed: a step addressed a resource by an id an earlier step returned.
    chained = sorted({(m, p) for m, p, status in answered if "{" in p and status < 300})
    assert chained, sorted(set(answered))
