from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import ApiToken, Staff
from app.models.staff import staff_clubs


@dataclass(frozen=True, slots=True)
class Credential:
    """What authenticating a request needs of a token and its staff member."""

    id: uuid.UUID
    kind: str
    name: str
    staff_id: uuid.UUID | None
    club_id: uuid.UUID | None
    member_id: uuid.UUID | None
    scopes: list[str] | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None
    # The staff member (None when the token has none): name, roles, active, clubs.
    staff_name: str | None
    staff_roles: list[str] | None
    staff_active: bool | None
    staff_club_ids: frozenset[uuid.UUID]


_T = ApiToken.__table__.c
_S = Staff.__table__.c
# Every request runs this: one Core statement (no ORM entities, no eager-load queries)
# returning one row per club of the token's staff member, or one row without a club.
# Built once with a bound parameter, so its cache key is computed once, not per request.
_CREDENTIAL = (
    select(
        _T.id,
        _T.kind,
        _T.name,
        _T.staff_id,
        _T.club_id,
        _T.member_id,
        _T.scopes,
        _T.last_used_at,
        _T.revoked_at,
        _T.expires_at,
        _S.name,
        _S.roles,
        _S.active,
        staff_clubs.c.club_id,
    )
    .select_from(ApiToken.__table__)
    .outerjoin(Staff.__table__, _S.id == _T.staff_id)
    .outerjoin(staff_clubs, staff_clubs.c.staff_id == _S.id)
    .where(_T.token_hash == bindparam("token_hash"))
)


async def credential_by_hash(session: AsyncSession, token_hash: str) -> Credential | None:
    rows = (await session.execute(_CREDENTIAL, {"token_hash": token_hash})).all()
    if not rows:
        return None
    (tid, kind, name, staff_id, club_id, member_id, scopes, used, revoked, expires) = rows[0][:10]
    staff_name, staff_roles, staff_active = rows[0][10:13]
    return Credential(
        id=tid,
        kind=kind,
        name=name,
        staff_id=staff_id,
        club_id=club_id,
        member_id=member_id,
        scopes=scopes,
        last_used_at=used,
        revoked_at=revoked,
        expires_at=expires,
        staff_name=staff_name,
        staff_roles=staff_roles,
        staff_active=staff_active,
        staff_club_ids=frozenset(r[13] for r in rows if r[13] is not None),
    )


async def get(session: AsyncSession, token_id: uuid.UUID) -> ApiToken | None:
    return await session.get(ApiToken, token_id)


async def touch(session: AsyncSession, token_id: uuid.UUID, at: datetime) -> None:
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


async def list_for_staff(session: AsyncSession, staff_id: uuid.UUID) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.staff_id == staff_id).order_by(ApiToken.created_at)
    return list((await session.scalars(stmt)).all())


async def list_all(session: AsyncSession, club_ids: frozenset[uuid.UUID] | None) -> list[ApiToken]:
    stmt = select(ApiToken).options(selectinload(ApiToken.staff).selectinload(Staff.clubs))
    if club_ids is not None:
        stmt = stmt.where(ApiToken.club_id.in_(club_ids))
    return list((await session.scalars(stmt.order_by(ApiToken.created_at))).all())
