"""Base classes for request and response bodies."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    GetJsonSchemaHandler,
    GetPydanticSchema,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
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

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Say in the schema what the check below enforces: `null` only where allowed."""
        json_schema = handler(core_schema)
        target = handler.resolve_ref_schema(json_schema)
        for name, prop in target.get("properties", {}).items():
            if name in cls.nullable or "anyOf" not in prop:
                continue
            options = [o for o in prop["anyOf"] if o.get("type") != "null"]
            prop.pop("default", None)
            if len(options) == 1:
                del prop["anyOf"]
                prop.update(options[0])
            else:
                prop["anyOf"] = options
        return json_schema

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} cannot be null; leave it out to keep it unchanged")
        return self


def _whole_number(value: Any) -> Any:
    """A JSON integer (`8`, or `8.0` as JSON Schema counts it), never text or a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    if isinstance(value, float) and not value.is_integer():
        raise PydanticCustomError("int_from_float", "Input should be a whole number")
    return int(value)


WHOLE_NUMBER = BeforeValidator(_whole_number)
"""For an integer in a request body, as the schema's `integer` means it (no coercion from text):
`Annotated[int, Interval(ge=1, le=50), WHOLE_NUMBER]` (bounds first, so the schema shows them)."""


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _lower(value: str) -> str:
    return value.lower()


def _email_json_schema(schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
    """Say that special-use domains (`.test`, `.local`, …: RFC 6761) are refused, as
    email-validator refuses them."""
    names = "|".join(re.escape(name) for name in SPECIAL_USE_DOMAIN_NAMES)
    return {**handler(schema), "pattern": f"^(?!.*[@.](?:{names})\\.?$)"}


Email = Annotated[
    EmailStr,
    AfterValidator(_lower),
    GetPydanticSchema(get_pydantic_json_schema=_email_json_schema),
]
"""An email address, compared and stored in lower case; never at a special-use domain."""

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


_YEAR = "(?:19|2[01])[0-9]{2}"
_MONTH_DAY = (
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)"
    "|(?:0[13578]|1[02])-31)"
)
_TIME = "T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]{1,6})?"
_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
INSTANT_PATTERN = f"^{_YEAR}-{_MONTH_DAY}{_TIME}{_OFFSET}$"
"""RFC 3339 with an offset, in the years 1900 to 2199, as the OpenAPI document says it (a
generator can draw valid instants from it; 29 February is the one day it leaves out)."""

DATE_PATTERN = f"^{_YEAR}-{_MONTH_DAY}$"
"""A plain date (`YYYY-MM-DD`) in the same years, as the OpenAPI document says it."""


def _in_range(value: datetime) -> datetime:
    """In the years 1900 to 2199 as written: a date near year 1 or 9999 with a large offset
    has no UTC form at all, and none of these instants can be that far out."""
    if not EARLIEST.year <= value.year < LATEST.year:
        raise PydanticCustomError("instant_range", "must be between 1900 and 2199")
    return value


_RFC3339_START = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")


def _rfc3339_text(value: Any) -> Any:
    """A date-time written out, never a number (which Pydantic would read as Unix time)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339_START.match(value):
        raise PydanticCustomError("instant_format", "must be an RFC 3339 date-time with offset")
    return value


def _instant_json_schema(schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
    return {**handler(schema), "pattern": INSTANT_PATTERN}


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_text),
    AfterValidator(_in_range),
    GetPydanticSchema(get_pydantic_json_schema=_instant_json_schema),
]
"""An input instant: RFC 3339 with an offset, in the years 1900 to 2199."""

Timestamp = Annotated[
    AwareDatetime,
    PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json"),
    # Still a date-time when read: a generated client parses it into one.
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
"""RFC 3339 with an explicit offset."""
