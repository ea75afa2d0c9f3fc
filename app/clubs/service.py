"""Clubs: time zone, currency, hours and the policies every other domain reads."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal
from app.clubs import repository
from app.clubs.schemas import (
    DEFAULT_OPENING,
    ClubCreate,
    ClubUpdate,
    ContactPolicy,
    MeetingSettings,
    OpeningHours,
)
from app.core.pagination import PageParams, SortKey, paginate
from app.errors import NotFound, RuleViolation
from app.models import Club


def _hours_json(hours: list[OpeningHours]) -> dict[str, Any]:
    return {str(h.weekday): [h.opens.strftime("%H:%M"), h.closes.strftime("%H:%M")] for h in hours}


class ClubService:
    async def create(self, session: AsyncSession, actor: Principal, data: ClubCreate) -> Club:
        actor.require(Perm.CLUBS_WRITE)
        actor.require_admin()
        club = Club(
            name=data.name,
            timezone=data.timezone,
            currency=data.currency,
            address=data.address,
            phone=data.phone,
            quiet_hours_start=data.quiet_hours_start,
            quiet_hours_end=data.quiet_hours_end,
            opening_hours=_hours_json(data.opening_hours or DEFAULT_OPENING),
            contact_policy=(data.contact_policy or ContactPolicy()).model_dump(),
            meeting_settings=(data.meeting_settings or MeetingSettings()).model_dump(),
            freeze_ends_on_visit=data.freeze_ends_on_visit,
        )
        session.add(club)
        await session.flush()
        audit_service.record(
            session,
            actor,
            entity="club",
            entity_id=club.id,
            action="created",
            changes={"name": club.name, "timezone": club.timezone, "currency": club.currency},
            club_id=club.id,
        )
        return club

    async def get(self, session: AsyncSession, actor: Principal, club_id: uuid.UUID) -> Club:
        club = await session.get(Club, club_id)
        if club is None or not actor.sees_club(club.id):
            raise NotFound("Club not found.", code="club_not_found")
        return club

    async def list(
        self, session: AsyncSession, actor: Principal, page: PageParams
    ) -> tuple[list[Club], str | None]:
        stmt = repository.visible(actor.club_ids)
        return await paginate(
            session, stmt, [SortKey(Club.id)], page, scope="clubs", key_of=lambda c: [c.id]
        )

    async def update(
        self, session: AsyncSession, actor: Principal, club: Club, data: ClubUpdate
    ) -> Club:
        actor.require(Perm.CLUBS_WRITE)
        changes = data.model_dump(exclude_unset=True)
        for field in (
            "name",
            "timezone",
            "currency",
            "quiet_hours_start",
            "quiet_hours_end",
            "active",
            "freeze_ends_on_visit",
        ):
            if field in changes and changes[field] is None:
                raise RuleViolation(
                    f"{field} cannot be null.",
                    code="validation_error",
                    errors=[{"pointer": f"/{field}", "detail": "cannot be null"}],
                )
        before = {k: getattr(club, k) for k in changes}
        if "opening_hours" in changes:
            changes["opening_hours"] = _hours_json(data.opening_hours or [])
        if "contact_policy" in changes:
            changes["contact_policy"] = (data.contact_policy or ContactPolicy()).model_dump()
        if "meeting_settings" in changes:
            changes["meeting_settings"] = (data.meeting_settings or MeetingSettings()).model_dump()
        start = changes.get("quiet_hours_start", club.quiet_hours_start)
        end = changes.get("quiet_hours_end", club.quiet_hours_end)
        if start >= end:
            raise RuleViolation(
                "quiet_hours_start must be before quiet_hours_end.",
                code="validation_error",
                errors=[{"pointer": "/quiet_hours_start", "detail": "must be before end"}],
            )
        for k, v in changes.items():
            setattr(club, k, v)
        diff = audit_service.diff(before, changes)
        if diff:
            audit_service.record(
                session,
                actor,
                entity="club",
                entity_id=club.id,
                action="updated",
                changes=diff,
                club_id=club.id,
            )
        await session.flush()
        return club


club_service = ClubService()
