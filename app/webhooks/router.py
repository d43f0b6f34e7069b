from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response, status

from app.core.auth import WebhookManager
from app.core.deps import ClockDep, SessionDep
from app.core.errors import DeliveryPending, PreconditionRequired, WebhookUrlRefused
from app.core.etag import IfMatch, etag_of, set_etag
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.pagination import Page, PageQuery
from app.core.problem_docs import raises
from app.core.state import StateDep
from app.webhooks import service
from app.webhooks.schemas import (
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)
from app.webhooks.secrets import WebhookSecrets

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["Integrations"])
ONE = "/{endpoint_id}"
EndpointIdPath = Annotated[UUID, Path(description="The webhook endpoint's id.")]
DeliveryIdPath = Annotated[UUID, Path(description="The delivery's id.")]
SIGNING = (
    "Deliveries follow Standard Webhooks v1: headers `webhook-id` (the event's `id` in "
    "`GET /v1/events`), `webhook-timestamp`, `webhook-signature`; body `{type, timestamp, "
    "data}`. A 2xx within 10 s is success; otherwise retried on "
    "`AFTERVIEW_WEBHOOK_RETRY_SCHEDULE` (default 5s, 5m, 30m, 2h, 5h, 10h, 10h). An endpoint "
    "failing for 5 days is disabled and your admins are emailed. Redirects are not followed."
)


async def _config(state: StateDep) -> service.WebhookConfig:
    return service.WebhookConfig(
        WebhookSecrets(state.jwt_secret), state.settings.webhooks_allow_private
    )


ConfigDep = Annotated[service.WebhookConfig, Depends(_config)]


def _with_secret(endpoint: object, secret: str) -> WebhookEndpointWithSecret:
    return WebhookEndpointWithSecret.model_validate(endpoint).model_copy(update={"secret": secret})


@router.get("", summary="Your agency's webhook endpoints (admins, or keys with webhooks:manage)")
async def list_webhook_endpoints(
    principal: WebhookManager, session: SessionDep
) -> list[WebhookEndpointRead]:
    endpoints = await service.list_endpoints(session, principal)
    return [WebhookEndpointRead.model_validate(e) for e in endpoints]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a webhook endpoint; its signing secret is shown in this response only",
    description=SIGNING,
    openapi_extra=raises(WebhookUrlRefused) | SETS_ETAG,
)
async def create_webhook_endpoint(
    principal: WebhookManager,
    session: SessionDep,
    clock: ClockDep,
    config: ConfigDep,
    data: WebhookEndpointCreate,
    idem: IdempotencyDep,
    response: Response,
) -> WebhookEndpointWithSecret:
    endpoint, secret = await service.create_endpoint(session, principal, clock, config, data)
    response.headers["Cache-Control"] = "no-store"
    return await idem.respond(
        response,
        _with_secret(endpoint, secret),
        status_code=201,
        location=f"/v1/webhook-endpoints/{endpoint.id}",
        etag=etag_of(endpoint.version),
        redact=frozenset({"secret"}),
    )


@router.get(ONE, summary="Read a webhook endpoint", openapi_extra=SETS_ETAG)
async def read_webhook_endpoint(
    principal: WebhookManager, session: SessionDep, endpoint_id: EndpointIdPath, response: Response
) -> WebhookEndpointRead:
    endpoint = await service.get_endpoint(session, principal, endpoint_id)
    set_etag(response, endpoint.version)
    return WebhookEndpointRead.model_validate(endpoint)


@router.patch(
    ONE,
    summary="Change a webhook endpoint (requires If-Match)",
    openapi_extra=raises(WebhookUrlRefused, PreconditionRequired) | SETS_ETAG,
)
async def update_webhook_endpoint(
    principal: WebhookManager,
    session: SessionDep,
    clock: ClockDep,
    config: ConfigDep,
    endpoint_id: EndpointIdPath,
    changes: WebhookEndpointUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> WebhookEndpointRead:
    endpoint = await service.update_endpoint(
        session, principal, clock, config, endpoint_id, changes, if_match
    )
    set_etag(response, endpoint.version)
    return WebhookEndpointRead.model_validate(endpoint)


@router.delete(
    ONE,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a webhook endpoint and its deliveries (the events stay in the feed)",
)
async def delete_webhook_endpoint(
    principal: WebhookManager, session: SessionDep, clock: ClockDep, endpoint_id: EndpointIdPath
) -> None:
    await service.delete_endpoint(session, principal, clock, endpoint_id)


@router.post(
    ONE + "/rotate-secret",
    summary="Issue a new signing secret; deliveries carry both signatures for 24 hours",
)
async def rotate_webhook_secret(
    principal: WebhookManager,
    session: SessionDep,
    clock: ClockDep,
    config: ConfigDep,
    endpoint_id: EndpointIdPath,
    idem: IdempotencyDep,
    response: Response,
) -> WebhookEndpointWithSecret:
    endpoint, secret = await service.rotate_secret(session, principal, clock, config, endpoint_id)
    response.headers["Cache-Control"] = "no-store"
    return await idem.respond(
        response, _with_secret(endpoint, secret), redact=frozenset({"secret"})
    )


@router.post(
    ONE + "/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a `webhook.test` event to this endpoint now",
)
async def send_test_webhook(
    principal: WebhookManager,
    session: SessionDep,
    clock: ClockDep,
    endpoint_id: EndpointIdPath,
    idem: IdempotencyDep,
    response: Response,
) -> WebhookDeliveryRead:
    delivery, event = await service.send_test(session, principal, clock, endpoint_id)
    return await idem.respond(
        response, service.delivery_read(delivery, event.type, []), status_code=202
    )


@router.get(ONE + "/deliveries", summary="The endpoint's deliveries, newest first, with attempts")
async def list_webhook_deliveries(
    principal: WebhookManager, session: SessionDep, endpoint_id: EndpointIdPath, page: PageQuery
) -> Page[WebhookDeliveryRead]:
    items, next_cursor = await service.list_deliveries(session, principal, endpoint_id, page)
    return Page(items=items, next=next_cursor)


@router.post(
    ONE + "/deliveries/{delivery_id}/retry",
    summary="Send a finished delivery again (409 `delivery-pending` while it is being tried)",
    openapi_extra=raises(DeliveryPending),
)
async def retry_webhook_delivery(
    principal: WebhookManager,
    session: SessionDep,
    clock: ClockDep,
    endpoint_id: EndpointIdPath,
    delivery_id: DeliveryIdPath,
    idem: IdempotencyDep,
    response: Response,
) -> WebhookDeliveryRead:
    delivery = await service.retry_delivery(session, principal, clock, endpoint_id, delivery_id)
    return await idem.respond(response, delivery)
