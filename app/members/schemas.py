"""Members: input models (strict, no mass assignment) and the read models."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    Field,
    PlainSerializer,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from app.core.schemas import InputSchema, Instant, LongText, Name, Schema, ShortText
from app.members.consents import ConsentPurpose


class Channel(StrEnum):
    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    NONE = "none"


class ConsentSource(StrEnum):
    DESK = "desk"
    APP = "app"
    CALL = "call"
    IMPORT = "import"
    WEB = "web"


class NoteKind(StrEnum):
    HANDOFF = "handoff"
    DESK = "desk"
    CALL = "call"
    MEETING = "meeting"


class PersonalDateKind(StrEnum):
    FAMILY_BIRTHDAY = "family_birthday"
    NAME_DAY = "name_day"
    ANNIVERSARY = "anniversary"
    OTHER = "other"


# --------------------------------------------------------------------------- field types


def _no_control(value: str) -> str:
    # Names and labels are printed on cards, call lists and SMS: control characters
    # (newlines, escapes) have no place there. Format characters such as the zero-width
    # joiner inside emoji or the right-to-left mark are allowed and kept as sent.
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters")
    return value


PersonName = Annotated[Name, AfterValidator(_no_control)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_no_control)]
Interest = Annotated[
    str, StringConstraints(min_length=1, max_length=50), AfterValidator(_no_control)
]
CardNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_control)
]
# Normalised to E.164 by the service (it may need the club's region); never echoed back.
PhoneInput = Annotated[
    str, StringConstraints(min_length=1, max_length=32), AfterValidator(_no_control)
]
NoteBody = Annotated[LongText, StringConstraints(min_length=1)]

_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _parse_hhmm(value: Any) -> Any:
    if isinstance(value, str) and _HHMM.fullmatch(value):
        return dt.time(int(value[:2]), int(value[3:]))
    raise ValueError("must be a club-local time as HH:MM")


def _format_hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


_HHMM_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
    "examples": ["18:00"],
}

# A club-local wall-clock time, "HH:MM" in and out (no seconds, no offset).
ClockTime = Annotated[
    dt.time,
    BeforeValidator(_parse_hhmm),
    PlainSerializer(_format_hhmm, return_type=str, when_used="json"),
    WithJsonSchema(_HHMM_SCHEMA),
]
ClockTimeOut = Annotated[
    dt.time,
    PlainSerializer(_format_hhmm, return_type=str, when_used="json"),
    WithJsonSchema(_HHMM_SCHEMA),
]


def _date_string(value: Any) -> Any:
    # JSON has no date type: only "YYYY-MM-DD" is accepted (not numbers, not instants).
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("must be a calendar date as YYYY-MM-DD")


BirthDate = Annotated[
    dt.date,
    BeforeValidator(_date_string),
    Field(ge=dt.date(1900, 1, 1), description="YYYY-MM-DD; not in the future."),
]


def _month_day(value: str) -> str:
    if not re.fullmatch(r"\d{2}-\d{2}", value):
        raise ValueError("must be a day of the year as MM-DD")
    try:
        # 2000 is a leap year: 02-29 is a real date to remember, 02-30 is not.
        dt.date(2000, int(value[:2]), int(value[3:]))
    except ValueError:
        raise ValueError("is not a day of the year") from None
    return value


MonthDay = Annotated[
    str,
    StringConstraints(min_length=5, max_length=5),
    AfterValidator(_month_day),
    Field(description="MM-DD (02-29 allowed).", examples=["03-08"]),
]


def _dedupe(values: list[str]) -> list[str]:
    """Keep the first spelling of each interest, compared case-insensitively."""
    seen: set[str] = set()
    out = []
    for v in values:
        key = v.casefold()
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def window_problem(start: dt.time | None, end: dt.time | None) -> str | None:
    if (start is None) != (end is None):
        return "contact_window_start and contact_window_end go together"
    if start is not None and end is not None and start >= end:
        return "contact_window_start must be before contact_window_end"
    return None


# --------------------------------------------------------------------------- input


class PersonalDateIn(InputSchema):
    kind: PersonalDateKind
    date: MonthDay
    label: Label


class ConsentChoices(InputSchema):
    """What the member agreed to at sign-up. A purpose left out records nothing."""

    calls: StrictBool | None = None
    service_sms: StrictBool | None = None
    marketing_sms: StrictBool | None = None
    marketing_email: StrictBool | None = None


_MEMBER_EXAMPLE: dict[str, Any] = {
    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
    "first_name": "Maria",
    "last_name": "Ivanova",
    "phone": "+7 916 123-45-67",
    "email": "maria@example.com",
    "birth_date": "1990-04-12",
    "card_number": "004512",
    "preferred_channel": "call",
    "contact_window_start": "18:00",
    "contact_window_end": "20:30",
    "interests": ["pool", "group classes"],
    "personal_dates": [{"kind": "family_birthday", "date": "09-01", "label": "Son Artem"}],
    "goals": "Lose 5 kg before summer; back pain after desk work.",
    "notes": "Came with a friend; prefers evening calls; ask about the kids' pool.",
    "do_not_contact": False,
    "consents": {
        "calls": True,
        "service_sms": True,
        "marketing_sms": False,
        "marketing_email": False,
    },
    "consent_source": "desk",
}


class MemberCreate(InputSchema):
    model_config = {"json_schema_extra": {"examples": [_MEMBER_EXAMPLE]}}

    club_id: uuid.UUID = Field(description="Home club.")
    first_name: PersonName
    last_name: PersonName
    phone: PhoneInput = Field(
        description="Any common format; stored as E.164. Without a country code the club's "
        "own phone number decides the country."
    )
    email: EmailStr | None = None
    birth_date: BirthDate | None = None
    card_number: CardNumber | None = Field(
        default=None, description="Turnstile card or external reference; unique in the club."
    )
    preferred_channel: Channel = Channel.CALL
    contact_window_start: ClockTime | None = Field(
        default=None, description="Club-local HH:MM; with contact_window_end."
    )
    contact_window_end: ClockTime | None = Field(default=None, validate_default=True)
    interests: list[Interest] = Field(
        default_factory=list, max_length=30, description="e.g. gym, pool, group classes."
    )
    personal_dates: list[PersonalDateIn] = Field(default_factory=list, max_length=20)
    goals: LongText | None = None
    notes: NoteBody | None = Field(
        default=None,
        description="Hand-off note from sales; kept as a `handoff` note shown in every "
        "later conversation.",
    )
    referred_by_id: uuid.UUID | None = Field(
        default=None, description="A member of the same club who recommended this one."
    )
    do_not_contact: StrictBool = False
    consents: ConsentChoices | None = None
    consent_source: ConsentSource = Field(
        default=ConsentSource.DESK, description="Where the consents above were given."
    )

    @field_validator("interests")
    @classmethod
    def _v_interests(cls, v: list[str]) -> list[str]:
        return _dedupe(v)

    @field_validator("contact_window_end")
    @classmethod
    def _v_window(cls, end: dt.time | None, info: ValidationInfo) -> dt.time | None:
        # Runs even when the end is not sent (validate_default), so a lone start is caught.
        if "contact_window_start" not in info.data:
            return end  # the start itself was invalid and is reported on its own
        problem = window_problem(info.data["contact_window_start"], end)
        if problem:
            raise ValueError(problem)
        return end


_REQUIRED_ON_UPDATE = (
    "first_name",
    "last_name",
    "phone",
    "preferred_channel",
    "interests",
    "personal_dates",
    "do_not_contact",
)


class MemberUpdate(InputSchema):
    """Only the fields sent change. Send null to clear an optional field."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"phone": "+7 916 765-43-21", "preferred_channel": "sms", "interests": ["pool"]}
            ]
        }
    }

    first_name: PersonName | None = None
    last_name: PersonName | None = None
    phone: PhoneInput | None = None
    email: EmailStr | None = None
    birth_date: BirthDate | None = None
    card_number: CardNumber | None = None
    preferred_channel: Channel | None = None
    contact_window_start: ClockTime | None = None
    contact_window_end: ClockTime | None = None
    interests: list[Interest] | None = Field(default=None, max_length=30)
    personal_dates: list[PersonalDateIn] | None = Field(default=None, max_length=20)
    goals: LongText | None = None
    referred_by_id: uuid.UUID | None = None
    do_not_contact: StrictBool | None = None

    @field_validator(*_REQUIRED_ON_UPDATE)
    @classmethod
    def _not_null(cls, v: Any) -> Any:
        # Runs only for fields that were sent: null cannot clear a required field.
        if v is None:
            raise ValueError("cannot be null")
        return v

    @field_validator("interests")
    @classmethod
    def _v_interests(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _dedupe(v)


class ConsentCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "purpose": "marketing_sms",
                    "granted": False,
                    "source": "call",
                    "note": "Asked on the welcome call to stop promotional SMS.",
                }
            ]
        }
    }

    purpose: ConsentPurpose
    granted: StrictBool = Field(description="true grants, false withdraws.")
    source: ConsentSource
    note: ShortText | None = None
    recorded_at: Instant | None = Field(
        default=None,
        description="When the member decided, with a UTC offset (e.g. a paper form signed "
        "earlier). Defaults to now; never in the future.",
    )


class NoteCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "kind": "desk",
                    "body": "Asked about evening yoga for her mother; wants a call next week.",
                }
            ]
        }
    }

    kind: NoteKind
    body: NoteBody


# --------------------------------------------------------------------------- output


class PersonalDateRead(Schema):
    kind: str
    date: str = Field(description="MM-DD")
    label: str


class ConsentFlags(Schema):
    """Current state per purpose: the latest event wins; no event means not consented."""

    calls: bool
    service_sms: bool
    marketing_sms: bool
    marketing_email: bool


class NoteRead(Schema):
    id: uuid.UUID
    member_id: uuid.UUID
    kind: str
    body: str
    author_staff_id: uuid.UUID | None
    created_at: dt.datetime


class MemberRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID
    first_name: str
    last_name: str
    phone: str | None = Field(description="E.164; null only once erased.")
    phone_invalid_at: dt.datetime | None = Field(
        description="Set when a call found the number wrong; cleared by a new number."
    )
    email: str | None
    birth_date: dt.date | None
    card_number: str | None
    preferred_channel: str
    contact_window_start: ClockTimeOut | None
    contact_window_end: ClockTimeOut | None
    interests: list[str]
    personal_dates: list[PersonalDateRead]
    goals: str | None
    do_not_contact: bool
    referred_by_id: uuid.UUID | None
    consents: ConsentFlags
    handoff_notes: list[NoteRead] = Field(
        description="What sales learned, newest first (the latest 20; all are in /notes)."
    )
    erased_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def build(
        cls, member: Any, consents: Mapping[ConsentPurpose, bool], handoff_notes: Iterable[Any]
    ) -> Self:
        """From a Member row, its current consents and its latest hand-off notes."""
        derived = {"consents", "handoff_notes"}
        values = {name: getattr(member, name) for name in cls.model_fields if name not in derived}
        return cls.model_validate(
            {
                **values,
                "consents": {p.value: bool(v) for p, v in consents.items()},
                "handoff_notes": [NoteRead.model_validate(n) for n in handoff_notes],
            }
        )


class ConsentEventRead(Schema):
    id: uuid.UUID
    member_id: uuid.UUID
    purpose: str
    granted: bool
    source: str
    note: str | None
    recorded_by_staff_id: uuid.UUID | None
    recorded_at: dt.datetime


class ConsentState(Schema):
    granted: bool
    source: str | None = Field(description="Where the deciding event came from; null if none.")
    recorded_at: dt.datetime | None
    event_id: uuid.UUID | None


class ConsentsRead(Schema):
    current: dict[ConsentPurpose, ConsentState]
    history: list[ConsentEventRead] = Field(description="Every grant and withdrawal, newest first.")

    @classmethod
    def build(cls, current: Mapping[ConsentPurpose, Any | None], history: Iterable[Any]) -> Self:
        """From the deciding event per purpose (None: never recorded) and the history."""
        return cls(
            current={
                purpose: ConsentState(granted=False, source=None, recorded_at=None, event_id=None)
                if event is None
                else ConsentState(
                    granted=event.granted,
                    source=event.source,
                    recorded_at=event.recorded_at,
                    event_id=event.id,
                )
                for purpose, event in current.items()
            },
            history=[ConsentEventRead.model_validate(e) for e in history],
        )


class MemberExport(Schema):
    member: MemberRead
    exported_at: dt.datetime
    sections: dict[str, Any] = Field(
        description="Personal data kept by each domain: consent_events, notes, memberships, "
        "audit, and whatever other domains register."
    )
