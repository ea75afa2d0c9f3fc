from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.access.schemas import AccessResult
from app.auth.permissions import Perm, Principal
from app.checkins.dependencies import MemberRefDep, Reader
from app.checkins.parsing import Source, format_for
from app.checkins.schemas import (
    AttendanceRead,
    BatchResult,
    CheckinCreate,
    CheckinRead,
    CheckinRecorded,
    RejectedRow,
)
from app.checkins.service import checkin_service
from app.core.clock import utcnow
from app.core.schemas import Instant, Page
from app.dependencies import PageDep, SessionDep, SettingsDep, requires
from app.errors import AppError, error_responses
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Writer = Annotated[Principal, Depends(requires(Perm.CHECKINS_WRITE))]

_CLUB = "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11"
_CSV_EXAMPLE = (
    "club_id,card_number,checked_in_at,source,device_id,device_event_id\n"
    f"{_CLUB},0004417021,2026-03-10T07:45:12+03:00,turnstile,gate-1,184467\n"
    f"{_CLUB},0004417388,2026-03-10T07:46:40+03:00,turnstile,gate-2,99120\n"
)
_NDJSON_EXAMPLE = (
    f'{{"club_id": "{_CLUB}", "card_number": "0004417021", '
    '"checked_in_at": "2026-03-10T07:45:12+03:00", "source": "turnstile", '
    '"device_id": "gate-1", "device_event_id": "184467"}\n'
    f'{{"club_id": "{_CLUB}", "member_id": "0190f5a3-1c2d-7e4f-8a9b-0c1d2e3f4a5b", '
    '"source": "front_desk"}\n'
)
_JSON_EXAMPLE: list[dict[str, Any]] = [
    {
        "club_id": _CLUB,
        "card_number": "0004417021",
        "checked_in_at": "2026-03-10T07:45:12+03:00",
        "source": "turnstile",
        "device_id": "gate-1",
        "device_event_id": "184467",
    },
    {
        "club_id": _CLUB,
        "member_id": "0190f5a3-1c2d-7e4f-8a9b-0c1d2e3f4a5b",
        "source": "front_desk",
    },
]

_BATCH_DESCRIPTION = f"""Record many check-ins in one request. The body is streamed, never
held whole, and may be:

- `application/json`: an array of check-in objects (the fields of `POST /checkins`);
- `application/x-ndjson`: one check-in object per line;
- `text/csv`: a header row with the same field names, then one check-in per line
  (empty cells are absent values; a quoted value may not span lines).

```
{_CSV_EXAMPLE}```

Good rows are kept when others fail: the answer counts `accepted` rows and
`duplicates` (device events already recorded with the same member and instant) and
lists `rejected` rows with their 0-based `index`, a `code` and, for NDJSON and CSV,
the `line`. Codes: `malformed_json`, `malformed_csv`, `malformed_row`, `invalid_row`,
`missing_field`, `invalid_field`, `naive_instant`, `checkin_in_future`,
`member_not_found`, `device_event_conflict`. Rows for clubs this token cannot see are
`member_not_found`.

The whole request fails, writing nothing, when: it has more rows than the limit
(`CLUB_RENEWAL_CHECKIN_BATCH_MAX_ROWS`, default 100,000) -> 413 `batch_too_large`; the
body is larger than `CLUB_RENEWAL_BATCH_MAX_BODY_BYTES` -> 413; a JSON array is not
valid JSON -> 422 `malformed_json`; the CSV header misses or misnames columns -> 422
`missing_columns` / `unknown_columns`; the content type is another -> 415.

One `checkin.recorded` event (`kind: batch`, with the count and the first and last
instant) is emitted per club per batch, not one per row."""


@router.post(
    "/checkins",
    summary="Record a check-in",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckinRecorded,
    responses={
        200: {
            "model": CheckinRecorded,
            "description": "A replay of a device event already recorded: the same check-in",
        },
        **error_responses(401, 403, 404, 409, 422),
    },
)
async def record_checkin(
    data: CheckinCreate, session: SessionDep, principal: Writer, response: Response
) -> CheckinRecorded:
    """Record one visit (even if access would be denied) with the access decision for it."""
    checkin, decision, created = await checkin_service.record(
        session, principal, data, as_of=utcnow()
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return CheckinRecorded(
        id=checkin.id,
        club_id=checkin.club_id,
        member_id=checkin.member_id,
        checked_in_at=checkin.checked_in_at,
        source=Source(checkin.source),
        device_id=checkin.device_id,
        device_event_id=checkin.device_event_id,
        created_at=checkin.created_at,
        access=AccessResult(
            allowed=decision.allowed,
            reason=decision.reason,
            membership_id=decision.membership_id,
        ),
    )


@router.post(
    "/checkins/batch",
    summary="Upload check-ins in bulk (JSON array, NDJSON or CSV)",
    description=_BATCH_DESCRIPTION,
    status_code=status.HTTP_200_OK,
    response_model=BatchResult,
    responses=error_responses(401, 403, 409, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/CheckinCreate"},
                    },
                    "example": _JSON_EXAMPLE,
                },
                "application/x-ndjson": {
                    "schema": {"type": "string"},
                    "example": _NDJSON_EXAMPLE,
                },
                "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
            },
        }
    },
)
async def upload_checkins(
    request: Request, session: SessionDep, principal: Writer, settings: SettingsDep
) -> BatchResult:
    """Record many check-ins from a streamed JSON array, NDJSON or CSV body."""
    fmt = format_for(request.headers.get("content-type"))
    if fmt is None:
        raise AppError(
            "Send application/json (an array), application/x-ndjson or text/csv, in UTF-8.",
            code="unsupported_media_type",
            status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    report = await checkin_service.ingest_upload(
        session,
        principal,
        fmt,
        request.stream(),
        as_of=utcnow(),
        max_rows=settings.checkin_batch_max_rows,
        chunk_rows=settings.checkin_batch_chunk_rows,
    )
    return BatchResult(
        accepted=report.accepted,
        duplicates=report.duplicates,
        rejected=[
            RejectedRow(index=r.index, code=r.code, detail=r.detail, line=r.line)
            for r in report.rejected
        ],
        rejected_count=report.rejected_count,
    )


@router.get(
    "/checkins",
    summary="List check-ins",
    response_model=Page[CheckinRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_checkins(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member's.")] = None,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club's.")] = None,
    since: Annotated[Instant | None, Query(description="From this instant (inclusive).")] = None,
    until: Annotated[Instant | None, Query(description="Before this instant (exclusive).")] = None,
) -> Page[CheckinRead]:
    """Check-ins of the clubs this token may see, newest first."""
    items, cursor = await checkin_service.list(
        session, principal, page, club_id=club_id, member_id=member_id, since=since, until=until
    )
    return Page[CheckinRead](
        items=[CheckinRead.model_validate(c) for c in items], next_cursor=cursor
    )


@router.get(
    "/members/{member_id}/attendance",
    summary="A member's attendance",
    response_model=AttendanceRead,
    responses=error_responses(401, 403, 404),
)
async def member_attendance(member: MemberRefDep, session: SessionDep) -> AttendanceRead:
    """Last visit, visits in 28 days, usual weekly rate and 26 weeks of counts (club-local)."""
    data = await checkin_service.attendance(session, member, as_of=utcnow())
    return AttendanceRead.model_validate(data)
