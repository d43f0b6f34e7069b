"""Base classes for request and response bodies."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    GetJsonSchemaHandler,
    GetPydanticSchema,
    PlainSerializer,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UpdateModel(InputModel):
    """PATCH bodies: every field optional; `null` only where the field may be empty."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} cannot be null; leave it out to keep it unchanged")
        return self


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[EmailStr, AfterValidator(_lower)]
"""An email address, compared and stored in lower case."""

Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()\-.]{5,38}$"),
]
"""A phone number: digits, spaces, brackets, dots and dashes, optionally starting with +."""

_NOT_ONE_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
"""Line breaks (LF, VT, FF, CR, NEL, U+2028, U+2029) and every other control character but TAB:
none of them may reach an email header."""

SINGLE_LINE_PATTERN = r"^[^\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]*$"
"""The same rule as an ECMA-262 pattern, for the OpenAPI document."""


def is_single_line(value: str) -> bool:
    return _NOT_ONE_LINE.search(value) is None


def _single_line(value: str) -> str:
    if not is_single_line(value):
        raise PydanticCustomError(
            "single_line", "must be a single line (no line breaks or control characters)"
        )
    return value


def _single_line_json_schema(schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
    return {**handler(schema), "pattern": SINGLE_LINE_PATTERN}


_CHECK_ONE_LINE = AfterValidator(_single_line)
_DOCUMENT_ONE_LINE = GetPydanticSchema(get_pydantic_json_schema=_single_line_json_schema)

SingleLine = Annotated[str, _CHECK_ONE_LINE, _DOCUMENT_ONE_LINE]
"""Text that may end up in an email header (a name, a title, a subject): no line breaks or control
characters. Takes `Field(min_length=…, max_length=…)` like `str`; `InputModel` strips it first."""

ExternalId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    _CHECK_ONE_LINE,
    _DOCUMENT_ONE_LINE,
]
"""The integrator's own id for a record; unique per agency and kind."""

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    """Between 1900 and 2200 once in UTC: a date near year 1 or 9999 with a large offset has
    no UTC form at all, and none of these instants can be that far out."""
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise PydanticCustomError("instant_range", "must be between 1900 and 2200") from None
    if not EARLIEST <= utc < LATEST:
        raise PydanticCustomError("instant_range", "must be between 1900 and 2200")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_in_range)]
"""An input instant: RFC 3339 with an offset, between 1900 and 2200."""

Timestamp = Annotated[
    AwareDatetime, PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json")
]
"""RFC 3339 with an explicit offset."""
