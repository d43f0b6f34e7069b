"""An interview ready for step 4 (the thank-you follow-up), and what the follow-up tests
share: the note, deciding, finishing the interview, thanking the agency, the agency's settings.

Login tokens expire after 900 s of app-clock time, so interviews here end a few minutes after the
clock's now and the clock moves just past their end."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient, Response

from app.core.clock import FixedClock
from tests.support.records import (
    at,
    events_of,
    list_items,
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_vacancy,
)
from tests.support.tenants import Tenant

Json = dict[str, Any]

FIRST_NAME = "Ngozi"
LAST_NAME = "Adeyemi"
SUBJECT = "Thank you for today"
BODY = "Thank you for your time today; the warehouse tour was a highlight."
LINKS = [
    "https://portfolio.example.com/ngozi/wms-case-study",
    "https://github.com/ngozi-example/slotting-model",
]
REASON = "Accepted another offer closer to home."


def note(route: str = "via_agency", **overrides: Any) -> Json:
    return {"route": route, "subject": SUBJECT, "body": BODY, **overrides}


@dataclass
class Scene:
    """An application (candidate, vacancy at a client, optional consultant) and one interview
    that starts a minute after the clock's now and lasts five minutes."""

    tenant: Tenant
    candidate: Json
    application: Json
    interviewers: list[Json]
    interview: Json
    consultant: Json | None = None
    client: AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = self.tenant.admin

    @property
    def path(self) -> str:
        return f"/v1/interviews/{self.interview['id']}/follow-up"

    @property
    def ends_at(self) -> datetime:
        return at(self.interview["ends_at"])

    @property
    def decision(self) -> str:
        return f"/v1/applications/{self.application['id']}/decision"

    async def post(
        self, suffix: str, body: Json | None = None, client: AsyncClient | None = None
    ) -> Response:
        return await (client or self.client).post(self.path + suffix, json=body)

    async def state(self, client: AsyncClient | None = None) -> Json:
        response = await (client or self.client).get(self.path)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def messages(self, client: AsyncClient | None = None) -> list[Json]:
        """The follow-up messages queued for this application, oldest first."""
        items = await list_items(
            client or self.client, "/v1/messages", application_id=self.application["id"]
        )
        ours = [m for m in items if m["kind"].startswith("follow_up_")]
        return sorted(ours, key=lambda m: (m["created_at"], m["to"]))

    async def events(self) -> list[Json]:
        """The follow-up events of this interview, oldest first."""
        return [
            e
            for e in await events_of(self.tenant)
            if e["type"].startswith("follow_up.")
            and e["data"].get("interview_id") == self.interview["id"]
        ]

    async def snapshot(self, client: AsyncClient | None = None) -> tuple[Json, list[Json], int]:
        """What a refused request must leave alone: the state, the messages, the events."""
        return await self.state(client), await self.messages(client), len(await self.events())


async def schedule(
    tenant: Tenant,
    clock: FixedClock,
    *,
    interviewers: int = 1,
    consultant: Json | None = None,
    same_application_as: Scene | None = None,
) -> Scene:
    if same_application_as is not None:
        candidate = same_application_as.candidate
        application = same_application_as.application
        contacts = same_application_as.interviewers
        consultant = same_application_as.consultant
    else:
        company = await make_client(tenant)
        contacts = [await make_contact(tenant, company["id"]) for _ in range(interviewers)]
        vacancy = await make_vacancy(tenant, company["id"])
        candidate = await make_candidate(tenant, first_name=FIRST_NAME, last_name=LAST_NAME)
        extra: Json = {"consultant_id": consultant["id"]} if consultant else {}
        application = await make_application(tenant, candidate["id"], vacancy["id"], **extra)
    start = clock.now() + timedelta(minutes=1)
    interview = await make_interview(
        tenant,
        application["id"],
        interviewer_ids=[c["id"] for c in contacts],
        starts_at=start,
        ends_at=(start + timedelta(minutes=5)).isoformat(),
    )
    return Scene(tenant, candidate, application, contacts, interview, consultant)


async def decide(scene: Scene, decision: str) -> None:
    body: Json = {"decision": decision}
    if decision == "withdraw":
        body["reason"] = REASON
    response = await scene.client.put(scene.decision, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["decision"] == decision


async def finish(clock: FixedClock, *scenes: Scene, decision: str | None = "want") -> None:
    """Move the clock a minute past the last interview's end; record each decision."""
    clock.set(max(s.ends_at for s in scenes) + timedelta(minutes=1))
    if decision is not None:
        for scene in scenes:
            await decide(scene, decision)


async def ready(tenant: Tenant, clock: FixedClock, **options: Any) -> Scene:
    """An ended interview whose candidate wants the job."""
    scene = await schedule(tenant, clock, **options)
    await finish(clock, scene)
    return scene


async def thanked(tenant: Tenant, clock: FixedClock, **options: Any) -> Scene:
    scene = await ready(tenant, clock, **options)
    response = await scene.post("/agency-thanks", {"note": "Thanks for setting it up."})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "agency_thanked"
    return scene


async def set_agency(tenant: Tenant, **changes: Any) -> Json:
    current = await tenant.admin.get("/v1/agency")
    assert current.status_code == 200, current.text
    response = await tenant.admin.patch(
        "/v1/agency", json=changes, headers={"If-Match": current.headers["etag"]}
    )
    assert response.status_code == 200, response.text
    updated: Json = response.json()
    return updated
