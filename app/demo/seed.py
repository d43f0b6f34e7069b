"""The demo agency: people, clients, vacancies, about twenty candidates and their applications at
every stage, with interviews that ended at different times, so that every worklist kind and
every report figure shows something the moment the service starts.

The seed goes through the API itself (in process, no socket), so every row obeys the same rules,
events and timeline as a consultant's work. A clock that the seed moves walks the story from a
month ago to now; `planned_ids` gives the rows the documentation's examples name their fixed ids.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.agency.service import create_agency
from app.candidate_links.links import CandidateLinks
from app.candidate_links.service import open_link
from app.core.auth import Scope, worker_principal
from app.core.clock import FixedClock
from app.core.db import session_factory, tenant_transaction
from app.core.ids import planned_ids
from app.core.logging import quiet
from app.core.settings import Settings
from app.core.timestamps import touch
from app.decisions.schemas import DecisionWrite
from app.decisions.service import record_decision
from app.delivery.outbox import fail_message
from app.demo import ids
from app.demo.data import (
    AGENCY_NAME,
    CANDIDATES,
    CLIENTS,
    PIPELINE,
    USERS,
    VACANCIES,
    Body,
    Stage,
)
from app.models import DeliveryState, Message, MessageStatus, WebhookAttempt, WebhookDelivery

Json = dict[str, Any]
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class SeedFailed(RuntimeError):
    """The API refused one of the seed's own requests: a bug in the seed or the rules."""


@dataclass(order=True)
class Action:
    at: datetime
    order: int
    run: Callable[[], Awaitable[None]] = field(compare=False)


class Seeder:
    """Calls the API as the demo's integration key, on behalf of a consultant, at the seed clock."""

    def __init__(
        self,
        api: AsyncClient,
        clock: FixedClock,
        admin_email: str,
        password: str,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        links: CandidateLinks | None = None,
    ):
        self.api, self.clock = api, clock
        self.admin_email, self.password = admin_email, password
        self.actions: list[Action] = []
        self.sessions, self.links = sessions, links
        self.candidate_tokens: dict[str, str] = {}
        """Each interview's candidate link (by the interview's path), once issued."""

    def at(self, when: datetime, run: Callable[[], Awaitable[None]]) -> None:
        self.actions.append(Action(when, len(self.actions), run))

    async def play(self) -> None:
        for action in sorted(self.actions):
            self.clock.set(max(self.clock.now(), action.at))
            await action.run()

    async def call(
        self,
        method: str,
        path: str,
        body: Json | None = None,
        *,
        acting: UUID = ids.ADMIN,
        person: bool = False,
        headers: dict[str, str] | None = None,
        **planned: UUID,
    ) -> Json:
        sent = dict(headers or {})
        if person:  # a step only a person may take: log in at the seed clock
            sent["Authorization"] = f"Bearer {await self.log_in()}"
        else:
            sent["On-Behalf-Of"] = str(acting)
        with planned_ids(**planned):
            response = await self.api.request(method, path, json=body, headers=sent)
        if response.status_code >= 300:
            raise SeedFailed(f"{method} {path}: {response.status_code} {response.text}")
        result: Json = response.json() if response.content else {}
        return result

    async def patch(
        self, path: str, body: Json, *, acting: UUID = ids.ADMIN, person: bool = False
    ) -> Json:
        current = await self.api.get(path, headers={"On-Behalf-Of": str(acting)})
        etag = current.headers["ETag"]
        return await self.call(
            "PATCH", path, body, acting=acting, person=person, headers={"If-Match": etag}
        )

    async def decide_by_link(self, iv_path: str, body: Json) -> None:
        """The candidate records their decision through their own link (as its page does)."""
        assert self.sessions is not None and self.links is not None
        token = self.candidate_tokens[iv_path]
        async with self.sessions() as session, session.begin():
            visit = await open_link(session, self.links, token, self.clock.now())
            data = DecisionWrite.model_validate(body)
            await record_decision(session, visit.principal, self.clock, visit.application.id, data)

    async def log_in(self) -> str:
        form = {"username": self.admin_email, "password": self.password}
        response = await self.api.post("/v1/auth/token", data=form)
        if response.status_code != 200:
            raise SeedFailed(f"log in: {response.status_code} {response.text}")
        token: str = response.json()["access_token"]
        return token


async def seed_demo(
    engine: AsyncEngine,
    settings: Settings,
    jwt_secret: str,
    admin_email: str,
    admin_password: str,
    now: datetime | None = None,
) -> UUID:
    """Create the demo agency (id `ids.AGENCY`) and its month of history, ending at `now`."""
    from app.main import create_app  # the app is built here only; import it late

    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    start = end - 30 * DAY
    clock = FixedClock(start)
    sessions = session_factory(engine)
    with planned_ids(agency=ids.AGENCY, app_user=ids.ADMIN):
        await create_agency(
            sessions, clock, AGENCY_NAME, admin_email, admin_password, "Alex Morgan"
        )
    # No quota for the seed's own burst; its webhook receiver is a local one (development).
    roomy = settings.model_copy(
        update={"rate_limit_per_minute": 1_000_000, "webhooks_allow_private": True}
    )
    app = create_app(roomy, engine=engine, jwt_secret=jwt_secret, clock=clock, run_worker=False)
    transport = ASGITransport(app=app, raise_app_exceptions=True)
    # quiet(): hundreds of request lines would bury the start-up lines.
    with quiet():
        async with AsyncClient(transport=transport, base_url="http://demo.invalid") as api:
            links = CandidateLinks(jwt_secret, "http://demo.invalid")
            seeder = Seeder(api, clock, admin_email, admin_password, sessions, links)
            key = await _integration_key(seeder)
            api.headers["Authorization"] = f"Bearer {key}"
            await _records(seeder)
            for stage in PIPELINE:
                _plan_application(seeder, stage, end)
            _plan_housekeeping(seeder, end)
            await seeder.play()
            clock.set(end)
    await _history_of_failures(engine, clock)
    return ids.AGENCY


async def _integration_key(seeder: Seeder) -> str:
    """The ATS's API key (every scope): the seed works through it, naming the consultant."""
    token = await seeder.log_in()
    person = {"Authorization": f"Bearer {token}"}
    body = {"name": "Demo ATS sync", "scopes": [scope.value for scope in Scope]}
    with planned_ids(api_key=ids.ATS_KEY):
        made = await seeder.api.post("/v1/api-keys", json=body, headers=person)
    if made.status_code != 201:
        raise SeedFailed(f"api key: {made.status_code} {made.text}")
    old = {"name": "Old spreadsheet import", "scopes": ["records:read"]}
    with planned_ids(api_key=ids.OLD_KEY):
        await seeder.api.post("/v1/api-keys", json=old, headers=person)
    key: str = made.json()["key"]
    return key


async def _records(seeder: Seeder) -> None:
    """Colleagues, agency settings, clients with contacts, vacancies, candidates with referees."""
    await seeder.patch("/v1/agency", {"timezone": "Europe/London"}, person=True)
    for key, user in USERS.items():
        await seeder.call(
            "POST",
            "/v1/users",
            {**user, "password": seeder.password},
            person=True,
            app_user=ids.demo_id(key),
        )
    for client_key, client in CLIENTS.items():
        body = {"name": client["name"], "external_id": f"crm-{client_key}"}
        await seeder.call("POST", "/v1/clients", body, client=ids.client(client_key))
        for contact_key, contact in client["contacts"].items():
            await seeder.call(
                "POST",
                f"/v1/clients/{ids.client(client_key)}/contacts",
                contact,
                client_contact=ids.contact(contact_key),
            )
    for vacancy_key, vacancy in VACANCIES.items():
        body = {
            "client_id": str(ids.client(vacancy["client"])),
            "title": vacancy["title"],
            "external_id": f"job-{vacancy_key}",
        }
        if vacancy["hiring"]:
            body["hiring_contact_id"] = str(ids.contact(vacancy["hiring"]))
        await seeder.call("POST", "/v1/vacancies", body, vacancy=ids.vacancy(vacancy_key))
    for key, person in CANDIDATES.items():
        body = {
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "email": f"{person['first_name']}.{person['last_name']}@example.com".lower(),
            "phone": person.get("phone"),
            "contact_consent": person.get("consent", True),
            "owner_id": str(ids.ADMIN),
            "external_id": f"cand-{key}",
        }
        await seeder.call("POST", "/v1/candidates", body, candidate=ids.candidate(key))
        referee = person["referee"]
        await seeder.call(
            "POST",
            f"/v1/candidates/{ids.candidate(key)}/referees",
            {
                "name": referee["name"],
                "email": f"{referee['name'].replace(' ', '.')}@example.org".lower(),
                "relationship": referee["relationship"],
                "consent_to_contact": referee.get("consent", True),
            },
            referee=ids.referee(key),
        )


def _plan_application(seeder: Seeder, stage: Stage, end: datetime) -> None:
    """Schedule one application's history: created a week before its interview, then each step
    at its offset from the interview's end."""
    application_id, interview_id = ids.application(stage.key), ids.interview(stage.key)
    ends = stage.fixed_end or end + stage.ends
    vacancy = VACANCIES[stage.vacancy]
    consultant = ids.demo_id(stage.consultant) if stage.consultant else ids.ADMIN
    app_path = f"/v1/applications/{application_id}"
    iv_path = f"/v1/interviews/{interview_id}"
    follow = f"{iv_path}/follow-up"
    created = min(ends - 7 * DAY, end - 2 * HOUR)

    async def apply() -> None:
        body = {
            "candidate_id": str(ids.candidate(stage.candidate)),
            "vacancy_id": str(ids.vacancy(stage.vacancy)),
            "consultant_id": str(consultant),
            "external_id": f"sub-{stage.key}",
        }
        await seeder.call("POST", "/v1/applications", body, application=application_id)

    async def schedule() -> None:
        body = {
            "application_id": str(application_id),
            "starts_at": (ends - HOUR).isoformat(),
            "ends_at": ends.isoformat(),
            "format": stage.format,
            "round": 1,
            "interviewer_ids": [str(ids.contact(c)) for c in vacancy["interviewers"]],
            "external_id": f"int-{stage.key}",
        }
        await seeder.call("POST", "/v1/interviews", body, interview=interview_id)

    seeder.at(created, apply)
    if stage.interview:
        seeder.at(created + HOUR, schedule)
    for offset, step, body in stage.steps:
        run = _step(seeder, step, body, ends, app_path, iv_path, follow, consultant)
        seeder.at(ends + offset, run)


def _step(
    seeder: Seeder,
    step: str,
    body: Body,
    ends: datetime,
    app_path: str,
    iv_path: str,
    follow: str,
    consultant: UUID,
) -> Callable[[], Awaitable[None]]:
    """One workflow step of an application, as a consultant (or the integration) takes it."""
    routes: dict[str, tuple[str, str, bool]] = {
        "next_steps": ("PUT", f"{iv_path}/next-steps", False),
        "debrief": ("PUT", f"{iv_path}/debrief", False),
        "decision": ("PUT", f"{app_path}/decision", False),
        "thanks": ("POST", f"{follow}/agency-thanks", False),
        "direct_request": ("POST", f"{follow}/direct-contact-request", False),
        "approve": ("POST", f"{follow}/direct-contact-request/approve", True),
        "send": ("POST", f"{follow}/send", False),
        "heads_up": ("POST", f"{app_path}/referee-heads-ups", False),
        "bounced_heads_up": ("POST", f"{app_path}/referee-heads-ups", False),
        "outcome": ("PUT", f"{app_path}/outcome", False),
        "feedback": ("POST", f"{app_path}/feedback-request/feedback", False),
        "release": ("POST", f"{app_path}/feedback-request/release", False),
    }

    async def run() -> None:
        sent = body(ends) if callable(body) else body
        if step == "likely":
            await seeder.patch(app_path, sent or {}, acting=consultant)
            return
        if step == "candidate_link":
            issued = await seeder.call("POST", f"{iv_path}/candidate-link", acting=consultant)
            seeder.candidate_tokens[iv_path] = issued["url"].rsplit("/", 1)[1]
            return
        if step == "decision_by_link":
            await seeder.decide_by_link(iv_path, sent or {})
            return
        method, path, person = routes[step]
        bounced = step == "bounced_heads_up"
        with planned_ids(**({"message": ids.BOUNCED_MESSAGE} if bounced else {})):
            await seeder.call(method, path, sent, acting=consultant, person=person)

    return run


def _plan_housekeeping(seeder: Seeder, end: datetime) -> None:
    """A colleague who left, a message template, and a webhook endpoint with a test delivery."""

    async def endpoint() -> None:
        body = {
            "url": "http://localhost:9000/hooks/afterview",
            "description": "Our ATS (a local receiver while trying Afterview)",
            "event_types": ["application.*", "follow_up.sent", "feedback.received"],
            "enabled": True,
        }
        await seeder.call("POST", "/v1/webhook-endpoints", body, webhook_endpoint=ids.WEBHOOK)
        await seeder.call(
            "POST",
            f"/v1/webhook-endpoints/{ids.WEBHOOK}/test",
            webhook_delivery=ids.FAILED_DELIVERY,
        )

    seeder.at(end - 3 * DAY, endpoint)


async def _history_of_failures(engine: AsyncEngine, clock: FixedClock) -> None:
    """Two things that went wrong during the month, written as the worker records them: a
    heads-up that bounced (so `retry_message` has something to retry) and the webhook test that
    found no receiver listening (so `retry_webhook_delivery` does)."""
    principal = worker_principal(ids.AGENCY)
    async with tenant_transaction(session_factory(engine), ids.AGENCY) as session:
        message = await session.scalar(
            select(Message).where(
                Message.agency_id == ids.AGENCY, Message.id == ids.BOUNCED_MESSAGE
            )
        )
        if message is None or message.status != MessageStatus.queued:
            raise SeedFailed("the heads-up meant to bounce is not queued")
        message.attempts = 1
        fail_message(
            session, principal, clock, message, "550 5.1.1 The email account does not exist"
        )
        delivery = await session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.agency_id == ids.AGENCY,
                WebhookDelivery.id == ids.FAILED_DELIVERY,
            )
        )
        if delivery is None:
            raise SeedFailed("the webhook test delivery is missing")
        delivery.state, delivery.attempts = DeliveryState.failed, 1
        delivery.next_attempt_at = None
        touch(delivery, clock.now())
        session.add(
            WebhookAttempt(
                agency_id=ids.AGENCY,
                delivery_id=delivery.id,
                attempt=1,
                attempted_at=clock.now(),
                error="connection refused: nothing listens on localhost:9000",
                duration_ms=2,
            )
        )
