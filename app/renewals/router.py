from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from app.auth.permissions import Perm, Principal
from app.core.etags import etag_for
from app.dependencies import SessionDep, requires
from app.errors import error_responses
from app.memberships.dependencies import MembershipDep
from app.renewals.schemas import RENEWAL_RULE, RenewalCreate, RenewalRead
from app.renewals.service import renewal_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Writer = Annotated[Principal, Depends(requires(Perm.MEMBERSHIPS_WRITE))]

_CODES = {
    404: "`membership_not_found`, `plan_not_found`, `promotion_not_found`, `meeting_not_found`",
    409: "`already_renewed` (a membership is renewed at most once), `idempotency_in_flight`",
    422: "`validation_error`, `membership_not_active` (cancelled), `plan_not_renewable`, "
    "`plan_not_available` (another club's plan), `plan_inactive`, `promotion_expired`, "
    "`promotion_not_eligible`, `meeting_mismatch` (not this member's meeting, or cancelled "
    "or missed), `idempotency_key_reused`",
}


def _responses() -> dict[int | str, dict[str, Any]]:
    out = error_responses(401, 403, 404, 409, 422)
    for code, text in _CODES.items():
        out[code] = {**out[code], "description": text}
    out[201] = {"headers": {"ETag": {"description": "Send it back as `If-Match`."}}}
    return out


@router.post(
    "/memberships/{membership_id}/renewals",
    summary="Renew a membership",
    description="Renew a membership on the same or a target plan, priced like a quote.\n\n"
    + RENEWAL_RULE,
    status_code=status.HTTP_201_CREATED,
    response_model=RenewalRead,
    responses=_responses(),
)
async def renew_membership(
    membership: MembershipDep,
    data: RenewalCreate,
    session: SessionDep,
    principal: Writer,
    response: Response,
) -> RenewalRead:
    """Renew a membership on the same or a target plan, priced like a quote."""
    view = await renewal_service.renew(session, principal, membership, data)
    response.headers["ETag"] = etag_for(view.membership.id, view.membership.version)
    return RenewalRead.of_renewal(view.membership, view.status)
