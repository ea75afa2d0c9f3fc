"""Schema bases: one for reading ORM objects, one strict base for input."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")


class Schema(BaseModel):
    """Responses: built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class InputSchema(BaseModel):
    """Requests: unknown fields are an error (no mass assignment), strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Free text with sane bounds; NUL is refused (PostgreSQL cannot store it in text).
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_nul)]
ShortText = Annotated[str, StringConstraints(max_length=500), AfterValidator(_no_nul)]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_no_nul)]

# Instants must carry an offset: a naive timestamp is ambiguous across club time zones.
Instant = AwareDatetime


class Page(Schema, Generic[T]):
    """A cursor page: pass `next_cursor` back as `cursor` until it is null."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Opaque cursor for the next page; null on the last page."
    )


def aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("instant needs a UTC offset")
    return value


def example(**values: Any) -> dict[str, Any]:
    """`json_schema_extra` with one example, for the console."""
    return {"examples": [values]}
