"""The committed OpenAPI document is what the app generates, and it is usable from /docs."""

from typing import Any

from app.openapi import OPENAPI_PATH, render_openapi


def test_committed_openapi_matches_the_app() -> None:
    assert OPENAPI_PATH.read_text() == render_openapi(), (
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

    spec: dict[str, Any] = json.loads(render_openapi())
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

    spec: dict[str, Any] = json.loads(render_openapi())
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

    spec: dict[str, Any] = json.loads(render_openapi())
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(_[a-z]+)*", i) or "_v1_" in i] == []
    for expected in ("list_candidates", "create_candidate", "approve_direct_contact", "log_in"):
        assert expected in ids
