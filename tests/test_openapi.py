"""The committed OpenAPI document is what the app generates, and it is usable from /docs."""

import functools
import json
from datetime import timedelta
from typing import Any

from httpx import AsyncClient, Response

from app.core.clock import FixedClock
from app.core.openapi_paths import path_template
from app.openapi import OPENAPI_PATH, render_openapi
from tests.support.records import make_application, make_interview
from tests.support.tenants import Tenant


@functools.cache
def rendered() -> str:
    """The document as `afterview openapi` writes it, rendered once (each test parses its own
    copy of the text, so none can change what another reads)."""
    return render_openapi()


def test_committed_openapi_matches_the_app() -> None:
    assert OPENAPI_PATH.read_text() == rendered(), (
        "openapi/openapi.json is stale: run `afterview openapi --output openapi/openapi.json`"
    )


def _documented(prop: dict[str, Any]) -> bool:
    """A property shows an example, or is another (checked) schema, or a list of them."""
    if "examples" in prop or "$ref" in prop:
        return True
    if prop.get("type") == "array":
        return _documented(prop.get("items", {}))
    return any(
        _documented(option) for option in prop.get("anyOf", []) if option.get("type") != "null"
    )


def test_docs_can_log_in_and_every_schema_has_an_example() -> None:
    import json

    spec: dict[str, Any] = json.loads(rendered())
    schemes = spec["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/v1/auth/token"
    assert schemes["ApiKey"]["scheme"] == "bearer"
    lacking = []
    for name, schema in spec["components"]["schemas"].items():
        if name.startswith(("Body_", "HTTPValidationError", "ValidationError")):
            continue
        has_example = "examples" in schema or all(
            _documented(prop) for prop in schema.get("properties", {}).values()
        )
        if not has_example:
            lacking.append(name)
    assert lacking == []


def test_each_error_status_shows_each_of_its_problems_with_its_own_example() -> None:
    import json

    spec: dict[str, Any] = json.loads(rendered())
    examples = spec["components"]["examples"]
    seen_slugs = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            statuses = {int(s) for s in operation["responses"] if s[0] in "45"}
            assert {422, 503} <= statuses, (method, path)
            for status, response in operation["responses"].items():
                if status[0] not in "45":
                    continue
                content = response["content"]["application/problem+json"]
                for slug, ref in content["examples"].items():
                    example = examples[ref["$ref"].rsplit("/", 1)[-1]]["value"]
                    assert example["status"] == int(status), (method, path, slug)
                    assert example["type"].endswith("/" + slug)
                    seen_slugs.add(slug)
            if operation.get("security"):
                assert {401, 403, 429} <= statuses, (method, path)
            if any(p["in"] == "path" for p in operation.get("parameters", [])):
                assert 404 in statuses, (method, path)
    assert {
        "stale-etag",
        "precondition-required",
        "payload-too-large",
        "rate-limited",
    } <= seen_slugs


def test_operation_ids_are_short_stable_names_for_a_generated_client() -> None:
    import json
    import re

    spec: dict[str, Any] = json.loads(rendered())
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(_[a-z]+)*", i) or "_v1_" in i] == []
    for expected in ("list_candidates", "create_candidate", "approve_direct_contact", "log_in"):
        assert expected in ids


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(rendered())
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in spec["paths"].items() for m, op in item.items()]


WORKFLOW_TAG_ORDER = [
    "Auth",
    "Agency",
    "Users",
    "API keys",
    "Candidates",
    "Clients",
    "Pipeline",
    "Step 1: next steps",
    "Step 2: debrief",
    "Step 3: decision",
    "Step 4: follow-up",
    "Step 5: referee heads-up",
    "Step 6: feedback",
    "Candidate link",
    "Public",
    "Work",
    "Delivery",
    "Integrations",
    "Data rights",
    "Audit",
    "Operations",
]


def test_every_tag_is_described_and_listed_in_workflow_order() -> None:
    spec = _spec()
    listed = [tag["name"] for tag in spec["tags"]]
    assert listed == WORKFLOW_TAG_ORDER
    assert all(tag["description"].strip() for tag in spec["tags"])
    used = {tag for _, _, op in _operations(spec) for tag in op["tags"]}
    assert used == set(listed)  # every tag used is listed, and none is listed unused
    assert all(op["tags"] for _, _, op in _operations(spec))


def test_every_parameter_is_described() -> None:
    undescribed = [
        (method, path, parameter["in"], parameter["name"])
        for method, path, op in _operations(_spec())
        for parameter in op.get("parameters", [])
        if not parameter.get("description", "").strip()
    ]
    assert undescribed == []


def test_path_ids_say_whose_id_they_are() -> None:
    spec = _spec()
    parameters = {
        (path, p["name"]): p["description"]
        for _, path, op in _operations(spec)
        for p in op.get("parameters", [])
        if p["in"] == "path"
    }
    assert parameters["/v1/candidates/{record_id}", "record_id"] == "The candidate's id."
    assert parameters["/v1/interviews/{record_id}", "record_id"] == "The interview's id."
    assert parameters["/v1/interviews/{interview_id}/next-steps", "interview_id"] == (
        "The interview's id."
    )
    assert parameters["/v1/users/{user_id}", "user_id"] == "The user's id."


def _header_names(response: dict[str, Any]) -> set[str]:
    return set(response.get("headers", {}))


def test_success_responses_name_their_headers_by_reference() -> None:
    spec = _spec()
    components = spec["components"]["headers"]
    for method, path, op in _operations(spec):
        for status, response in op["responses"].items():
            for header in response.get("headers", {}).values():
                assert set(header) == {"$ref"}, (method, path, status)
                assert header["$ref"].removeprefix("#/components/headers/") in components
            if not status.startswith("2"):
                continue
            names = _header_names(response)
            assert {"X-Request-ID", "RateLimit-Policy"} <= names, (method, path, status)
            assert ("RateLimit" in names) == bool(op.get("security")), (method, path, status)
            assert ("Location" in names) == (status == "201"), (method, path, status)
        if "If-Match" in {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}:
            # what takes If-Match answers the ETag to send next time (deletes answer nothing)
            for status, response in op["responses"].items():
                if status.startswith("2") and status != "204":
                    assert "ETag" in _header_names(response), (method, path, status)
    assert all(components[name]["description"] for name in components)


def test_the_document_names_a_server() -> None:
    assert _spec()["servers"] == [
        {
            "url": "/",
            "description": "The server that served this document. A generated client takes "
            "the address as its `base_url`.",
        }
    ]


ANNOUNCED = ("ETag", "Location", "RateLimit", "RateLimit-Policy", "X-Request-ID")


def _assert_headers_as_documented(spec: dict[str, Any], response: Response) -> None:
    """The response carries exactly the announced headers its operation documents for its
    status."""
    request = response.request
    template = path_template(spec, request.url.path, request.method)
    assert template is not None, request.url
    operation = spec["paths"][template][request.method.lower()]
    documented = _header_names(operation["responses"][str(response.status_code)])
    sent = {name for name in ANNOUNCED if name in response.headers}
    assert sent == documented & set(ANNOUNCED), (request.method, template, response.status_code)


async def test_real_answers_carry_the_headers_the_document_names(
    agency_a: Tenant, clock: FixedClock, anon: AsyncClient
) -> None:
    spec = _spec()
    api = agency_a.admin
    created = await api.post(
        "/v1/candidates",
        json={"first_name": "Amara", "last_name": "Okafor", "email": "amara.h@example.com"},
    )
    candidate = f"/v1/candidates/{created.json()['id']}"
    answers = [created, await api.get(candidate), await api.get("/v1/candidates")]
    answers.append(
        await api.patch(candidate, json={"phone": "+44 20 7946 0000"}, headers={"If-Match": '"1"'})
    )
    referee = {"name": "Daniel Reyes", "email": "daniel.h@example.org", "relationship": "Manager"}
    answers.append(await api.post(f"{candidate}/referees", json=referee))
    upsert = "/v1/candidates/by-external-id/ats-7"
    body = {"first_name": "Ola", "last_name": "Nordmann", "email": "ola.h@example.com"}
    answers += [await api.put(upsert, json=body), await api.put(upsert, json=body)]
    answers += [await api.get("/v1/agency"), await api.get("/v1/me")]
    key = await api.post("/v1/api-keys", json={"name": "ATS"})
    answers += [key, await api.get(f"/v1/api-keys/{key.json()['id']}")]
    application = await make_application(agency_a)
    start = clock.now() - timedelta(hours=3)
    interview = await make_interview(agency_a, application["id"], starts_at=start)
    steps = f"/v1/interviews/{interview['id']}/next-steps"
    plan = {
        "kind": "another_round",
        "details": "A second round with the CFO.",
        "decision_expected_by": (clock.now() + timedelta(days=3)).isoformat(),
    }
    answers += [await api.put(steps, json=plan), await api.get(steps)]
    answers.append(await api.delete(candidate, headers={"If-Match": '"2"'}))
    answers.append(await anon.get("/healthz"))

    expected = [201, 200, 200, 200, 201, 201, 200, 200, 200, 201, 200, 201, 200, 204, 200]
    assert [answer.status_code for answer in answers] == expected, answers[-2].text
    for answer in answers:
        if answer.status_code < 300:
            _assert_headers_as_documented(spec, answer)
