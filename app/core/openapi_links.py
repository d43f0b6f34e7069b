"""OpenAPI links: what a client can call next with what an answer gave it.

Two rules, read off the paths: the id a `POST <collection>` answers with fills the path of every
operation under `<collection>/{id}`; and a read's `ETag` is the `If-Match` of the change and
the delete at the same path. Generated clients and schemathesis' stateful phase follow them.
"""

import re
from typing import Any

_PARAM = re.compile(r"\{([^}]+)\}")


def _path_params(path: str) -> list[str]:
    return _PARAM.findall(path)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec.get("paths", {}).items()
        for method, operation in item.items()
        if "operationId" in operation
    ]


def _link(target: dict[str, Any], parameters: dict[str, str], description: str) -> dict[str, Any]:
    return {
        "operationId": target["operationId"],
        "parameters": parameters,
        "description": description,
    }


def _if_match(target: dict[str, Any]) -> bool:
    return any(
        p["in"] == "header" and p["name"] == "If-Match" for p in target.get("parameters", [])
    )


def _created_links(
    path: str, operations: list[tuple[str, str, dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """From `POST path` (201 with an `id`) to each operation on `path/{id}…`."""
    links = {}
    known = set(_path_params(path))
    for target_path, _, target in operations:
        rest = target_path.removeprefix(path + "/")
        if rest == target_path or not rest.startswith("{"):
            continue
        params = set(_path_params(target_path)) - known
        first = _path_params(rest)[0]
        if params != {first}:
            continue
        values = {first: "$response.body#/id", **{p: f"$request.path.{p}" for p in known}}
        links[target["operationId"]] = _link(target, values, "With the id just created.")
    return links


def _etag_links(
    path: str, operations: list[tuple[str, str, dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """From `GET path` to the operations at the same path that take If-Match."""
    links = {}
    for target_path, method, target in operations:
        if target_path != path or method == "get" or not _if_match(target):
            continue
        values = {p: f"$request.path.{p}" for p in _path_params(path)}
        values["header.If-Match"] = "$response.header.ETag"
        links[target["operationId"]] = _link(target, values, "With the ETag just read.")
    return links


def add_links(spec: dict[str, Any]) -> None:
    """Write both kinds of link into the success responses of `spec`, in place."""
    operations = _operations(spec)
    for path, method, operation in operations:
        responses = operation.get("responses", {})
        if method == "post" and "201" in responses:
            links = _created_links(path, operations)
            if links:
                responses["201"]["links"] = links
        elif method == "get" and "200" in responses:
            links = _etag_links(path, operations)
            if links:
                responses["200"]["links"] = links
