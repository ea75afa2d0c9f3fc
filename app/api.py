"""One place that mounts every domain router under /api/v1 with its tag."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.access.router import router as access_router
from app.analytics.router import router as analytics_router
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.campaigns.router import router as campaigns_router
from app.checkins.router import router as checkins_router
from app.clubs.router import router as clubs_router
from app.complaints.router import router as complaints_router
from app.events.router import router as events_router
from app.feedback.router import router as feedback_router
from app.jobs.router import router as jobs_router
from app.meetings.router import router as meetings_router
from app.member_value.router import router as member_value_router
from app.members.router import router as members_router
from app.memberships.router import router as memberships_router
from app.messaging.router import router as messages_router
from app.onboarding.router import router as onboarding_router
from app.outreach.briefing_router import router as briefing_router
from app.outreach.router import router as calls_router
from app.plans.router import router as plans_router
from app.playbooks.router import router as playbooks_router
from app.promotions.router import quotes_router
from app.promotions.router import router as promotions_router
from app.referrals.router import router as referrals_router
from app.renewals.router import router as renewals_router
from app.risk.router import router as risk_router
from app.staff.router import router as staff_router
from app.webhooks.router import router as webhooks_router
from app.working_hours.router import router as working_hours_router

API_PREFIX = "/api/v1"

TAGS: list[dict[str, Any]] = [
    {"name": "Clubs", "description": "Clubs with time zone, currency, hours and policies."},
    {"name": "Staff", "description": "People, their roles and the clubs they act for."},
    {
        "name": "Members",
        "description": "Members' contact data and preferences, consents with their "
        "provenance, hand-off and conversation notes, and personal-data export and erasure.",
    },
    {
        "name": "Tokens",
        "description": "Bearer tokens for staff and integrations. Secrets are "
        "shown once and stored hashed.",
    },
    {
        "name": "Plans",
        "description": "Membership types a club (or the whole chain) sells: duration, "
        "price, visit limit, access hours, freeze policy and renewal targets.",
    },
    {
        "name": "Memberships",
        "description": "A member's contract on a plan, and its freezes. Dates are club-local "
        "and inclusive; status (pending, active, frozen, expired, cancelled) is derived as "
        "of the club's today. A plan of N days ends on start + N - 1; a plan of N months "
        "ends the day before the N-month anniversary (31 Jan + 1 month ends on the last "
        "day of February). Freezes and bonus days move the end date.",
    },
    {
        "name": "Onboarding",
        "description": "The first 100 days of a new membership: a checklist per new "
        "membership (first session with a trainer, wellness test, meeting the trainers, a "
        "weekly visit plan) with due dates, body-composition tests as progress over time, "
        "the member's visit plan (the lapse scan's baseline), and whether completing "
        "onboarding keeps members.",
    },
    {
        "name": "Campaigns",
        "description": "Marketing messages to a segment of a club's members (plans, terms "
        "ending soon, interests, birthdays), previewed first and sent once through the "
        "outbox: consent, caps, quiet hours and do-not-contact decide for every member, and "
        "the results show what was sent, what was refused and why, and the renewals that "
        "followed.",
    },
    {
        "name": "Playbooks",
        "description": "Each club's touchpoint plan: which call, message or task follows a "
        "purchase, an approaching end, a freeze, a birthday, a no-show, a resolved complaint, "
        "a lapse or a new month, when and how urgently. The `playbook` job turns due steps "
        "into calls and messages (through the contact policy) and staff tasks, once each.",
    },
    {
        "name": "Promotions",
        "description": "Purchase and renewal offers: one discount each (percent, amount, "
        "bonus days or free sessions), club-local date windows and usage limits.",
    },
    {
        "name": "Quotes",
        "description": "Pure price calculations: list price, the best or named promotion, "
        "final price, its end date, and whether renewing beats buying anew.",
    },
    {
        "name": "Messages",
        "description": "The outbox of SMS and e-mail to members: what was sent, what waits "
        "for quiet hours, and what the contact policy suppressed and why.",
    },
    {
        "name": "Webhooks",
        "description": "Subscribe an endpoint to events. Deliveries are signed "
        "(`Webhook-Signature`), retried with backoff for 24 hours, and logged.",
    },
    {
        "name": "Events",
        "description": "Every event as a replayable feed in a stable order: poll with "
        "`after` to catch up after downtime or instead of webhooks.",
    },
    {
        "name": "Check-ins",
        "description": "Visits from turnstiles, front desks and apps: one at a time or in "
        "bulk (JSON, NDJSON, CSV), idempotent by device event; the visit log and a "
        "member's attendance.",
    },
    {
        "name": "Access",
        "description": "May this member enter now? Allow or deny with the reason, in the "
        "club's local time.",
    },
    {
        "name": "Risk",
        "description": "Lapse risk: each member judged against their own habit, with the "
        "reasons in plain words; suppressed members and sleepers listed with why.",
    },
    {
        "name": "Meetings",
        "description": "In-club meetings (renewal, plan change, feedback, onboarding): "
        "consultants' working hours, free slots, booking without double booking, "
        "rescheduling, attendance, outcomes, and each consultant's calendar feed (.ics).",
    },
    {
        "name": "Complaints",
        "description": "Recover heroically: a complaint becomes a tracked case with an owner, "
        "a due time by severity, a resolution with its root cause and, where warranted, "
        "compensation (bonus days on the membership, free sessions) granted by a manager.",
    },
    {
        "name": "Feedback",
        "description": "Members' satisfaction scores (0-10) and comments from feedback calls, "
        "meetings and the desk; the scores give the club's NPS.",
    },
    {
        "name": "Referrals",
        "description": "Members recommend people: a lead (name and phone) becomes `joined` "
        "when the person signs up (the referrer is credited) or `lost`.",
    },
    {
        "name": "Calls",
        "description": "Service calls whose only goal is a meeting booked in the club: the "
        "queue (most urgent first), one open call per member with every reason merged, "
        "round-robin assignment to callers, attempts checked by the contact policy at the "
        "moment of dialling (quiet hours in club-local time, consent, caps), and outcomes "
        "from `meeting_booked` to `do_not_call`.",
    },
    {"name": "Jobs", "description": "Recurring jobs, their runs, and running one now."},
    {
        "name": "Analytics",
        "description": "Retention results of one club over a period of its local days, "
        "counted in the database: renewal rates, NPS, referrals, ... Each report states its "
        "definitions; `from`/`to` are inclusive club-local dates (default: the last 90 "
        "days).",
    },
    {
        "name": "Audit",
        "description": "The audit trail: who changed money, dates, consents, flags and "
        "compensation, when, from what to what. Club-scoped, newest first.",
    },
    {"name": "Health", "description": "Liveness, readiness and metrics."},
]

api_router = APIRouter(prefix=API_PREFIX)
# Starlette tries routes in order: the turnstile's hot paths first (a check-in otherwise
# walks ~150 routes first, a quarter of its server CPU). No other route matches their
# paths, so the order changes no routing (the console groups operations by tag anyway).
api_router.include_router(checkins_router, tags=["Check-ins"])
api_router.include_router(access_router, tags=["Access"])
api_router.include_router(clubs_router, tags=["Clubs"])
api_router.include_router(staff_router, tags=["Staff"])
api_router.include_router(members_router, tags=["Members"])
api_router.include_router(auth_router, tags=["Tokens"])
api_router.include_router(plans_router, tags=["Plans"])
api_router.include_router(memberships_router, tags=["Memberships"])
api_router.include_router(renewals_router, tags=["Memberships"])
api_router.include_router(promotions_router, tags=["Promotions"])
api_router.include_router(quotes_router, tags=["Quotes"])
api_router.include_router(member_value_router, tags=["Members"])
api_router.include_router(meetings_router, tags=["Meetings"])
api_router.include_router(working_hours_router, tags=["Meetings"])
api_router.include_router(onboarding_router, tags=["Onboarding"])
api_router.include_router(campaigns_router, tags=["Campaigns"])
api_router.include_router(playbooks_router, tags=["Playbooks"])
api_router.include_router(messages_router, tags=["Messages"])
api_router.include_router(webhooks_router, tags=["Webhooks"])
api_router.include_router(events_router, tags=["Events"])
api_router.include_router(risk_router, tags=["Risk"])
api_router.include_router(complaints_router, tags=["Complaints"])
api_router.include_router(briefing_router, tags=["Calls"])
api_router.include_router(feedback_router, tags=["Feedback"])
api_router.include_router(referrals_router, tags=["Referrals"])
api_router.include_router(calls_router, tags=["Calls"])
api_router.include_router(jobs_router, tags=["Jobs"])
api_router.include_router(analytics_router, tags=["Analytics"])
api_router.include_router(audit_router, tags=["Audit"])
