"""Generated from the OpenAPI document, like the tenancy matrix: every string in the example
body of every write route is replaced, one at a time, by a string with a NUL, a string one
character over its limit, and (in single-line fields) one with a line break. Every answer is a
4xx problem, and nothing changes."""

import re
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from app.core.clock import FixedClock
from app.core.schemas import SINGLE_LINE_PATTERN
from tests.support.objects import ID_PARAM, collection_of, objects_of, snapshot
from tests.support.records import events_of
from tests.support.tenants import Tenant

Json = dict[str, Any]
WRITES = ("post", "put", "patch")
TOO_LONG_WITHOUT_LIMIT = 100_000
FIXED_PARAMS = {"external_id": "sweep-1", "kind": "withdrawal_note", "token": "not-a-link"}


def write_routes(spec: Json) -> list[tuple[str, str, Json, str]]:
    """(method, path, request body schema, content type) of every write route with a body."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in WRITES and "requestBody" in operation:
                ((kind, content),) = operation["requestBody"]["content"].items()
                found.append((method, path, _resolve(spec, content["schema"]), kind))
    return found


def _resolve(spec: Json, schema: Json) -> Json:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example_of(spec: Json, schema: Json) -> Json:
    examples = schema.get("examples") or []
    if examples:
        example: Json = examples[0]
        return example
    # Form bodies (the login) have no example object: make one from the required fields.
    return dict.fromkeys(schema.get("required", []), "sweep@example.com")


def string_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in string_leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in string_leaves(v, (*path, i))]
    return []


def replaced(body: Any, path: tuple[Any, ...], new: str) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {**body, head: replaced(body[head], rest, new)}
    return [replaced(v, rest, new) if i == head else v for i, v in enumerate(body)]


def field_schema(spec: Json, schema: Json, path: tuple[Any, ...]) -> Json:
    """The schema of a top-level field (nested ones: an empty schema, no promises)."""
    if len(path) != 1:
        return {}
    field = _resolve(spec, schema.get("properties", {}).get(path[0], {}))
    options = field.get("anyOf", [field])
    return next((_resolve(spec, o) for o in options if o.get("type") == "string"), {})


def variants(spec: Json, schema: Json, path: tuple[Any, ...], original: str) -> list[str]:
    field = field_schema(spec, schema, path)
    limit = field.get("maxLength")
    too_long = "x" * (limit + 1 if limit else TOO_LONG_WITHOUT_LIMIT)
    found = [f"{original[:5]}\x00{original[5:]}", too_long]
    if field.get("pattern") == SINGLE_LINE_PATTERN:
        found.append(f"{original[:5]}\r\nBcc: sweep@example.com")
    return found


async def test_every_string_of_every_write_route_refuses_bad_input(
    app: FastAPI, clock: FixedClock, agency_a: Tenant
) -> None:
    spec = app.openapi()
    objects = await objects_of(agency_a, clock)
    before = await snapshot(agency_a, objects)
    events_before = len(await events_of(agency_a))
    client: AsyncClient = agency_a.admin
    routes = write_routes(spec)
    assert len(routes) >= 40  # the table really was walked
    wrong: list[str] = []
    answers: dict[int, int] = {}
    tried = 0
    for method, path, schema, kind in routes:
        url = _url(path, objects)
        body = example_of(spec, schema)
        for leaf in string_leaves(body):
            original = _at(body, leaf)
            for bad in variants(spec, schema, leaf, original):
                sent = replaced(body, leaf, bad)
                if kind == "application/json":
                    response = await client.request(
                        method, url, json=sent, headers={"If-Match": "*"}
                    )
                else:
                    response = await client.request(method, url, data=sent)
                tried += 1
                answers[response.status_code] = answers.get(response.status_code, 0) + 1
                # A made-up signed link is refused (404) before its form is read.
                refused = (413, 422, 404) if "{token}" in path else (413, 422)
                if response.status_code not in refused:
                    wrong.append(
                        f"{method.upper()} {path} {leaf} {bad[:12]!r}: {response.status_code}"
                    )
    assert tried > 150
    assert wrong == [], "\n".join(wrong)
    assert await snapshot(agency_a, objects) == before
    assert len(await events_of(agency_a)) == events_before


def _url(path: str, objects: dict[str, str]) -> str:
    """The path with its parameters filled: the agency's objects, or fixed names."""

    def fill(match: re.Match[str]) -> str:
        return FIXED_PARAMS.get(match.group(1)) or objects[collection_of(path)]

    return ID_PARAM.sub(fill, path)


def _at(body: Any, path: tuple[Any, ...]) -> str:
    for step in path:
        body = body[step]
    assert isinstance(body, str)
    return body
