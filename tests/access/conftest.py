"""Access tests use the check-in world: a club with members, a plan and turnstile tokens."""

from tests.checkins.conftest import world  # noqa: F401 (a fixture)
