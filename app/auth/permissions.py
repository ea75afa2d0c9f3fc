"""Roles, permissions and the principal a request acts as.

A permission is "resource:action". A staff token acts with its staff member's roles
(optionally narrowed by the token's scopes); an integration token has only its scopes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.errors import Forbidden, NotFound


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    CALLER = "caller"
    CONSULTANT = "consultant"
    TRAINER = "trainer"
    MANAGER = "manager"
    ADMIN = "admin"


class Perm(StrEnum):
    CLUBS_READ = "clubs:read"
    CLUBS_WRITE = "clubs:write"
    STAFF_READ = "staff:read"
    STAFF_WRITE = "staff:write"
    TOKENS_WRITE = "tokens:write"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    MEMBERS_ERASE = "members:erase"
    PLANS_READ = "plans:read"
    PLANS_WRITE = "plans:write"
    MEMBERSHIPS_READ = "memberships:read"
    MEMBERSHIPS_WRITE = "memberships:write"
    PROMOTIONS_READ = "promotions:read"
    PROMOTIONS_WRITE = "promotions:write"
    CHECKINS_READ = "checkins:read"
    CHECKINS_WRITE = "checkins:write"
    ACCESS_CHECK = "access:check"
    RISK_READ = "risk:read"
    CALLS_READ = "calls:read"
    CALLS_WRITE = "calls:write"
    MEETINGS_READ = "meetings:read"
    MEETINGS_WRITE = "meetings:write"
    ONBOARDING_READ = "onboarding:read"
    ONBOARDING_WRITE = "onboarding:write"
    COMPLAINTS_READ = "complaints:read"
    COMPLAINTS_WRITE = "complaints:write"
    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    MESSAGES_READ = "messages:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    EVENTS_READ = "events:read"
    JOBS_READ = "jobs:read"
    JOBS_RUN = "jobs:run"
    ANALYTICS_READ = "analytics:read"
    AUDIT_READ = "audit:read"


_R = Perm
_DESK = {
    _R.CLUBS_READ,
    _R.STAFF_READ,
    _R.MEMBERS_READ,
    _R.MEMBERS_WRITE,
    _R.PLANS_READ,
    _R.MEMBERSHIPS_READ,
    _R.MEMBERSHIPS_WRITE,
    _R.PROMOTIONS_READ,
    _R.CHECKINS_READ,
    _R.CHECKINS_WRITE,
    _R.ACCESS_CHECK,
    _R.RISK_READ,
    _R.CALLS_READ,
    _R.MEETINGS_READ,
    _R.MEETINGS_WRITE,
    _R.ONBOARDING_READ,
    _R.ONBOARDING_WRITE,
    _R.COMPLAINTS_READ,
    _R.COMPLAINTS_WRITE,
}
_CALLER = {
    _R.CLUBS_READ,
    _R.STAFF_READ,
    _R.MEMBERS_READ,
    _R.MEMBERS_WRITE,
    _R.PLANS_READ,
    _R.MEMBERSHIPS_READ,
    _R.PROMOTIONS_READ,
    _R.CHECKINS_READ,
    _R.RISK_READ,
    _R.CALLS_READ,
    _R.CALLS_WRITE,
    _R.MEETINGS_READ,
    _R.MEETINGS_WRITE,
    _R.ONBOARDING_READ,
    _R.COMPLAINTS_READ,
    _R.COMPLAINTS_WRITE,
    _R.MESSAGES_READ,
}
_CONSULTANT = {
    _R.CLUBS_READ,
    _R.STAFF_READ,
    _R.MEMBERS_READ,
    _R.MEMBERS_WRITE,
    _R.PLANS_READ,
    _R.MEMBERSHIPS_READ,
    _R.MEMBERSHIPS_WRITE,
    _R.PROMOTIONS_READ,
    _R.CHECKINS_READ,
    _R.RISK_READ,
    _R.CALLS_READ,
    _R.MEETINGS_READ,
    _R.MEETINGS_WRITE,
    _R.ONBOARDING_READ,
    _R.ONBOARDING_WRITE,
    _R.COMPLAINTS_READ,
    _R.COMPLAINTS_WRITE,
}
_TRAINER = {
    _R.CLUBS_READ,
    _R.STAFF_READ,
    _R.MEMBERS_READ,
    _R.PLANS_READ,
    _R.MEMBERSHIPS_READ,
    _R.CHECKINS_READ,
    _R.MEETINGS_READ,
    _R.MEETINGS_WRITE,
    _R.ONBOARDING_READ,
    _R.ONBOARDING_WRITE,
}
_ALL = set(Perm)

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.FRONT_DESK: frozenset(_DESK),
    Role.CALLER: frozenset(_CALLER),
    Role.CONSULTANT: frozenset(_CONSULTANT),
    Role.TRAINER: frozenset(_TRAINER),
    # A manager runs their clubs; chain-wide acts (new clubs, admins) stay with admins.
    Role.MANAGER: frozenset(_ALL),
    Role.ADMIN: frozenset(_ALL),
}


def permissions_for(roles: set[str] | frozenset[str]) -> frozenset[Perm]:
    out: set[Perm] = set()
    for r in roles:
        if r in Role._value2member_map_:
            out |= ROLE_PERMISSIONS[Role(r)]
    return frozenset(out)


@dataclass(frozen=True)
class Principal:
    """Who is acting: resolved once per request from the bearer token."""

    token_id: uuid.UUID
    kind: str
    name: str
    staff_id: uuid.UUID | None
    roles: frozenset[str]
    permissions: frozenset[Perm]
    club_ids: frozenset[uuid.UUID] | None  # None: chain-wide
    member_id: uuid.UUID | None = None

    @property
    def chain_wide(self) -> bool:
        return self.club_ids is None

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles and self.chain_wide

    def can(self, perm: Perm) -> bool:
        return perm in self.permissions

    def require(self, perm: Perm) -> None:
        if perm not in self.permissions:
            raise Forbidden(f"This token may not do this (needs '{perm.value}').")

    def sees_club(self, club_id: uuid.UUID | None) -> bool:
        if self.club_ids is None:
            return True
        return club_id is not None and club_id in self.club_ids

    def require_club(self, club_id: uuid.UUID | None, what: str = "resource") -> None:
        """Another club's object is reported as missing, never as forbidden."""
        if not self.sees_club(club_id):
            raise NotFound(f"{what.capitalize()} not found.", code=f"{what}_not_found")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("Only a chain-wide admin may do this.")

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"
