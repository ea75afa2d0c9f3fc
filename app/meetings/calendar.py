"""A consultant's meetings as an iCalendar feed (RFC 5545) that calendar apps subscribe to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vDuration

from app.models import Meeting
from app.models.meeting import MeetingPurpose, MeetingStatus

# What the feed holds: from a day back (today's meetings stay visible) to this far ahead.
LOOKBACK = timedelta(days=1)
HORIZON = timedelta(days=180)
MAX_EVENTS = 2000
REFRESH = timedelta(minutes=15)

PURPOSE_LABELS = {
    MeetingPurpose.RENEWAL: "Renewal meeting",
    MeetingPurpose.PLAN_CHANGE: "Plan change",
    MeetingPurpose.FEEDBACK: "Feedback meeting",
    MeetingPurpose.ONBOARDING: "Onboarding",
}


def _event(m: Meeting, *, as_of: datetime) -> Event:
    member = f"{m.member.first_name} {m.member.last_name}".strip()
    purpose = PURPOSE_LABELS[MeetingPurpose(m.purpose)]
    club = m.club.name
    location = club if not m.club.address else f"{club}, {m.club.address}"
    event = Event()
    event.add("uid", f"{m.id}@club-renewal")
    event.add("dtstamp", as_of)
    event.add("dtstart", m.starts_at)
    event.add("dtend", m.ends_at)
    event.add("summary", f"{purpose}: {member}")
    event.add("location", location)
    event.add(
        "description",
        f"Member: {member}\nPurpose: {purpose}\nClub: {club}\nStatus: {m.status}\n"
        f"Meeting id: {m.id}",
    )
    event.add("status", "TENTATIVE" if m.status == MeetingStatus.BOOKED.value else "CONFIRMED")
    # Bumped on every change, so subscribed apps replace their copy.
    event.add("sequence", m.version)
    event.add("last-modified", m.updated_at)
    return event


def render(meetings: Sequence[Meeting], *, calendar_name: str, as_of: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//club-renewal//meetings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    for m in meetings:
        cal.add_component(_event(m, as_of=as_of))
    body: bytes = cal.to_ical()
    return body
