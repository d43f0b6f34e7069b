"""RFC 9457 problem details: one class per problem `type`, one renderer for all of them.

A rule the API enforces is a subclass of `Problem` below; services raise it, `install_handlers`
renders it. Integrators match on the `type` URI, whose last segment is the stable slug.
"""

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, ClassVar, Self

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.openapi_paths import documented_methods
from app.core.requests import loggable_path

PROBLEM_BASE_URI = "https://afterview.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = structlog.get_logger(__name__)


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field.", examples=["email"])
    location: str = Field(description="`body`, `query`, `path` or `header`.", examples=["body"])
    message: str = Field(examples=["value is not a valid email address"])


class ProblemDocument(BaseModel):
    """The body of every error response (`application/problem+json`)."""

    type: str = Field(examples=[PROBLEM_BASE_URI + "not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No user with that id."])
    instance: str | None = Field(default=None, examples=["/v1/users/5c0e…"])
    request_id: str | None = Field(default=None, examples=["9f1c2b7e4d3a4c1b8e2f6a5d7c9b0e1f"])
    errors: list[FieldError] | None = Field(
        default=None, description="On validation errors: each offending field."
    )


class Problem(Exception):
    """Base of every problem type. Subclasses set slug, status and title."""

    slug: ClassVar[str] = "about:blank"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal server error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}

    @classmethod
    def type_uri(cls) -> str:
        return PROBLEM_BASE_URI + cls.slug

    @classmethod
    def at_field(
        cls,
        field: str,
        message: str,
        *,
        location: str = "body",
        detail: str | None = None,
        **extensions: Any,
    ) -> Self:
        """This problem, about one input field: `errors` names it as a validation error would;
        the detail is `<field>: <message>.` unless given."""
        entry = FieldError(field=field, location=location, message=message)
        return cls(detail or f"{field}: {message}.", errors=[entry.model_dump()], **extensions)


def _problem(slug: str, status: HTTPStatus, title: str) -> type[Problem]:
    return type(
        "".join(part.title() for part in slug.split("-")),
        (Problem,),
        {"slug": slug, "status": int(status), "title": title},
    )


# The table of problem types. A rule that is not here does not exist.
class NotFound(Problem):
    slug, status, title = "not-found", 404, "Not found"


class MethodNotAllowed(Problem):
    slug, status, title = "method-not-allowed", 405, "Method not allowed"


class ValidationFailed(Problem):
    slug, status, title = "validation-error", 422, "The request is not valid"


class MalformedRequest(Problem):
    slug, status, title = "malformed-request", 400, "The request could not be read"


class AuthenticationRequired(Problem):
    slug, status, title = "authentication-required", 401, "Authentication required"


class InvalidCredentials(Problem):
    slug, status, title = "invalid-credentials", 401, "Invalid credentials"


class InvalidToken(Problem):
    slug, status, title = "invalid-token", 401, "The access token or API key is not valid"


class TokenExpired(Problem):
    slug, status, title = "token-expired", 401, "Your login has expired: log in again"


class Forbidden(Problem):
    slug, status, title = "forbidden", 403, "Your role does not allow this"


class InsufficientScope(Problem):
    slug, status, title = "insufficient-scope", 403, "The API key lacks the scope for this"


class InvalidOnBehalfOf(Problem):
    slug, status, title = "invalid-on-behalf-of", 422, "On-Behalf-Of must name an active user"


class AmbiguousLogin(Problem):
    slug, status, title = "ambiguous-login", 409, "That login belongs to several agencies"


class EmailTaken(Problem):
    slug, status, title = "email-taken", 409, "A user with that email already exists"


class LastAdmin(Problem):
    slug, status, title = "last-admin", 409, "An agency must keep at least one active admin"


class StaleEtag(Problem):
    slug, status, title = "stale-etag", 412, "The object changed since you read it"


class PreconditionRequired(Problem):
    slug, status, title = "precondition-required", 428, "If-Match is required for updates"


class IdempotencyKeyReused(Problem):
    slug, status, title = (
        "idempotency-key-reused",
        422,
        "That Idempotency-Key was used with a different request",
    )


class IdempotencyKeyInFlight(Problem):
    slug, status, title = (
        "idempotency-key-in-flight",
        409,
        "A request with that Idempotency-Key is still being processed",
    )


class ExternalIdTaken(Problem):
    slug, status, title = "external-id-taken", 409, "Another record already has that external_id"


class ApplicationExists(Problem):
    slug, status, title = (
        "application-exists",
        409,
        "That candidate already has an application for that vacancy",
    )


class Immutable(Problem):
    slug, status, title = "immutable-field", 422, "That field cannot change once set"


class InUse(Problem):
    slug, status, title = "in-use", 409, "Other records depend on this one"


class InterviewAlreadyHeld(Problem):
    slug, status, title = "interview-already-held", 409, "The interview has already started"


class InterviewNotFinished(Problem):
    slug, status, title = (
        "interview-not-finished",
        409,
        "The interview has not ended yet; post-interview steps come after it",
    )


class ApplicationClosed(Problem):
    slug, status, title = "application-closed", 409, "The application is closed"


class DecisionNotWant(Problem):
    slug, status, title = (
        "decision-not-want",
        409,
        "A follow-up comes only when the candidate's decision is `want`",
    )


class AgencyFirstRequired(Problem):
    slug, status, title = (
        "agency-first-required",
        409,
        "The candidate thanks the agency first",
    )


class DirectContactNotApproved(Problem):
    slug, status, title = (
        "direct-contact-not-approved",
        409,
        "A direct note needs an approved request; or send it via the agency",
    )


class FollowUpAlreadySent(Problem):
    slug, status, title = "follow-up-already-sent", 409, "The interview's follow-up was sent"


class FollowUpWrongState(Problem):
    slug, status, title = "follow-up-wrong-state", 409, "The follow-up is not at that stage"


class NoConsultant(Problem):
    slug, status, title = (
        "no-consultant",
        409,
        "The application has no consultant to forward the note",
    )


class FollowUpTooLong(Problem):
    slug, status, title = "follow-up-too-long", 422, "The follow-up is over the word limit"


class FeedbackRequestExists(Problem):
    slug, status, title = (
        "feedback-request-exists",
        409,
        "Feedback was already requested for this application",
    )


class OutcomeNotUnsuccessful(Problem):
    slug, status, title = (
        "outcome-not-unsuccessful",
        409,
        "Feedback is requested when the outcome is unsuccessful",
    )


class FeedbackAlreadyReceived(Problem):
    slug, status, title = "feedback-already-received", 409, "The feedback was already recorded"


class FeedbackNotReceived(Problem):
    slug, status, title = "feedback-not-received", 409, "There is no feedback to release yet"


class LinkExpired(Problem):
    slug, status, title = "link-expired", 410, "This feedback link has expired"


class LinkClosed(Problem):
    slug, status, title = "link-closed", 410, "This link no longer accepts feedback"


class OfferNotLikely(Problem):
    slug, status, title = (
        "offer-not-likely",
        409,
        "A referee heads-up waits until an offer looks likely (offer_likelihood high)",
    )


class RefereeNoConsent(Problem):
    slug, status, title = "referee-no-consent", 409, "The referee has not agreed to be contacted"


class HeadsUpAlreadySent(Problem):
    slug, status, title = (
        "heads-up-already-sent",
        409,
        "That referee already had a heads-up for this application",
    )


class CandidateErased(Problem):
    slug, status, title = "candidate-erased", 409, "The candidate was erased"


class ApplicationOpen(Problem):
    slug, status, title = "application-open", 409, "The application is not closed"


class InterviewCancelled(Problem):
    slug, status, title = "interview-cancelled", 409, "The interview was cancelled"


class ReferenceNotFound(Problem):
    slug, status, title = "reference-not-found", 422, "A record the body refers to does not exist"


class InterviewerNotAtClient(Problem):
    slug, status, title = (
        "interviewer-not-at-client",
        422,
        "Interviewers must be contacts of the vacancy's client",
    )


class TemplateNotValid(Problem):
    slug, status, title = "template-invalid", 422, "The template does not render"


class CursorExpired(Problem):
    slug, status, title = (
        "cursor-expired",
        410,
        "The cursor is older than the event feed keeps; start again without one",
    )


class WebhookUrlRefused(Problem):
    slug, status, title = (
        "webhook-url-refused",
        422,
        "Webhooks go only to public https addresses",
    )


class DeliveryPending(Problem):
    slug, status, title = "delivery-pending", 409, "The delivery is still being attempted"


class MessageNotFailed(Problem):
    slug, status, title = "message-not-failed", 409, "Only a failed message can be retried"


class RateLimited(Problem):
    slug, status, title = "rate-limited", 429, "Too many requests; slow down"


class TooManyAttempts(Problem):
    slug, status, title = "too-many-attempts", 429, "Too many failed attempts; wait and retry"


class PayloadTooLarge(Problem):
    slug, status, title = "payload-too-large", 413, "The request body is too large"


class UnsupportedEncoding(Problem):
    slug, status, title = (
        "unsupported-content-encoding",
        415,
        "The body is compressed; send it as it is (no Content-Encoding)",
    )


class ServiceUnavailable(Problem):
    slug, status, title = "service-unavailable", 503, "The service cannot answer right now"


class InvalidCursor(Problem):
    slug, status, title = (
        "cursor-invalid",
        422,
        "The cursor is not one this list gave out; start again without one",
    )


class InconsistentValues(Problem):
    slug, status, title = (
        "inconsistent-values",
        422,
        "Each value is valid on its own, but not together",
    )


class InternalError(Problem):
    slug, status, title = "internal-error", 500, "Internal server error"


def problem_response(
    request: Request, problem: Problem, errors: Sequence[FieldError] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem.type_uri(),
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": loggable_path(request.url.path),  # a link's token is not echoed either
        "request_id": getattr(request.state, "request_id", None),
    }
    if errors is not None:
        body["errors"] = [e.model_dump() for e in errors]
    body.update(problem.extensions)
    headers = dict(problem.headers)
    if request_id := body["request_id"]:
        headers["X-Request-ID"] = request_id
    return JSONResponse(
        {k: v for k, v in body.items() if v is not None},
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def field_errors(raw: Sequence[Any]) -> list[FieldError]:
    """Turn Pydantic/FastAPI validation errors into `{field, location, message}` entries."""
    out = []
    for err in raw:
        loc = [str(p) for p in err.get("loc", ())]
        location = loc[0] if loc else "body"
        path = ".".join(loc[1:]) if len(loc) > 1 else location
        out.append(FieldError(field=path, location=location, message=_message(err)))
    return out


def _message(err: Any) -> str:
    """Pydantic's message, except that a length limit on text says characters: a checked
    string (`SingleLine | None`) is measured after its check, where Pydantic says "items"."""
    kind, ctx = err.get("type"), err.get("ctx") or {}
    if kind in ("too_long", "too_short") and isinstance(err.get("input"), str):
        longest = kind == "too_long"
        bound = ctx.get("max_length" if longest else "min_length")
        unit = "character" if bound == 1 else "characters"
        return f"String should have at {'most' if longest else 'least'} {bound} {unit}"
    return str(err.get("msg", ""))


_HTTP_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    400: MalformedRequest,
    401: AuthenticationRequired,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    503: ServiceUnavailable,
}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc.errors())
        if any(e.location == "body" and e.message.startswith("JSON decode") for e in errors):
            return problem_response(request, MalformedRequest("The body is not valid JSON."))
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return problem_response(request, ValidationFailed(detail), errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = _HTTP_STATUS_PROBLEMS.get(exc.status_code)
        if cls is None:
            cls = _problem(f"http-{exc.status_code}", HTTPStatus(exc.status_code), "Error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        problem = cls(None if detail == HTTPStatus(exc.status_code).phrase else detail)
        problem.headers = dict(exc.headers or {})
        path = request.url.path
        if exc.status_code == 405 and (methods := documented_methods(request.app.openapi(), path)):
            problem.headers["Allow"] = ", ".join(methods)  # every route's, not the first one's
        return problem_response(request, problem)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=loggable_path(request.url.path))
        return problem_response(request, InternalError("Something went wrong on our side."))
