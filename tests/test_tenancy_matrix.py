"""Generated from the app's own route table: every route with an object id in its path, called
by agency B with every method it has on agency A's object, answers 404 and changes nothing.

A route added later is covered without anyone remembering; a route on a collection this test
has no object for fails, asking for one."""

import pytest
from fastapi import FastAPI

from app.core.auth import Scope
from app.core.clock import FixedClock
from tests.support.objects import (
    ID_PARAM,
    collection_of,
    example_body,
    object_routes,
    objects_of,
    snapshot,
)
from tests.support.tenants import Tenant


@pytest.mark.parametrize("credential", ["admin", "api_key"])
async def test_other_agency_gets_404_on_every_object_route(
    app: FastAPI, clock: FixedClock, agency_a: Tenant, agency_b: Tenant, credential: str
) -> None:
    objects = await objects_of(agency_a, clock)
    before = await snapshot(agency_a, objects)
    if credential == "admin":
        intruder = agency_b.admin
    else:
        key = await agency_b.api_key(scopes=[scope.value for scope in Scope])
        intruder = agency_b.client_with_key(key["key"])

    routes = object_routes(app)
    assert len(routes) >= 25  # the table really was walked
    wrong: dict[tuple[str, str], int] = {}
    for method, path, admin_only in routes:
        collection = collection_of(path)
        assert collection in objects, f"no object of {collection!r} to test {method} {path}"
        url = ID_PARAM.sub(objects[collection], path)
        response = await intruder.request(
            method, url, json=example_body(app, method, path), headers={"If-Match": "*"}
        )
        # API keys never reach admin-only routes (403 before any lookup: no oracle either).
        expected = 403 if admin_only and credential == "api_key" else 404
        if response.status_code != expected:
            wrong[(method, path)] = response.status_code
    assert wrong == {}
    assert await snapshot(agency_a, objects) == before


async def test_same_external_id_in_two_agencies_are_two_records(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    body = {"name": "Harbour Logistics"}
    a = await agency_a.admin.put("/v1/clients/by-external-id/crm-1", json=body)
    b = await agency_b.admin.put("/v1/clients/by-external-id/crm-1", json={"name": "Other"})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert (await agency_a.admin.get(f"/v1/clients/{a.json()['id']}")).json()["name"] == (
        "Harbour Logistics"
    )
