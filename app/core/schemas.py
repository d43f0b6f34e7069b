"""Base classes for request and response bodies."""

from typing import Annotated, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    PlainSerializer,
    StringConstraints,
    model_validator,
)


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

ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
"""The integrator's own id for a record; unique per agency and kind."""

Timestamp = Annotated[
    AwareDatetime, PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json")
]
"""RFC 3339 with an explicit offset."""
