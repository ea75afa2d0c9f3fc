from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import AfterValidator, AwareDatetime

from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.members.dependencies import MemberDep
from app.members.schemas import (
    ConsentCreate,
    ConsentEventRead,
    ConsentsRead,
    MemberCreate,
    MemberExport,
    MemberRead,
    MemberUpdate,
    NoteCreate,
    NoteKind,
    NoteRead,
)
from app.members.service import MemberView, member_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.MEMBERS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.MEMBERS_WRITE))]
Eraser = Annotated[Principal, Depends(requires(Perm.MEMBERS_ERASE))]


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _read(view: MemberView) -> MemberRead:
    return MemberRead.build(view.member, view.consents, view.handoff_notes)


@router.post(
    "/members",
    summary="Add a member",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def create_member(data: MemberCreate, session: SessionDep, principal: Writer) -> MemberRead:
    """Add a member with contact data, preferences, consents and the hand-off note from sales."""
    view = await member_service.create(session, principal, data)
    return _read(view)


@router.get(
    "/members",
    summary="List and search members",
    response_model=Page[MemberRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_members(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only members of this club.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Search: every word must match the first or last name, e-mail or "
            "card number (case-insensitive); digits also match the phone, and a whole "
            "phone number in any common format matches it exactly.",
        ),
        AfterValidator(_no_nul),
    ] = None,
    do_not_contact: Annotated[
        bool | None, Query(description="Only members with (true) or without (false) the flag.")
    ] = None,
    include_erased: Annotated[
        bool, Query(description="Also list erased (anonymised) members.")
    ] = False,
    updated_since: Annotated[
        AwareDatetime | None,
        Query(description="Only members changed at or after this instant (with offset)."),
    ] = None,
) -> Page[MemberRead]:
    """Members of the clubs this token sees, by club, then last name and first name."""
    views, cursor = await member_service.search(
        session,
        principal,
        page,
        club_id=club_id,
        q=q,
        do_not_contact=do_not_contact,
        include_erased=include_erased,
        updated_since=updated_since,
    )
    return Page[MemberRead](items=[_read(v) for v in views], next_cursor=cursor)


@router.get(
    "/members/{member_id}",
    summary="Get a member",
    response_model=MemberRead,
    responses=error_responses(401, 403, 404),
)
async def get_member(session: SessionDep, _: Reader, member: MemberDep) -> MemberRead:
    """One member's card: contact data, preferences, current consents and hand-off notes."""
    return _read(await member_service.view(session, member))


@router.patch(
    "/members/{member_id}",
    summary="Update a member",
    response_model=MemberRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_member(
    data: MemberUpdate, session: SessionDep, principal: Writer, member: MemberDep
) -> MemberRead:
    """Change only the fields sent; null clears an optional field. Erased members: 409."""
    view = await member_service.update(session, principal, member, data)
    return _read(view)


@router.delete(
    "/members/{member_id}",
    summary="Erase a member's personal data",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    response_model=None,
    responses=error_responses(401, 403, 404),
)
async def erase_member(session: SessionDep, principal: Eraser, member: MemberDep) -> Response:
    """Anonymise the member's personal data everywhere; money and visit counts are kept."""
    await member_service.erase(session, principal, member)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/members/{member_id}/export",
    summary="Export a member's personal data",
    response_model=MemberExport,
    responses=error_responses(401, 403, 404),
)
async def export_member(session: SessionDep, principal: Reader, member: MemberDep) -> MemberExport:
    """All personal data kept about the member (audited); needs `audit:read` or its own token."""
    export = await member_service.export(session, principal, member)
    return MemberExport(
        member=_read(export.member), exported_at=export.exported_at, sections=export.sections
    )


@router.post(
    "/members/{member_id}/consents",
    summary="Record a consent decision",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsentEventRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def record_consent(
    data: ConsentCreate, session: SessionDep, principal: Writer, member: MemberDep
) -> ConsentEventRead:
    """Append a grant or a withdrawal (granted=false) with its source; history is kept."""
    event = await member_service.record_consent(session, principal, member, data)
    return ConsentEventRead.model_validate(event)


@router.get(
    "/members/{member_id}/consents",
    summary="Get a member's consents",
    response_model=ConsentsRead,
    responses=error_responses(401, 403, 404),
)
async def get_consents(session: SessionDep, _: Reader, member: MemberDep) -> ConsentsRead:
    """Current state per purpose (the latest event wins) and the full history, newest first."""
    view = await member_service.consents(session, member)
    return ConsentsRead.build(view.current, view.history)


@router.post(
    "/members/{member_id}/notes",
    summary="Add a note",
    status_code=status.HTTP_201_CREATED,
    response_model=NoteRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def add_note(
    data: NoteCreate, session: SessionDep, principal: Writer, member: MemberDep
) -> NoteRead:
    """Add a hand-off, desk, call or meeting note; hand-off notes appear on the member card."""
    note = await member_service.add_note(session, principal, member, data)
    return NoteRead.model_validate(note)


@router.get(
    "/members/{member_id}/notes",
    summary="List a member's notes",
    response_model=Page[NoteRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_notes(
    session: SessionDep,
    _: Reader,
    member: MemberDep,
    page: PageDep,
    kind: Annotated[NoteKind | None, Query(description="Only notes of this kind.")] = None,
) -> Page[NoteRead]:
    """The member's notes, newest first."""
    notes, cursor = await member_service.notes(session, member, page, kind=kind)
    return Page[NoteRead](items=[NoteRead.model_validate(n) for n in notes], next_cursor=cursor)
