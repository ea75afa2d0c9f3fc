"""The `playbook` job: each trigger on the right club-local day, once."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from httpx import AsyncClient

from app.core.timezones import local_midnight_utc
from app.db import Database
from app.playbooks.jobs import playbook
from tests.fixtures.factories import bearer
from tests.fixtures.integrations import set_consent
from tests.fixtures.ledger import make_freeze
from tests.fixtures.meetings import make_meeting
from tests.fixtures.retention import problem
from tests.playbooks.helpers import (
    NOON,
    TODAY,
    assess,
    calls,
    days,
    effects,
    held,
    member,
    messages,
    old_member,
    plan,
    resolved_complaint,
    run,
    set_timezone,
)

MSK = "Europe/Moscow"


def cid(club: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(club["id"])


class TestPurchase:
    async def test_thank_you_on_day_zero_welcome_call_from_day_three(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        await held(db, m, p, start=TODAY, sold_at=NOON)
        counts = await run(db, NOON)
        assert counts["messages_queued"] == 1
        [thanks] = await effects(db, "thank_you")
        [msg] = await messages(db, m.id)
        assert (msg.template, msg.status, thanks.message_id) == ("thank_you", "queued", msg.id)
        assert await effects(db, "welcome_call") == []
        await run(db, NOON + days(2))
        assert await effects(db, "welcome_call") == []
        counts = await run(db, NOON + days(3))
        assert counts["calls_created"] == 1
        [welcome] = await effects(db, "welcome_call")
        [call] = await calls(db, m.id)
        assert welcome.call_id == call.id
        assert call.kind == "welcome"
        assert call.reasons[0]["text"] == "Welcome call: joined 3 days ago"
        assert call.reasons[0]["code"] == "welcome_call"
        # Due window: local days 3..7 after the purchase.
        assert call.due_from == local_midnight_utc(MSK, TODAY + days(3))
        assert call.due_until == local_midnight_utc(MSK, TODAY + days(8))

    async def test_the_welcome_window_closes_after_day_seven(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        await held(db, m, p, start=TODAY, sold_at=NOON)
        await run(db, NOON + days(8))
        assert await effects(db, "welcome_call") == []
        assert await effects(db, "thank_you") == []

    async def test_renewals_get_no_onboarding(self, db: Database, club: dict[str, Any]) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        await held(db, m, p, start=TODAY, sold_at=NOON, source="renewal")
        await run(db, NOON)
        assert await effects(db) == []

    async def test_the_day_is_the_clubs_local_day_not_utcs(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        # Auckland is UTC+13 in March: sold at 14:00 local on 10 March = 01:00 UTC.
        await set_timezone(db, club["id"], "Pacific/Auckland")
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        sold = datetime.fromisoformat("2026-03-10T01:00:00+00:00")
        await held(db, m, p, start=TODAY, sold_at=sold)
        # 12 March 23:00 local (10:00 UTC): day 2 locally - not yet.
        await run(db, datetime.fromisoformat("2026-03-12T10:00:00+00:00"))
        assert await effects(db, "welcome_call") == []
        # 13 March 01:00 local, still 12 March in UTC: day 3 locally - due.
        await run(db, datetime.fromisoformat("2026-03-12T12:00:00+00:00"))
        [welcome] = await effects(db, "welcome_call")
        [call] = await calls(db, m.id)
        assert call.due_from == local_midnight_utc("Pacific/Auckland", date(2026, 3, 13))
        # Outside quiet hours (01:00): scheduled for 09:00 local.
        assert call.status == "scheduled"
        assert call.next_attempt_at == datetime.fromisoformat("2026-03-12T20:00:00+00:00")

    async def test_a_window_across_the_spring_dst_change_ends_at_local_midnight(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        # Berlin moves to CEST on 29 March 2026. Sold on 23 March (CET): the welcome
        # call's window is local days 26-30 March, ending at midnight CEST (22:00 UTC),
        # not an hour later as 24-hour arithmetic from CET would say.
        await set_timezone(db, club["id"], "Europe/Berlin")
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        sold = datetime.fromisoformat("2026-03-23T11:00:00+00:00")
        await held(db, m, p, start=date(2026, 3, 23), sold_at=sold)
        await run(db, datetime.fromisoformat("2026-03-26T10:00:00+00:00"))
        [call] = await calls(db, m.id)
        assert call.due_from == datetime.fromisoformat("2026-03-25T23:00:00+00:00")
        assert call.due_until == datetime.fromisoformat("2026-03-30T22:00:00+00:00")
        assert call.due_until == local_midnight_utc("Europe/Berlin", date(2026, 3, 31))


class TestExpiryApproaching:
    async def test_renewal_call_thirty_days_before_the_end(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        due = await old_member(db, club["id"], p, end=TODAY + days(30))
        last_day = await old_member(db, club["id"], p, end=TODAY + days(23))
        early = await old_member(db, club["id"], p, end=TODAY + days(31))
        await run(db, NOON)
        found = {e.member_id for e in await effects(db, "renewal_call_30")}
        assert found == {due.id, last_day.id}
        assert early.id not in found
        [call] = await calls(db, due.id)
        assert call.kind == "renewal"
        assert call.reasons[0]["text"] == "Renewal call: membership ends on 2026-04-09 (in 30 days)"

    async def test_a_renewed_membership_gets_no_renewal_call(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        old = await held(db, m, p, start=TODAY - days(335), end=TODAY + days(30))
        await held(
            db,
            m,
            p,
            start=TODAY + days(31),
            sold_at=NOON - days(1),
            source="renewal",
            renews_id=old.id,
        )
        await run(db, NOON)
        assert await effects(db, "renewal_call_30") == []
        assert await calls(db, m.id) == []


class TestOtherTriggers:
    async def test_post_freeze_call_the_day_after_a_freeze_ends(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        ms = await held(db, m, p, start=TODAY - days(200))
        await make_freeze(db, ms, start_date=TODAY - days(20), end_date=TODAY - days(1))
        cancelled = await member(db, club["id"])
        ms2 = await held(db, cancelled, p, start=TODAY - days(200))
        await make_freeze(
            db, ms2, start_date=TODAY - days(20), end_date=TODAY - days(1), cancelled_at=NOON
        )
        await run(db, NOON - days(1))
        assert await effects(db, "post_freeze_call") == []
        await run(db, NOON)
        [effect] = await effects(db, "post_freeze_call")
        assert effect.member_id == m.id
        assert effect.membership_id == ms.id
        [call] = await calls(db, m.id)
        assert call.kind == "post_freeze"
        assert call.reasons[0]["text"] == "Post-freeze call: freeze ended on 2026-03-09"

    async def test_birthday_greeting_on_the_birthday(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        today = await member(db, club["id"], birth_date=date(1990, 3, 10))
        tomorrow = await member(db, club["id"], birth_date=date(1990, 3, 11))
        for m in (today, tomorrow):
            await held(db, m, p, start=TODAY - days(200))
        await run(db, NOON)
        [effect] = await effects(db, "birthday_greeting")
        assert (effect.member_id, effect.anchor) == (today.id, "birthday:2026")
        [msg] = await messages(db, today.id)
        assert (msg.template, msg.category, msg.status) == (
            "birthday_greeting",
            "service",
            "queued",
        )
        assert await messages(db, tomorrow.id) == []

    async def test_no_show_follow_up_call(self, db: Database, club: dict[str, Any]) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        await held(db, m, p, start=TODAY - days(200))
        meeting = await make_meeting(
            db, m, starts_at=NOON - days(1), status="no_show", no_show_at=NOON - days(1)
        )
        await run(db, NOON)
        [effect] = await effects(db, "no_show_follow_up")
        assert effect.anchor == f"meeting:{meeting.id.hex}"
        [call] = await calls(db, m.id)
        assert call.kind == "no_show"
        assert call.reasons[0]["text"] == "No-show follow-up: missed a meeting on 2026-03-09"

    async def test_complaint_follow_up_three_days_after_resolution(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        await held(db, m, p, start=TODAY - days(200))
        await resolved_complaint(db, m, NOON - days(2))
        await run(db, NOON)
        assert await effects(db, "complaint_follow_up") == []
        await run(db, NOON + days(1))
        [effect] = await effects(db, "complaint_follow_up")
        [call] = await calls(db, m.id)
        assert (call.kind, effect.call_id) == ("complaint_follow_up", call.id)

    async def test_lapse_call_once_per_at_risk_run(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        ms = await held(db, m, p, start=TODAY - days(200))
        calm = await member(db, club["id"])
        ms_calm = await held(db, calm, p, start=TODAY - days(200))
        hidden = await member(db, club["id"])
        ms_hidden = await held(db, hidden, p, start=TODAY - days(200))
        await assess(db, m, ms, TODAY - days(2), level="ok", score=10)
        await assess(db, m, ms, TODAY - days(1), level="at_risk", score=60)
        await assess(db, m, ms, TODAY, level="at_risk", score=65)
        await assess(db, calm, ms_calm, TODAY, level="watch", score=40)
        await assess(db, hidden, ms_hidden, TODAY, level="lapsed", score=90, suppressed="frozen")
        await run(db, NOON)
        [effect] = await effects(db, "lapse_call")
        assert (effect.member_id, effect.anchor) == (m.id, "lapse:2026-03-09")
        [call] = await calls(db, m.id)
        assert call.kind == "lapse"
        assert call.reasons[0]["text"] == "Lapse call: at risk since 2026-03-09, risk score 65"
        assert await calls(db, calm.id) == []
        assert await calls(db, hidden.id) == []


class TestMonthly:
    async def test_whats_new_once_a_month_only_with_marketing_consent(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        first = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
        yes = await member(db, club["id"], consents={"marketing_sms": True, "service_sms": True})
        no = await member(db, club["id"], consents={"service_sms": True})
        withdrawn = await member(db, club["id"], consents={})
        for granted, at in ((True, first - days(10)), (False, first - days(1))):
            await set_consent(db, withdrawn.id, withdrawn.club_id, "marketing_email", granted, at)
        for m in (yes, no, withdrawn):
            await held(db, m, p, start=TODAY - days(200))
        await run(db, first)
        await run(db, first + days(2))
        found = await effects(db, "whats_new")
        assert [(e.member_id, e.anchor) for e in found] == [(yes.id, "month:2026-03")]
        [msg] = await messages(db, yes.id)
        assert (msg.template, msg.category, msg.channel) == ("whats_new", "marketing", "sms")
        assert await messages(db, no.id) == []
        assert await messages(db, withdrawn.id) == []
        await run(db, first + days(10))  # past the first week: nothing more in March
        assert len(await effects(db, "whats_new")) == 1
        await run(db, datetime.fromisoformat("2026-04-01T09:00:00+00:00"))
        april = [e.anchor for e in await effects(db, "whats_new")]
        assert april == ["month:2026-03", "month:2026-04"]


class TestIdempotency:
    async def test_running_twice_creates_nothing_twice(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        new = await member(db, club["id"], birth_date=date(1980, 3, 10))
        await held(db, new, p, start=TODAY - days(3), sold_at=NOON - days(3))
        await old_member(db, club["id"], p, end=TODAY + days(14))
        first = await run(db, NOON)
        assert first["calls_created"] == 2
        assert first["messages_queued"] == 1
        before = (len(await effects(db)), len(await calls(db)), len(await messages(db)))
        second = await run(db, NOON + timedelta(minutes=15))
        assert {k: v for k, v in second.items() if k != "clubs"} == dict.fromkeys(
            (
                "calls_created",
                "calls_merged",
                "messages_queued",
                "tasks_created",
                "skipped",
                "failed",
            ),
            0,
        )
        after = (len(await effects(db)), len(await calls(db)), len(await messages(db)))
        assert after == before


class TestCallsAndPolicy:
    async def test_two_steps_due_merge_into_the_members_open_call(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        ms = await held(db, m, p, start=TODAY - days(335), end=TODAY + days(30))
        await assess(db, m, ms, TODAY, level="at_risk", score=70)
        counts = await run(db, NOON)
        assert (counts["calls_created"], counts["calls_merged"]) == (1, 1)
        [call] = await calls(db, m.id)
        assert call.kind == "lapse"  # lapse outranks renewal
        assert {r["code"] for r in call.reasons} == {"renewal_call_30", "lapse_call"}
        linked = {e.step_key: e.call_id for e in await effects(db)}
        assert linked == {"renewal_call_30": call.id, "lapse_call": call.id}

    async def test_a_policy_refusal_is_a_skipped_effect(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        m = await old_member(db, club["id"], p, end=TODAY + days(30), do_not_contact=True)
        counts = await run(db, NOON)
        assert counts["skipped"] == 1
        [effect] = await effects(db, "renewal_call_30")
        assert (effect.status, effect.skip_reason, effect.call_id) == (
            "skipped",
            "do_not_contact",
            None,
        )
        assert await calls(db, m.id) == []
        assert (await run(db, NOON + days(1)))["skipped"] == 0  # decided once

    async def test_priority_adds_risk_and_member_value(
        self, db: Database, club: dict[str, Any]
    ) -> None:
        p = await plan(db, club["id"])
        plain = await member(db, club["id"])
        risky = await member(db, club["id"])
        valuable = await member(db, club["id"])
        end = TODAY + days(30)
        await held(db, plain, p, start=end - days(364), end=end, price_paid=0)
        ms = await held(db, risky, p, start=end - days(364), end=end, price_paid=0)
        await held(db, valuable, p, start=end - days(364), end=end, price_paid=5_000_000)
        await assess(db, risky, ms, TODAY, level="watch", score=80)
        await run(db, NOON)
        priority = {c.member_id: c.priority for c in await calls(db)}
        assert priority[plain.id] == 70  # the step's own
        assert priority[valuable.id] == 80  # + 10 for the club's most valuable member
        assert priority[risky.id] == 86  # + 80 / 5 for the risk score
        ranked = sorted(priority, key=lambda k: -priority[k])
        assert ranked == [risky.id, valuable.id, plain.id]


class TestTasks:
    async def test_task_steps_make_tasks_staff_complete(
        self, client: AsyncClient, db: Database, club: dict[str, Any], admin_token: str
    ) -> None:
        url = f"/api/v1/clubs/{club['id']}/playbook"
        r = await client.get(url, headers=bearer(admin_token))
        step = {
            "key": "welcome_pack",
            "trigger": "purchase",
            "offset_days": 0,
            "window_days": 2,
            "action": "task",
            "title": "Hand over the welcome pack",
        }
        r = await client.put(
            url,
            json={"steps": [step]},
            headers=bearer(admin_token) | {"If-Match": r.headers["ETag"]},
        )
        assert r.status_code == 200, r.text
        p = await plan(db, club["id"])
        m = await member(db, club["id"])
        await held(db, m, p, start=TODAY, sold_at=NOON)
        counts = await playbook(db, NOON)
        assert counts["tasks_created"] == 1
        r = await client.get(f"{url}/tasks?status=open", headers=bearer(admin_token))
        [task] = r.json()["items"]
        assert (task["title"], task["status"], task["member_id"]) == (
            "Hand over the welcome pack",
            "open",
            str(m.id),
        )
        assert datetime.fromisoformat(task["due_on"]) == local_midnight_utc(MSK, TODAY + days(3))
        done = await client.post(f"{url}/tasks/{task['id']}/complete", headers=bearer(admin_token))
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "done"
        assert done.json()["completed_at"] is not None
        again = await client.post(f"{url}/tasks/{task['id']}/complete", headers=bearer(admin_token))
        problem(again, 409, "task_closed")
        r = await client.get(f"{url}/tasks?status=open", headers=bearer(admin_token))
        assert r.json()["items"] == []
        missing = await client.post(
            f"{url}/tasks/{uuid.uuid4()}/complete", headers=bearer(admin_token)
        )
        problem(missing, 404, "task_not_found")
