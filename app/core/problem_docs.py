"""The error half of the OpenAPI document: per route, every status it can answer, each problem
type with its own example.

A route names the problems its rules raise (`openapi_extra=raises(ApplicationClosed, …)`); the
problems every route of a kind can answer are added here from the operation itself: who may
call it, its path parameters, its body and its `If-Match`, `Idempotency-Key` and
`On-Behalf-Of` headers. `tests/support/problem_log.py` checks the declarations against what
the test suite saw each route answer.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter

from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    AuthenticationRequired,
    Forbidden,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InsufficientScope,
    InvalidCursor,
    InvalidOnBehalfOf,
    InvalidToken,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    PreconditionRequired,
    Problem,
    ProblemDocument,
    RateLimited,
    ServiceUnavailable,
    StaleEtag,
    TokenExpired,
    UnsupportedEncoding,
    ValidationFailed,
)
from app.core.openapi_headers import document_headers, header_refs
from app.core.openapi_links import add_links

PROBLEMS_KEY = "x-afterview-problems"
"""Where a route's own problems wait in its operation until `document_problems` renders them."""

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
NOT_BLANK_PATTERN = "[^\\s\\u0085]"
NO_NUL_PATTERN = "^[^\\u0000]*$"
_CONSTRAINED = {"pattern", "format", "enum", "const", "contentEncoding"}
_HEADERS_BY_STATUS: dict[int, dict[str, Any]] = {
    401: header_refs("WWW-Authenticate"),
    429: header_refs("Retry-After", "RateLimit-Policy", "RateLimit"),
    503: header_refs("Retry-After"),
}
EXAMPLE_INSTANCE = "/v1/applications/0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a/decision"
_EXAMPLE_FIELD_ERROR = {"field": "email", "location": "body", "message": "value is not valid"}
_STALE_ETAG_EXTENSIONS = {"current_etag": '"4"'}


def raises(*kinds: type[Problem]) -> dict[str, Any]:
    """`openapi_extra` for a route whose rules can raise `kinds` (beyond the problems every
    route of its kind can answer, which `document_problems` adds)."""
    return {PROBLEMS_KEY: [kind.slug for kind in kinds]}


def _common_problems(method: str, operation: dict[str, Any]) -> list[type[Problem]]:
    """The problems an operation can answer because of what it is, not what its rules are."""
    parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
    found: list[type[Problem]] = [ValidationFailed, ServiceUnavailable]
    if operation.get("security"):
        found += [
            AuthenticationRequired,
            InvalidToken,
            TokenExpired,
            Forbidden,
            InsufficientScope,
            RateLimited,
        ]
    if any(where == "path" for where, _ in parameters):
        found.append(NotFound)
    if "requestBody" in operation:
        found += [MalformedRequest, PayloadTooLarge, UnsupportedEncoding]
    if ("header", "If-Match") in parameters or method != "get":
        found.append(StaleEtag)  # a stale If-Match, or a write that lost a race
    if ("query", "cursor") in parameters:
        found.append(InvalidCursor)
    if ("header", "Idempotency-Key") in parameters:
        found += [IdempotencyKeyInFlight, IdempotencyKeyReused]
    if ("header", "On-Behalf-Of") in parameters:
        found.append(InvalidOnBehalfOf)
    return found


def _example(kind: type[Problem]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind.type_uri(),
        "title": kind.title,
        "status": kind.status,
        "detail": kind.title + ".",
        "instance": EXAMPLE_INSTANCE,
        "request_id": "9f1c2b7e4d3a4c1b8e2f6a5d7c9b0e1f",
    }
    if kind is ValidationFailed:
        body["errors"] = [_EXAMPLE_FIELD_ERROR]
    if kind is StaleEtag:
        body.update(_STALE_ETAG_EXTENSIONS)
    return body


def _responses(kinds: Iterable[type[Problem]]) -> dict[str, dict[str, Any]]:
    by_status: dict[int, list[type[Problem]]] = defaultdict(list)
    for kind in kinds:
        if kind not in by_status[kind.status]:
            by_status[kind.status].append(kind)
    out: dict[str, dict[str, Any]] = {}
    for status in sorted(by_status):
        group = by_status[status]
        response: dict[str, Any] = {
            "description": f"{HTTPStatus(status).phrase}: "
            + ", ".join(f"`{kind.slug}`" for kind in group),
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/ProblemDocument"},
                    "examples": {
                        kind.slug: {"$ref": f"#/components/examples/{kind.slug}"} for kind in group
                    },
                }
            },
        }
        if status in _HEADERS_BY_STATUS:
            response["headers"] = _HEADERS_BY_STATUS[status]
        out[str(status)] = response
    return out


def document_problems(spec: dict[str, Any]) -> None:
    """Replace FastAPI's generic 422 with each operation's problems, per status, in place."""
    problem_types = {kind.slug: kind for kind in Problem.__subclasses__()}
    components = spec.setdefault("components", {})
    used: set[type[Problem]] = set()
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            own = [problem_types[slug] for slug in operation.pop(PROBLEMS_KEY, [])]
            kinds = [*_common_problems(method, operation), *own]
            if PreconditionRequired in own:
                _require_if_match(operation)
            used.update(kinds)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses.update(_responses(kinds))
    components.setdefault("examples", {}).update(
        {
            kind.slug: {"summary": kind.title, "value": _example(kind)}
            for kind in sorted(used, key=lambda kind: kind.slug)
        }
    )
    schemas = components.setdefault("schemas", {})
    for generated in ("HTTPValidationError", "ValidationError"):
        schemas.pop(generated, None)
    schema = TypeAdapter(ProblemDocument).json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas["ProblemDocument"] = schema
    components["schemas"] = dict(sorted(schemas.items()))


def _require_if_match(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if (parameter["in"], parameter["name"]) == ("header", "If-Match"):
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "minLength": 1}


def _no_nul(schema: Any) -> None:
    """Every free string refuses NUL (the input guard answers 422 for one anywhere): say so."""
    if isinstance(schema, list):
        for item in schema:
            _no_nul(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not schema.keys() & _CONSTRAINED:
        schema["pattern"] = NO_NUL_PATTERN
    if schema.get("type") == "string" and schema.get("minLength", 0) >= 1:
        _not_blank(schema)
    for value in schema.values():
        if isinstance(value, dict | list):
            _no_nul(value)


_EXCLUDING = re.compile(r"\^\[\^(?P<chars>[^\]]*)\]\*\$")


def _not_blank(schema: dict[str, Any]) -> None:
    """Bodies are trimmed before their lengths are checked, so a required text needs a visible
    character. Said as one pattern where the pattern is "none of these characters" (a
    generator can draw from it directly), else as a second pattern."""
    found = _EXCLUDING.fullmatch(schema.get("pattern", ""))
    if found is None:
        schema.setdefault("allOf", []).append({"pattern": NOT_BLANK_PATTERN})
        return
    chars = found["chars"]
    schema["pattern"] = f"^[^{chars}]*[^\\s\\u0085{chars}][^{chars}]*$"


def forbid_nul(spec: dict[str, Any]) -> None:
    schemas = spec.get("components", {}).get("schemas", {})
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            form = operation.get("requestBody", {}).get("content", {}).get(FORM_MEDIA_TYPE)
            if form is not None and "$ref" in form["schema"]:
                # A form's other fields are ignored, but pass the same guard as the rest.
                name = form["schema"]["$ref"].rsplit("/", 1)[-1]
                schemas[name].setdefault("additionalProperties", {"type": "string"})
                schemas[name].setdefault("propertyNames", {"pattern": NO_NUL_PATTERN})
    _no_nul(schemas)
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                _no_nul(parameter.get("schema"))
            _no_nul(operation.get("requestBody", {}))


def problems_openapi(
    app: FastAPI, *finishers: Callable[[dict[str, Any]], None]
) -> Callable[[], dict[str, Any]]:
    """`app.openapi` with `document_problems`, the headers and the links applied once to
    FastAPI's document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            document_problems(spec)
            document_headers(spec)
            forbid_nul(spec)
            add_links(spec)
            for finish in finishers:  # the app's own additions (the demo's examples)
                finish(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    return openapi
