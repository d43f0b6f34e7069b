"""One object of every kind in an agency (by the collection name in its URL), the routes that
name an object by id, and a snapshot of what the owner reads: for the tenancy matrix and the
input sweep."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from app.core.auth import require_admin
from app.core.clock import FixedClock
from app.core.db import tenant_transaction
from app.messages.service import Recipient, queue_message
from app.messages.templates import DEFAULTS
from app.models import MessageKind, RecipientType
from tests.support.records import created
from tests.support.routes import api_routes
from tests.support.tenants import Tenant

ID_PARAM = re.compile(r"\{(\w+)\}")
# Names, not objects (each agency has its own), and the signed public link (tested apart).
NOT_OBJECT_IDS = {"external_id", "kind", "token"}


def object_routes(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path, admin_only) for every route whose path names an object by id."""
    routes = []
    for route in api_routes(app):
        params = set(ID_PARAM.findall(route.path)) - NOT_OBJECT_IDS
        if params:
            admin_only = depends_on(route.dependant, require_admin)
            routes += [(method, route.path, admin_only) for method in sorted(route.methods or ())]
    return routes


def depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or depends_on(d, call) for d in dependant.dependencies)


def collection_of(path: str) -> str:
    """`/v1/candidates/{record_id}/referees` → `candidates`: the segment before the first id."""
    segments = path.split("/")
    first_param = next(i for i, s in enumerate(segments) if s.startswith("{"))
    return segments[first_param - 1]


def example_body(app: FastAPI, method: str, path: str) -> Any:
    """The first example of the route's request body schema, as the docs show it."""
    operation = app.openapi()["paths"][path][method.lower()]
    body = operation.get("requestBody")
    if body is None:
        return None
    schema = body["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    return app.openapi()["components"]["schemas"][name]["examples"][0]


async def objects_of(tenant: Tenant, clock: FixedClock) -> dict[str, str]:
    """One object of every kind in `tenant`, by the collection name in its URL."""
    admin = tenant.admin
    user = await tenant.add_user()
    key = await tenant.api_key()
    candidate = await created(
        admin,
        "/v1/candidates",
        {"first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com"},
    )
    referee = await created(
        admin,
        f"/v1/candidates/{candidate['id']}/referees",
        {"name": "Dan", "email": "dan@example.org", "relationship": "manager"},
    )
    client = await created(admin, "/v1/clients", {"name": "Harbour Logistics"})
    contact = await created(
        admin,
        f"/v1/clients/{client['id']}/contacts",
        {"name": "Sofia", "email": "sofia@harbour.example.com"},
    )
    vacancy = await created(admin, "/v1/vacancies", {"client_id": client["id"], "title": "Analyst"})
    application = await created(
        admin, "/v1/applications", {"candidate_id": candidate["id"], "vacancy_id": vacancy["id"]}
    )
    starts = clock.now() + timedelta(days=2)
    interview = await created(
        admin,
        "/v1/interviews",
        {
            "application_id": application["id"],
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "format": "video",
            "interviewer_ids": [contact["id"]],
        },
    )
    message = await queued_message(tenant, clock, contact)
    hook = await created(admin, "/v1/webhook-endpoints", {"url": "https://93.184.216.34/hooks"})
    return {
        "webhook-endpoints": hook["id"],
        "messages": message,
        "users": user["id"],
        "api-keys": key["id"],
        "candidates": candidate["id"],
        "referees": referee["id"],
        "clients": client["id"],
        "contacts": contact["id"],
        "vacancies": vacancy["id"],
        "applications": application["id"],
        "interviews": interview["id"],
    }


async def queued_message(tenant: Tenant, clock: FixedClock, contact: dict[str, Any]) -> str:
    """No route queues a message by itself: the workflow does. Queue one as a step would."""
    principal = tenant.admin_principal()
    async with tenant_transaction(tenant.app.state.sessions, principal.agency_id) as session:
        recipient = Recipient(
            RecipientType.contact, UUID(contact["id"]), contact["email"], contact["name"]
        )
        sample = DEFAULTS[MessageKind.withdrawal_note].sample
        message = await queue_message(
            session,
            principal,
            clock,
            MessageKind.withdrawal_note,
            recipient,
            sample,
            dedupe_key=f"matrix:{contact['id']}",
        )
        assert message is not None
        return str(message.id)


async def snapshot(tenant: Tenant, objects: dict[str, str]) -> dict[str, Any]:
    """Each object as its owner reads it (body and ETag), and the owner's sub-lists."""
    state = {}
    for collection, object_id in objects.items():
        response = await tenant.admin.get(f"/v1/{collection}/{object_id}")
        assert response.status_code == 200, (collection, response.text)
        state[collection] = (response.json(), response.headers.get("etag"))
    for sub in ("candidates/{}/referees", "clients/{}/contacts"):
        parent = sub.split("/")[0]
        listing = await tenant.admin.get("/v1/" + sub.format(objects[parent]))
        state[sub] = listing.json()["items"]
    return state
