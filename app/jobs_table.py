"""Every recurring job, in one table. Domains add their rows here."""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger

from app.campaigns.jobs import campaigns
from app.config import get_settings
from app.events.jobs import event_retention
from app.jobs.housekeeping import housekeeping
from app.meetings.jobs import meeting_reminders
from app.memberships.jobs import freeze_events
from app.messaging.jobs import messages
from app.outreach.jobs import call_maintenance
from app.playbooks.jobs import playbook
from app.risk.jobs import SCAN_LOCAL_HOUR, lapse_scan
from app.scheduler import JOBS, JobSpec, register
from app.webhooks.jobs import webhooks


def load_jobs() -> None:
    if JOBS:
        return
    settings = get_settings()
    register(
        JobSpec(
            name="housekeeping",
            func=housekeeping,
            trigger=IntervalTrigger(hours=1),
            description="Purge expired Idempotency-Key records and job runs older than 90 days.",
        )
    )
    register(
        JobSpec(
            name="freeze_events",
            func=freeze_events,
            # Each club's day starts at its own local midnight: a frequent, idempotent run
            # reports every freeze soon after its day begins, exactly once.
            trigger=IntervalTrigger(minutes=15),
            description="Emit freeze.started / freeze.ended when a freeze's first / last "
            "day arrives in the club's local date (each exactly once).",
        )
    )
    register(
        JobSpec(
            name="messages",
            func=messages,
            trigger=IntervalTrigger(seconds=settings.messages_interval_seconds),
            description="Send due SMS and e-mail through the provider; retry with backoff.",
            # A missed tick is not worth running late: the next one is seconds away.
            misfire_grace_seconds=max(30, 2 * settings.messages_interval_seconds),
        )
    )
    register(
        JobSpec(
            name="webhooks",
            func=webhooks,
            trigger=IntervalTrigger(seconds=settings.webhooks_interval_seconds),
            description="Fan new events out to subscriptions and deliver due webhooks.",
            misfire_grace_seconds=max(30, 2 * settings.webhooks_interval_seconds),
        )
    )
    register(
        JobSpec(
            name="event_retention",
            func=event_retention,
            trigger=IntervalTrigger(hours=1),
            description="Purge events (and their webhook deliveries) older than "
            "CLUB_RENEWAL_EVENTS_RETENTION_DAYS.",
        )
    )
    register(
        JobSpec(
            name="lapse_scan",
            func=lapse_scan,
            trigger=IntervalTrigger(hours=1),
            description=f"Lapse scan: every club once per local day from {SCAN_LOCAL_HOUR:02d}:00 "
            "(DST-correct, catches up a missed day); scores members, keeps history, "
            "emits member.at_risk.",
        )
    )
    register(
        JobSpec(
            name="meeting_reminders",
            func=meeting_reminders,
            # From 10:00 club-local each club's next-day meetings are reminded; frequent
            # runs catch meetings booked or moved later that day (each reminded once).
            trigger=IntervalTrigger(minutes=15),
            description="The day before (club-local, from 10:00), queue a service reminder "
            "of each meeting in the member's channel, outside the caps, once per start time.",
        )
    )
    register(
        JobSpec(
            name="campaigns",
            func=campaigns,
            trigger=IntervalTrigger(minutes=1),
            description="Send scheduled campaigns whose send_at has come (each exactly once; "
            "the contact policy defers messages outside quiet hours).",
        )
    )
    register(
        JobSpec(
            name="playbook",
            func=playbook,
            # Due steps are found on each club's local date; frequent idempotent runs pick
            # up a new day soon after its local midnight and anything new since.
            trigger=IntervalTrigger(minutes=15),
            description="Turn each club's due playbook steps into service calls (merged "
            "into the member's open call), messages and staff tasks, each exactly once.",
        )
    )
    register(
        JobSpec(
            name="call_maintenance",
            func=call_maintenance,
            trigger=IntervalTrigger(minutes=5),
            description="Service calls: close moot ones with why (visits resumed, renewed, "
            "renewal meeting booked, frozen, opted out), expire those past their window, and "
            "mark scheduled calls due when their time comes (call.due once each).",
        )
    )
