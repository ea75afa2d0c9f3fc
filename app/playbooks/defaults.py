"""The touchpoint plan every club starts with (DESIGN §1.1, §1.4, §2 Playbook).

Seeded lazily: a club's playbook (and these steps) is written the first time it is read
(`GET /clubs/{id}/playbook`), replaced (`PUT`) or materialised by the `playbook` job,
whichever comes first. The clubs domain never imports playbooks (imports flow one way),
so there is no hook at club creation; a brand-new club's GET still shows these steps.

Choices where DESIGN leaves room:

- Purchase steps count from the membership's *day one*: the earlier of its club-local
  sale date and its start date (a sale in advance starts the plan at the sale; a
  back-dated one at its start). They fire for new members only (source `new`): renewals
  are not onboarded again.
- The 30-day check-in is an onboarding call (the first month decides most); the 60- and
  90-day check-ins are `check_in` messages, so that with the welcome call, the
  first-session check and the feedback call at day 100 a new member gets four calls in
  100 days, never more than two in 30 (the contact policy's default cap).
- Windows keep a step callable for a few days, so a missed job run or a day in the
  quiet hours does not lose it; the birthday greeting is only ever sent on the day.
"""

from __future__ import annotations

from typing import Any

from app.models.outreach import CallKind, StepAction, Trigger

_CALL, _MESSAGE = StepAction.CALL.value, StepAction.MESSAGE.value


def _call(
    key: str,
    trigger: Trigger,
    offset: int,
    window: int,
    kind: CallKind,
    priority: int,
    title: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "key": key,
        "trigger": trigger.value,
        "offset_days": offset,
        "window_days": window,
        "action": _CALL,
        "call_kind": kind.value,
        "template": None,
        "category": "service",
        "title": title,
        "priority": priority,
        "enabled": True,
        "risk_levels": None,
        **extra,
    }


def _message(
    key: str,
    trigger: Trigger,
    offset: int,
    window: int,
    template: str,
    priority: int,
    title: str,
    category: str = "service",
) -> dict[str, Any]:
    return {
        "key": key,
        "trigger": trigger.value,
        "offset_days": offset,
        "window_days": window,
        "action": _MESSAGE,
        "call_kind": None,
        "template": template,
        "category": category,
        "title": title,
        "priority": priority,
        "enabled": True,
        "risk_levels": None,
    }


P, E, L = Trigger.PURCHASE, Trigger.EXPIRY_APPROACHING, Trigger.LAPSE

DEFAULT_STEPS: tuple[dict[str, Any], ...] = (
    _message("thank_you", P, 0, 1, "thank_you", 50, "Thank-you message"),
    _call("welcome_call", P, 3, 4, CallKind.WELCOME, 60, "Welcome call"),
    _call("first_session_check", P, 14, 4, CallKind.ONBOARDING, 55, "First-session check"),
    _call("check_in_30", P, 30, 5, CallKind.ONBOARDING, 50, "30-day check-in"),
    _message("check_in_60", P, 60, 3, "check_in", 40, "60-day check-in"),
    _message("check_in_90", P, 90, 3, "check_in", 40, "90-day check-in"),
    _call("feedback_call", P, 100, 7, CallKind.FEEDBACK, 45, "Feedback call"),
    _call("renewal_call_30", E, -30, 7, CallKind.RENEWAL, 70, "Renewal call"),
    _call("renewal_call_14", E, -14, 7, CallKind.RENEWAL, 80, "Renewal call"),
    _call(
        "post_freeze_call", Trigger.FREEZE_ENDED, 1, 5, CallKind.POST_FREEZE, 55, "Post-freeze call"
    ),
    _message(
        "birthday_greeting", Trigger.BIRTHDAY, 0, 0, "birthday_greeting", 30, "Birthday greeting"
    ),
    _call(
        "no_show_follow_up",
        Trigger.MEETING_NO_SHOW,
        0,
        2,
        CallKind.NO_SHOW,
        75,
        "No-show follow-up",
    ),
    _call(
        "complaint_follow_up",
        Trigger.COMPLAINT_RESOLVED,
        3,
        4,
        CallKind.COMPLAINT_FOLLOW_UP,
        75,
        "Complaint follow-up call",
    ),
    _call(
        "lapse_call", L, 0, 7, CallKind.LAPSE, 70, "Lapse call", risk_levels=["at_risk", "lapsed"]
    ),
    _message(
        "whats_new",
        Trigger.MONTHLY,
        0,
        6,
        "whats_new",
        20,
        "What's new this month",
        category="marketing",
    ),
)
