"""The page `client_link` opens: an HTML feedback form for the client contact, no JavaScript.

The same rules as the JSON twin (`/v1/public/feedback/{token}`), answered as pages: a forged link
is a 404 page; an expired link, or one whose request is answered or closed, a 410 page. A form
with errors comes back (422) with what was typed and each message beside its field. A sent form
answers with the thank-you page itself (200): the link then takes nothing more, so a reload that
posts again gets the clear "already received" page rather than a second record."""

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.deps import ClockDep, SessionDep
from app.core.errors import LinkClosed, LinkExpired, NotFound
from app.core.pages import PAGE_HEADERS, page_templates
from app.feedback import service
from app.feedback.links import FeedbackLinks, LinksDep, link_principal
from app.feedback.schemas import FeedbackWrite, PublicFeedbackForm
from app.models import FeedbackRequest

router = APIRouter(include_in_schema=False)  # a page for people, not part of the API contract
PAGE = "/feedback/{token}"


templates = page_templates("app.feedback")

FormText = Annotated[str, Form()]
REFUSED = (NotFound, LinkExpired, LinkClosed)
NOT_FOUND = (
    "There is no feedback form at this address. Please check that the whole link from the "
    "email was opened; if it was, reply to that email and the agency will help."
)
EXPIRED = (
    "If you would still like to give feedback, reply to the agency's email and they will send "
    "you a new link."
)
MISSING = {
    "strengths": "Write what {name} did well.",
    "gaps": "Write where {name} could improve.",
}


@router.get(PAGE)
async def feedback_page(
    token: str, session: SessionDep, clock: ClockDep, links: LinksDep
) -> HTMLResponse:
    try:
        _, _, form = await _open(token, session, links, clock)
    except REFUSED as problem:
        return _notice(problem)
    return _form(form, {"strengths": "", "gaps": "", "advice": ""}, {})


@router.post(PAGE)
async def send_feedback(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    links: LinksDep,
    strengths: FormText = "",
    gaps: FormText = "",
    advice: FormText = "",
) -> HTMLResponse:
    try:
        principal, request, form = await _open(token, session, links, clock)
    except REFUSED as problem:
        return _notice(problem)
    # Browsers send a line break in a textarea as CRLF: count it as the one character it shows.
    entered = {
        name: value.replace("\r\n", "\n")
        for name, value in (("strengths", strengths), ("gaps", gaps), ("advice", advice))
    }
    checked = _feedback_of(entered, form.candidate_first_name)
    if not isinstance(checked, FeedbackWrite):
        return _form(form, entered, checked)
    await service.record_link_feedback(session, principal, clock, request, checked)
    return _page("thanks.html", 200, form=form)


async def _open(
    token: str, session: AsyncSession, links: FeedbackLinks, clock: Clock
) -> tuple[Principal, FeedbackRequest, PublicFeedbackForm]:
    """The request a genuine link names, while it takes feedback; what its form may show."""
    principal, request_id = await link_principal(token, session, links, clock.now())
    request, context = await service.public_request(session, principal, request_id)
    service.ensure_link_open(request)
    return principal, request, PublicFeedbackForm.of(context, answered=False)


def _feedback_of(entered: dict[str, str], first_name: str) -> FeedbackWrite | dict[str, str]:
    """The fields as the JSON twin takes them (same rules), or a message per wrong field."""
    fields: dict[str, str | None] = dict(entered)
    if not (fields["advice"] or "").strip():
        fields["advice"] = None  # optional: left empty means not given
    try:
        return FeedbackWrite.model_validate(fields)
    except ValidationError as exc:
        return {str(error["loc"][0]): _message(error, first_name) for error in exc.errors()}


def _message(error: ErrorDetails, first_name: str) -> str:
    if error["type"] == "string_too_long":
        limit, length = error.get("ctx", {}).get("max_length"), len(error["input"])
        return f"Please shorten this to {limit:,} characters or fewer (it has {length:,})."
    return MISSING.get(str(error["loc"][0]), "Please check this answer.").format(name=first_name)


def _form(form: PublicFeedbackForm, values: dict[str, str], errors: dict[str, str]) -> HTMLResponse:
    return _page("form.html", 422 if errors else 200, form=form, values=values, errors=errors)


def _notice(problem: NotFound | LinkExpired | LinkClosed) -> HTMLResponse:
    if isinstance(problem, NotFound):
        return _page("notice.html", 404, heading="Feedback form not found", message=NOT_FOUND)
    if isinstance(problem, LinkExpired):
        return _page("notice.html", 410, heading="This link has expired", message=EXPIRED)
    # Answered, or closed: the service's detail says which.
    return _page("notice.html", 410, heading=problem.title, message=problem.detail or "")


def _page(template: str, status_code: int, **context: Any) -> HTMLResponse:
    html = templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
