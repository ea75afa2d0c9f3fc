"""Message templates: `$placeholder` text rendered with member fields and a context.

Placeholders are checked when a template is defined: one that is neither a member field
nor a declared context key is a `TemplateError` at import time, not a surprise at send
time. Substitution is single-pass `string.Template` (a value containing `$x` stays
literal), and values are flattened to one line so nothing can inject e-mail headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from string import Template

from app.policy.contact import Category, Channel

MEMBER_FIELDS = frozenset({"first_name", "last_name", "club_name"})
MAX_VALUE_CHARS = 300
MAX_SMS_CHARS = 1000
MAX_EMAIL_CHARS = 20000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class TemplateError(ValueError):
    """A template is malformed, or rendering lacks (or has unknown) context."""


ContextValue = str | int | date | datetime


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    categories: frozenset[Category]
    sms: str
    email_subject: str
    email_body: str
    context_keys: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        allowed = MEMBER_FIELDS | self.context_keys
        for label, text in (
            ("sms", self.sms),
            ("email_subject", self.email_subject),
            ("email_body", self.email_body),
        ):
            tpl = Template(text)
            if not tpl.is_valid():
                raise TemplateError(f"template {self.name!r} {label}: malformed placeholder")
            unknown = set(tpl.get_identifiers()) - allowed
            if unknown:
                raise TemplateError(
                    f"template {self.name!r} {label}: unknown placeholder(s) "
                    + ", ".join(sorted(unknown))
                )
        if not self.categories:
            raise TemplateError(f"template {self.name!r} needs at least one category")

    def render(
        self,
        channel: Channel,
        *,
        member: Mapping[str, str],
        context: Mapping[str, ContextValue] | None = None,
    ) -> Rendered:
        context = dict(context or {})
        extra = set(context) - self.context_keys
        if extra:
            raise TemplateError(f"template {self.name!r} takes no context {sorted(extra)}")
        missing = self.context_keys - set(context)
        if missing:
            raise TemplateError(f"template {self.name!r} needs context {sorted(missing)}")
        values = {k: _clean(member.get(k, "")) for k in MEMBER_FIELDS}
        values.update({k: _clean(_text(v)) for k, v in context.items()})
        if channel is Channel.SMS:
            body = Template(self.sms).substitute(values)
            if len(body) > MAX_SMS_CHARS:
                raise TemplateError(f"template {self.name!r}: SMS longer than {MAX_SMS_CHARS}")
            return Rendered(subject=None, body=body)
        if channel is Channel.EMAIL:
            body = Template(self.email_body).substitute(values)
            if len(body) > MAX_EMAIL_CHARS:
                raise TemplateError(f"template {self.name!r}: e-mail too long")
            return Rendered(subject=Template(self.email_subject).substitute(values), body=body)
        raise TemplateError(f"messages are sent by sms or email, not {channel}")


def _text(value: ContextValue) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _clean(value: str) -> str:
    return _CONTROL.sub(" ", value).strip()[:MAX_VALUE_CHARS]


_SERVICE = frozenset({Category.SERVICE})
_MARKETING = frozenset({Category.MARKETING})

TEMPLATES: dict[str, MessageTemplate] = {
    t.name: t
    for t in (
        MessageTemplate(
            name="thank_you",
            categories=_SERVICE,
            sms="Thank you for joining $club_name, $first_name! We are glad to have you.",
            email_subject="Welcome to $club_name",
            email_body="Dear $first_name,\n\nthank you for choosing $club_name. We are glad "
            "to have you with us and look forward to seeing you at the club.\n\n"
            "The $club_name team",
        ),
        MessageTemplate(
            name="meeting_reminder",
            categories=_SERVICE,
            context_keys=frozenset({"meeting_time"}),
            sms="$first_name, a reminder of your meeting at $club_name on $meeting_time. "
            "Call us if you need another time.",
            email_subject="Your meeting at $club_name on $meeting_time",
            email_body="Dear $first_name,\n\na reminder of your meeting at $club_name on "
            "$meeting_time. If you need another time, just call us.\n\nThe $club_name team",
        ),
        MessageTemplate(
            name="birthday_greeting",
            categories=frozenset({Category.SERVICE, Category.MARKETING}),
            sms="Happy birthday, $first_name! Everyone at $club_name wishes you a great year.",
            email_subject="Happy birthday from $club_name",
            email_body="Dear $first_name,\n\nhappy birthday! Everyone at $club_name wishes "
            "you a healthy and happy year.\n\nThe $club_name team",
        ),
        MessageTemplate(
            # Promotions in general terms with their end date only: prices are discussed
            # face to face (DESIGN §1.2).
            name="promotion_news",
            categories=_MARKETING,
            context_keys=frozenset({"promotion_name", "valid_until"}),
            sms="$first_name, $promotion_name at $club_name runs until $valid_until. "
            "Ask at the front desk.",
            email_subject="$promotion_name at $club_name until $valid_until",
            email_body="Dear $first_name,\n\n$promotion_name at $club_name runs until "
            "$valid_until. Ask at the front desk or book a meeting with a consultant to "
            "hear the details.\n\nThe $club_name team",
        ),
        MessageTemplate(
            name="complaint_follow_up",
            categories=_SERVICE,
            sms="$first_name, thank you for telling us what went wrong at $club_name. "
            "A manager would be glad to hear how things are now.",
            email_subject="Following up on your feedback to $club_name",
            email_body="Dear $first_name,\n\nthank you for telling us what went wrong. We "
            "have looked into it, and a manager at $club_name would be glad to hear how "
            "things are now.\n\nThe $club_name team",
        ),
        # The playbook's check-ins and monthly "what's new" (app/playbooks/defaults.py).
        MessageTemplate(
            name="check_in",
            categories=_SERVICE,
            sms="$first_name, how is your training at $club_name going? Our trainers are "
            "happy to help; just ask at the front desk.",
            email_subject="How is it going at $club_name?",
            email_body="Dear $first_name,\n\nhow is your training going? If you would like "
            "a hand with your plan, our trainers are happy to help - just ask at the front "
            "desk.\n\nThe $club_name team",
        ),
        MessageTemplate(
            # General news only; offers in general terms, details face to face (DESIGN §1.2).
            name="whats_new",
            categories=_MARKETING,
            sms="$first_name, new this month at $club_name: classes, events and offers. "
            "Ask at the front desk.",
            email_subject="What's new at $club_name this month",
            email_body="Dear $first_name,\n\nthere is something new at $club_name this "
            "month: classes, events and offers. Ask at the front desk or book a meeting "
            "with a consultant to hear more.\n\nThe $club_name team",
        ),
    )
}
