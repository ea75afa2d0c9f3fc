"""Tokens: issue (secret shown once), authenticate, revoke."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth import repository
from app.auth.permissions import Perm, Principal, Role, permissions_for
from app.auth.repository import Credential
from app.errors import Forbidden, NotFound, RuleViolation, Unauthorized
from app.models import ApiToken, Club, Staff

TOKEN_PREFIX = "crk_"
# last_used_at is a hint for people, not an audit log: refreshing it at most once a
# minute keeps a write off the hot path of every request.
TOUCH_INTERVAL = timedelta(seconds=60)


def hash_secret(raw: str) -> str:
    # Tokens are 256-bit random strings: a plain SHA-256 is enough (no password stretching
    # needed) and keeps lookup a single indexed equality.
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class AuthService:
    async def authenticate(self, session: AsyncSession, raw: str, now: datetime) -> Principal:
        if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
            raise Unauthorized("The bearer token is not valid.", code="invalid_token")
        token = await repository.credential_by_hash(session, hash_secret(raw))
        if token is None:
            raise Unauthorized("The bearer token is not valid.", code="invalid_token")
        if token.revoked_at is not None:
            raise Unauthorized("This token has been revoked.", code="token_revoked")
        if token.expires_at is not None and token.expires_at <= now:
            raise Unauthorized("This token has expired.", code="token_expired")
        if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
            await repository.touch(session, token.id, now)
        return self.principal_for(token)

    def principal_for(self, token: Credential) -> Principal:
        if token.kind == "staff":
            if not token.staff_active or token.staff_name is None:  # no staff, or inactive
                raise Unauthorized("This token's staff member is inactive.", code="token_revoked")
            roles = frozenset(token.staff_roles or ())
            perms = permissions_for(roles)
            if token.scopes is not None:
                perms = perms & frozenset(Perm(s) for s in token.scopes)
            chain_wide = Role.ADMIN in roles
            return Principal(
                token_id=token.id,
                kind="staff",
                name=token.staff_name,
                staff_id=token.staff_id,
                roles=roles,
                permissions=perms,
                club_ids=None if chain_wide else token.staff_club_ids,
            )
        return Principal(
            token_id=token.id,
            kind="integration",
            name=token.name,
            staff_id=None,
            roles=frozenset(),
            permissions=frozenset(Perm(s) for s in (token.scopes or [])),
            club_ids=None if token.club_id is None else frozenset({token.club_id}),
            member_id=token.member_id,
        )

    def _check_scopes(self, scopes: list[str] | None) -> list[str] | None:
        if scopes is None:
            return None
        unknown = sorted(set(scopes) - {p.value for p in Perm})
        if unknown:
            raise RuleViolation(
                f"Unknown scopes: {', '.join(unknown)}.",
                code="unknown_scope",
                errors=[{"pointer": "/scopes", "detail": f"unknown scope {u}"} for u in unknown],
            )
        return sorted(set(scopes))

    async def issue_staff_token(
        self,
        session: AsyncSession,
        actor: Principal | None,
        staff: Staff,
        *,
        name: str,
        scopes: list[str] | None,
    ) -> tuple[ApiToken, str]:
        """A token that acts as `staff`. Shown once; only its hash is kept."""
        if actor is not None and actor.staff_id != staff.id:
            actor.require(Perm.TOKENS_WRITE)
            if Role.ADMIN in staff.roles and not actor.is_admin:
                raise Forbidden("Only an admin may issue tokens for an admin.")
            if not actor.chain_wide and not set(staff.club_ids) <= set(actor.club_ids or ()):
                raise NotFound("Staff member not found.", code="staff_not_found")
        raw = _new_secret()
        token = ApiToken(
            id=uuid.uuid4(),
            name=name,
            kind="staff",
            staff_id=staff.id,
            scopes=self._check_scopes(scopes),
            token_hash=hash_secret(raw),
            prefix=raw[:12],
            created_by_id=actor.staff_id if actor else None,
        )
        session.add(token)
        audit_service.record(
            session,
            actor,
            entity="token",
            entity_id=token.id,
            action="issued",
            changes={"staff_id": staff.id, "name": name, "scopes": token.scopes},
            club_id=None,
        )
        await session.flush()
        return token, raw

    async def issue_integration_token(
        self,
        session: AsyncSession,
        actor: Principal,
        club: Club,
        *,
        name: str,
        scopes: list[str],
        member_id: uuid.UUID | None,
    ) -> tuple[ApiToken, str]:
        actor.require(Perm.TOKENS_WRITE)
        actor.require_club(club.id, "club")
        checked = self._check_scopes(scopes) or []
        if not checked:
            raise RuleViolation(
                "An integration token needs at least one scope.", code="unknown_scope"
            )
        raw = _new_secret()
        token = ApiToken(
            id=uuid.uuid4(),
            name=name,
            kind="integration",
            club_id=club.id,
            member_id=member_id,
            scopes=checked,
            token_hash=hash_secret(raw),
            prefix=raw[:12],
            created_by_id=actor.staff_id,
        )
        session.add(token)
        audit_service.record(
            session,
            actor,
            entity="token",
            entity_id=token.id,
            action="issued",
            changes={"club_id": club.id, "name": name, "scopes": checked},
            club_id=club.id,
        )
        await session.flush()
        return token, raw

    async def get_visible(
        self, session: AsyncSession, actor: Principal, token_id: uuid.UUID
    ) -> ApiToken:
        token = await repository.get(session, token_id)
        if token is None:
            raise NotFound("Token not found.", code="token_not_found")
        if token.staff_id is not None and token.staff_id == actor.staff_id:
            return token
        actor.require(Perm.TOKENS_WRITE)
        if token.kind == "integration":
            actor.require_club(token.club_id, "token")
        elif not actor.chain_wide:
            # Non-admins manage only tokens of staff inside their clubs.
            staff = await session.get(Staff, token.staff_id)
            if staff is not None:
                await session.refresh(staff, ["clubs"])
            if staff is None or not set(staff.club_ids) <= set(actor.club_ids or ()):
                raise NotFound("Token not found.", code="token_not_found")
        return token

    async def list_for_staff(
        self, session: AsyncSession, actor: Principal, staff: Staff
    ) -> list[ApiToken]:
        if actor.staff_id != staff.id:
            actor.require(Perm.TOKENS_WRITE)
        return await repository.list_for_staff(session, staff.id)

    async def revoke(
        self, session: AsyncSession, actor: Principal | None, token: ApiToken, now: datetime
    ) -> ApiToken:
        if token.revoked_at is None:
            token.revoked_at = now
            audit_service.record(
                session,
                actor,
                entity="token",
                entity_id=token.id,
                action="revoked",
                changes={},
                club_id=token.club_id,
            )
            await session.flush()
        return token


auth_service = AuthService()
