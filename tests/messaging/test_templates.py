from __future__ import annotations

from datetime import date

import pytest

from app.messaging.templates import TEMPLATES, MessageTemplate, TemplateError
from app.policy.contact import Category, Channel

MEMBER = {"first_name": "Maria", "last_name": "Ivanova", "club_name": "Riverside Fitness"}


def test_every_template_renders_on_both_channels() -> None:
    samples = {"meeting_time": "12 Mar 18:30", "promotion_name": "Spring", "valid_until": "31 Mar"}
    for tpl in TEMPLATES.values():
        ctx = {k: samples[k] for k in tpl.context_keys}
        sms = tpl.render(Channel.SMS, member=MEMBER, context=ctx)
        email = tpl.render(Channel.EMAIL, member=MEMBER, context=ctx)
        assert sms.subject is None
        assert "$" not in sms.body
        assert email.subject
        assert "$" not in email.body + email.subject


def test_an_unknown_placeholder_is_an_error_when_the_template_is_defined() -> None:
    with pytest.raises(TemplateError, match="unknown placeholder"):
        MessageTemplate(
            name="bad",
            categories=frozenset({Category.SERVICE}),
            sms="Hi $first_name, your $password",
            email_subject="x",
            email_body="y",
        )


def test_a_malformed_placeholder_is_an_error_when_defined() -> None:
    with pytest.raises(TemplateError, match="malformed"):
        MessageTemplate(
            name="bad",
            categories=frozenset({Category.SERVICE}),
            sms="Hi ${first_name",
            email_subject="x",
            email_body="y",
        )


def test_missing_and_unknown_context_are_errors() -> None:
    tpl = TEMPLATES["meeting_reminder"]
    with pytest.raises(TemplateError, match="needs context"):
        tpl.render(Channel.SMS, member=MEMBER, context={})
    with pytest.raises(TemplateError, match="takes no context"):
        tpl.render(Channel.SMS, member=MEMBER, context={"meeting_time": "x", "price": 1})


def test_substitution_is_single_pass_and_one_line() -> None:
    evil = {**MEMBER, "first_name": "$club_name\r\nBcc: attacker@example.com"}
    out = TEMPLATES["thank_you"].render(Channel.EMAIL, member=evil)
    assert "$club_name" in out.body  # the value is not substituted again
    assert "\r" not in out.body
    assert "Bcc: attacker@example.com" in out.body
    subject = (
        TEMPLATES["meeting_reminder"]
        .render(Channel.EMAIL, member=MEMBER, context={"meeting_time": "today\nX-Header: y"})
        .subject
    )
    assert subject is not None
    assert "\n" not in subject


def test_dates_render_as_iso() -> None:
    out = TEMPLATES["promotion_news"].render(
        Channel.SMS,
        member=MEMBER,
        context={"promotion_name": "Spring", "valid_until": date(2026, 3, 31)},
    )
    assert "2026-03-31" in out.body


def test_promotions_never_mention_prices() -> None:
    tpl = TEMPLATES["promotion_news"]
    assert tpl.categories == frozenset({Category.MARKETING})
    assert "price" not in (tpl.sms + tpl.email_body).lower()
