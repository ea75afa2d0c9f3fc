"""Staff: who works where, in which roles."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal, Role
from app.core.pagination import PageParams, SortKey, paginate
from app.errors import Forbidden, NotFound, RuleViolation
from app.models import Club, Staff
from app.staff import repository
from app.staff.schemas import StaffCreate, StaffUpdate


class StaffService:
    async def _clubs(
        self, session: AsyncSession, actor: Principal | None, ids: list[uuid.UUID]
    ) -> list[Club]:
        unique = list(dict.fromkeys(ids))
        clubs = await repository.clubs_by_ids(session, unique)
        found = {c.id for c in clubs}
        for cid in unique:
            if cid not in found or (actor is not None and not actor.sees_club(cid)):
                raise NotFound("Club not found.", code="club_not_found")
        return clubs

    def _check_roles(self, actor: Principal | None, roles: list[Role], clubs: list[Club]) -> None:
        if Role.ADMIN in roles:
            if actor is not None and not actor.is_admin:
                raise Forbidden("Only an admin may grant the admin role.")
        elif not clubs:
            raise RuleViolation(
                "Staff other than admins must act for at least one club.",
                code="validation_error",
                errors=[{"pointer": "/club_ids", "detail": "at least one club is required"}],
            )

    async def create(
        self, session: AsyncSession, actor: Principal | None, data: StaffCreate
    ) -> Staff:
        if actor is not None:
            actor.require(Perm.STAFF_WRITE)
        clubs = await self._clubs(session, actor, data.club_ids)
        roles = list(dict.fromkeys(data.roles))
        self._check_roles(actor, roles, clubs)
        staff = Staff(name=data.name, email=data.email, roles=[r.value for r in roles], active=True)
        staff.clubs = clubs
        session.add(staff)
        await session.flush()
        audit_service.record(
            session,
            actor,
            entity="staff",
            entity_id=staff.id,
            action="created",
            changes={"roles": staff.roles, "club_ids": [c.id for c in clubs]},
            club_id=None,
        )
        return staff

    async def get(self, session: AsyncSession, actor: Principal, staff_id: uuid.UUID) -> Staff:
        staff = await repository.get(session, staff_id)
        if staff is None:
            raise NotFound("Staff member not found.", code="staff_not_found")
        if actor.staff_id == staff.id or actor.chain_wide:
            return staff
        if not any(actor.sees_club(cid) for cid in staff.club_ids):
            raise NotFound("Staff member not found.", code="staff_not_found")
        return staff

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
        active: bool | None,
    ) -> tuple[list[Staff], str | None]:
        if club_id is not None:
            actor.require_club(club_id, "club")
        stmt = repository.listing(actor.club_ids, club_id=club_id, active=active)
        return await paginate(
            session, stmt, [SortKey(Staff.id)], page, scope="staff", key_of=lambda s: [s.id]
        )

    async def update(
        self, session: AsyncSession, actor: Principal, staff: Staff, data: StaffUpdate
    ) -> Staff:
        actor.require(Perm.STAFF_WRITE)
        if not actor.chain_wide and not set(staff.club_ids) <= set(actor.club_ids or ()):
            raise Forbidden("This staff member also works for clubs outside your scope.")
        if Role.ADMIN in staff.roles and not actor.is_admin:
            raise Forbidden("Only an admin may change an admin.")
        changes = data.model_dump(exclude_unset=True)
        for field in ("name", "roles", "club_ids", "active"):
            if field in changes and changes[field] is None:
                raise RuleViolation(
                    f"{field} cannot be null.",
                    code="validation_error",
                    errors=[{"pointer": f"/{field}", "detail": "cannot be null"}],
                )
        before = {
            "roles": staff.roles,
            "club_ids": staff.club_ids,
            "active": staff.active,
            "name": staff.name,
            "email": staff.email,
        }
        clubs = staff.clubs
        if "club_ids" in changes:
            clubs = await self._clubs(session, actor, data.club_ids or [])
        roles = (
            list(dict.fromkeys(data.roles))
            if data.roles is not None
            else [Role(r) for r in staff.roles]
        )
        self._check_roles(actor, roles, clubs)
        if data.name is not None:
            staff.name = data.name
        if "email" in changes:
            staff.email = data.email
        staff.roles = [r.value for r in roles]
        staff.clubs = clubs
        if data.active is not None:
            staff.active = data.active
        after = {
            "roles": staff.roles,
            "club_ids": staff.club_ids,
            "active": staff.active,
            "name": staff.name,
            "email": staff.email,
        }
        diff = audit_service.diff(before, after)
        if diff:
            audit_service.record(
                session,
                actor,
                entity="staff",
                entity_id=staff.id,
                action="updated",
                changes=diff,
                club_id=None,
            )
        await session.flush()
        return staff


staff_service = StaffService()
