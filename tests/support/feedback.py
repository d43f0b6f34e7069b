"""An application ready for step 6 (the feedback request), worked through an API-key client,
and what the feedback tests share: running the worker's chases, the agency's chase schedule,
the client's link and the JSON twin of its form."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from httpx import AsyncClient

from app.core.auth import worker_principal
from app.core.clock import FixedClock
from app.core.db import tenant_transaction
from app.core.ids import AgencyId
from app.feedback.links import FeedbackLinks
from app.feedback.service import run_chases
from tests.support.records import (
    Json,
    list_items,
    make_candidate,
    make_client,
    make_contact,
    make_vacancy,
)
from tests.support.tenants import Tenant

FEEDBACK: Json = {
    "strengths": "Clear, structured answers on warehouse systems.",
    "gaps": "Less depth on budgeting than the role needs.",
    "advice": "Bring numbers to the cost-saving examples.",
}
DAY = timedelta(days=1)


@dataclass
class Scene:
    """An application at a client, worked through an API-key client (the clock moves by days)."""

    tenant: Tenant
    api: AsyncClient
    client: Json
    contact: Json
    vacancy: Json
    candidate: Json
    application: Json

    @property
    def id(self) -> str:
        return str(self.application["id"])

    @property
    def path(self) -> str:
        return f"/v1/applications/{self.id}/feedback-request"

    async def fail(self) -> None:
        response = await self.api.put(
            f"/v1/applications/{self.id}/outcome", json={"outcome": "unsuccessful"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["application"]["status"] == "unsuccessful"

    async def request(self) -> Json:
        response = await self.api.get(self.path)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def messages(self, kind: str | None = None) -> list[Json]:
        params: dict[str, Any] = {"application_id": self.id}
        if kind is not None:
            params["kind"] = kind
        return await list_items(self.api, "/v1/messages", **params)


async def scene(
    tenant: Tenant, *, hiring_contact: bool = True, consent: bool = True, **candidate: Any
) -> Scene:
    api = await tenant.integration()
    client = await make_client(api)
    contact = await make_contact(api, client["id"])
    extra = {"hiring_contact_id": contact["id"]} if hiring_contact else {}
    vacancy = await make_vacancy(api, client["id"], **extra)
    person = await make_candidate(api, contact_consent=consent, **candidate)
    response = await api.post(
        "/v1/applications", json={"candidate_id": person["id"], "vacancy_id": vacancy["id"]}
    )
    assert response.status_code == 201, response.text
    return Scene(tenant, api, client, contact, vacancy, person, response.json())


def links_of(tenant: Tenant) -> FeedbackLinks:
    app = tenant.app
    return FeedbackLinks(app.state.jwt_secret, app.state.settings.public_url)


async def chase(tenant: Tenant, clock: FixedClock) -> int:
    """What the worker does: run the agency's chases at `clock.now()`."""
    agency_id = AgencyId(tenant.agency_id)
    principal = worker_principal(agency_id)
    async with tenant_transaction(tenant.app.state.sessions, agency_id) as session:
        return await run_chases(session, principal, clock, links_of(tenant))


async def set_schedule(tenant: Tenant, every_days: int, max_chases: int) -> None:
    current = await tenant.admin.get("/v1/agency")
    assert current.status_code == 200, current.text
    response = await tenant.admin.patch(
        "/v1/agency",
        json={"feedback_chase_after_days": every_days, "feedback_max_chases": max_chases},
        headers={"If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["feedback_chase_after_days"] == every_days
    assert response.json()["feedback_max_chases"] == max_chases


def public_path(link: str) -> str:
    """The JSON twin of the HTML form a client link opens."""
    path = urlsplit(link).path
    assert path.startswith("/feedback/"), link
    return "/v1/public" + path


def at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def with_token(path: str, token: str) -> str:
    return path.rsplit("/", 1)[0] + "/" + token


def forged_signature(token: str) -> str:
    head, claims, signature = token.split(".")
    i = len(signature) // 2  # not the last character, whose low bits may be padding
    flipped = "A" if signature[i] != "A" else "B"
    return f"{head}.{claims}.{signature[:i]}{flipped}{signature[i + 1 :]}"
