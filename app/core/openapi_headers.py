"""The response headers of the OpenAPI document, each written once in `components/headers` and
referred to where it is sent:

- `ETag` on the success answers of the routes that set it: they say so with
  `openapi_extra=SETS_ETAG` (or `raises(…) | SETS_ETAG`);
- `Location` on every 201, which names what it created;
- `X-Request-ID` and `RateLimit-Policy` on every answer (`RequestIdMiddleware`), and `RateLimit`,
  what is left of the quota, once a credential was counted (every authenticated route);
- `Retry-After` and `WWW-Authenticate` where `problem_docs` declares the problems that carry them.
"""

import copy
from typing import Any

ETAG_KEY = "x-afterview-etag"
"""Where a route says it sets `ETag`, until `document_headers` turns it into the header."""

SETS_ETAG: dict[str, Any] = {ETAG_KEY: True}

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The object's version: send it back as `If-Match` to change the object.",
        "schema": {"type": "string"},
        "example": '"3"',
    },
    "Location": {
        "description": "The path of what was created.",
        "schema": {"type": "string", "format": "uri-reference"},
        "example": "/v1/candidates/0196f0b2-1c55-7e0a-b8a4-3f6d2e1c9b7a",
    },
    "X-Request-ID": {
        "description": "This request's id (yours, when you sent a sane one): quote it in a "
        "support request; problems and logs carry it too.",
        "schema": {"type": "string"},
        "example": "9f1c2b7e4d3a4c1b8e2f6a5d7c9b0e1f",
    },
    "RateLimit-Policy": {
        "description": "The quota: requests per window (IETF httpapi RateLimit draft).",
        "schema": {"type": "string"},
        "example": '"default";q=600;w=60',
    },
    "RateLimit": {
        "description": "What is left of the quota, and seconds until the window resets.",
        "schema": {"type": "string"},
        "example": '"default";r=599;t=42',
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}},
}


def header_refs(*names: str) -> dict[str, dict[str, str]]:
    """`headers` of a response: each of `names` as a reference to `components/headers`."""
    for name in names:
        assert name in HEADERS, name
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _success_headers(status: str, operation: dict[str, Any], sets_etag: bool) -> list[str]:
    names = []
    if sets_etag and status != "204":
        names.append("ETag")
    if status == "201":
        names.append("Location")
    names += ["X-Request-ID", "RateLimit-Policy"]
    if operation.get("security"):
        names.append("RateLimit")
    return names


def document_headers(spec: dict[str, Any]) -> None:
    """Add the headers each success answer carries, and `components/headers`, in place."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            sets_etag = bool(operation.pop(ETAG_KEY, False))
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    names = _success_headers(status, operation, sets_etag)
                    response.setdefault("headers", {}).update(header_refs(*names))
    spec.setdefault("components", {})["headers"] = copy.deepcopy(HEADERS)
