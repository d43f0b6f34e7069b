"""Optimistic concurrency: `ETag` on reads, `If-Match` required on updates."""

from typing import Annotated

from fastapi import Header, Response

from app.core.errors import PreconditionRequired, StaleEtag

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The `ETag` from your last read of this object. Required on PATCH.",
        examples=['"3"'],
    ),
]


def etag_of(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)


def ensure_match(if_match: str | None, version: int, *, required: bool = True) -> None:
    """412 `stale-etag` when the caller's tag is not the current one; 428 when it is missing."""
    if if_match is not None and not if_match.strip():
        if_match = None  # an empty header names no version: as good as none
    if if_match is None:
        if required:
            raise PreconditionRequired("Send If-Match with the ETag from your last read.")
        return
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in tags and etag_of(version) not in tags:
        raise StaleEtag(
            f"The object is now at ETag {etag_of(version)}; read it again before changing it.",
            current_etag=etag_of(version),
        )
