"""The page a candidate's link opens (`/candidate/{token}`): their interview, what happens next
and when to expect news, and forms for steps 2-4 (notes, decision, thanks to the agency, then
a note to the interviewers). Server-rendered, no JavaScript, one column.

Each form posts to its own address under the page and calls the step's own service with the
link's principal (`via="candidate"`), so every rule and problem of the API holds; a refusal
comes back as the page, in words beside the field or above the form, with what was typed kept
(the problem's status: 409, 422). A form carries a CSRF token bound to the link and the form
(403 page when wrong). A sent form answers 303 back to the page, which says it was sent; a
second thank-you or note gets the "already sent" page (409). A forged link is a 404 page; an
expired, revoked or replaced one a 410 page. Limits per link and per address:
`page_limits`."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException

from app.candidate_links import forms
from app.candidate_links.forms import Filled
from app.candidate_links.links import CandidateLinks, CandidateLinksDep
from app.candidate_links.page_limits import PageLimits
from app.candidate_links.progress import progress
from app.candidate_links.service import LinkVisit, open_link
from app.candidate_links.view import ALREADY, SENT, context, defaults, refusal, slots
from app.core.clock import Clock
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    FollowUpAlreadySent,
    FollowUpWrongState,
    LinkClosed,
    LinkExpired,
    NotFound,
    Problem,
    RateLimited,
    TooManyAttempts,
)
from app.core.pages import PAGE_HEADERS, page_templates
from app.core.records import step_of
from app.core.state import AppState, StateDep
from app.debriefs import service as debriefs
from app.decisions import service as decisions
from app.follow_ups import service as follow_ups
from app.models import Debrief, DebriefAuthor

router = APIRouter(include_in_schema=False)  # pages for people, not part of the API contract
PAGE = "/candidate/{token}"


templates = page_templates("app.candidate_links")

NOT_FOUND = (
    "There is no interview page at this address. Please check that the whole link from the "
    "email was opened; if it was, reply to that email and your consultant will help."
)
EXPIRED = "Reply to the email the link came in, and your consultant will send you a new one."
CLOSED = (
    "A newer link may have been sent to you: please use that one. Otherwise reply to the email "
    "the link came in, and your consultant will help."
)
RELOAD = "Please go back to your interview page, reload it, and send the form again."
WAIT = "Please wait a few minutes, then try again."

MAX_FIELDS = 4 * forms.MAX_SLOTS + 10
"""More than the biggest form (the debrief's, with every question box) ever posts."""

Action = Callable[[AsyncSession, LinkVisit, Clock, Any], Awaitable[object]]
Reader = Callable[[Any], Filled[Any]]


@router.get(PAGE)
async def candidate_page(
    token: str,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    links: CandidateLinksDep,
    state: StateDep,
    sent: str | None = None,
) -> Response:
    limits = PageLimits(state.limits, clock.now(), _address(request))
    opened = await _open(token, session, links, clock, limits)
    if isinstance(opened, Response):
        return opened
    return await _page(session, opened, links, clock, token, sent=sent)


def _form_route(form: str) -> Callable[..., Awaitable[Response]]:
    async def send(
        token: str,
        request: Request,
        session: SessionDep,
        clock: ClockDep,
        links: CandidateLinksDep,
        state: StateDep,
    ) -> Response:
        return await _post(form, token, request, session, clock, links, state)

    send.__name__ = f"send_{form}"
    return send


# Each form posts to its own address under the page.
for _form, _address_part in (
    ("debrief", "debrief"),
    ("decision", "decision"),
    ("thanks", "thanks"),
    ("note", "interviewer-note"),
):
    router.add_api_route(f"{PAGE}/{_address_part}", _form_route(_form), methods=["POST"])


# --- Each step's service, called with the link's principal --------------------------------------


class TakenOver(Exception):
    """The candidate's debrief was revised by a consultant: it is theirs now."""


async def _debrief(session: AsyncSession, visit: LinkVisit, clock: Clock, data: Any) -> None:
    """The candidate's notes; theirs to correct until a consultant has taken them over."""
    current = await step_of(session, visit.principal, Debrief, visit.interview.id, lock=True)
    if current is not None and current.author != DebriefAuthor.candidate:
        raise TakenOver
    await debriefs.submit_debrief(session, visit.principal, clock, visit.interview.id, data, None)


async def _decision(session: AsyncSession, visit: LinkVisit, clock: Clock, data: Any) -> None:
    await decisions.record_decision(session, visit.principal, clock, visit.application.id, data)


async def _thanks(session: AsyncSession, visit: LinkVisit, clock: Clock, data: Any) -> None:
    await follow_ups.thank_agency(session, visit.principal, clock, visit.interview.id, data.note)


async def _note(session: AsyncSession, visit: LinkVisit, clock: Clock, data: Any) -> None:
    """The note waits for the consultant as a direct-contact request: nothing is sent yet."""
    await follow_ups.request_direct_contact(
        session, visit.principal, clock, visit.interview.id, None, draft=data
    )


STEPS: dict[str, tuple[Reader, Action]] = {
    "debrief": (forms.debrief, _debrief),
    "decision": (forms.decision, _decision),
    "thanks": (forms.thanks, _thanks),
    "note": (forms.note, _note),
}
ALREADY_DONE = (FollowUpWrongState, FollowUpAlreadySent, IntegrityError, TakenOver)
"""What a step meets when it was done before (or by a racing tab): the "already sent" page."""


async def _post(
    form: str,
    token: str,
    request: Request,
    session: AsyncSession,
    clock: Clock,
    links: CandidateLinks,
    state: AppState,
) -> Response:
    limits = PageLimits(state.limits, clock.now(), _address(request))
    visit = await _open(token, session, links, clock, limits)
    if isinstance(visit, Response):
        return visit
    try:
        posted = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except HTTPException:  # files, or more fields than any of the forms has
        return _notice(400, "This form could not be read", RELOAD, back=PAGE.format(token=token))
    csrf = posted.get("csrf")
    if not links.csrf_ok(visit.link_id, form, csrf if isinstance(csrf, str) else None):
        await limits.failed(visit.link_id)
        return _notice(403, "This form could not be sent", RELOAD, back=PAGE.format(token=token))
    read, act = STEPS[form]
    filled = read(posted)
    if filled.data is None:  # a field is wrong, or the debrief asked for one more box
        status = 422 if filled.errors else 200
        return await _page(session, visit, links, clock, token, filled=filled, status=status)
    try:
        async with session.begin_nested():  # a refusal undoes whatever the step began
            await act(session, visit, clock, filled.data)
    except ALREADY_DONE:
        return await _already(session, visit, clock, form, token)
    except Problem as problem:
        return await _page(session, visit, links, clock, token, filled=filled, problem=problem)
    return RedirectResponse(
        f"{PAGE.format(token=token)}?sent={form}", status_code=303, headers=PAGE_HEADERS
    )


async def _open(
    token: str, session: AsyncSession, links: CandidateLinks, clock: Clock, limits: PageLimits
) -> LinkVisit | Response:
    """The live link `token` names, within the limits; otherwise the page that says why."""
    try:
        await limits.admit()
        try:
            visit = await open_link(session, links, token, clock.now())
        except NotFound:
            await limits.failed()
            raise
        await limits.admit(visit.link_id)
    except NotFound:
        return _notice(404, "Page not found", NOT_FOUND)
    except LinkExpired:
        return _notice(410, "This link has expired", EXPIRED)
    except LinkClosed:
        return _notice(410, "This link no longer works", CLOSED)
    except (TooManyAttempts, RateLimited) as problem:
        page = _notice(429, "Too many attempts", WAIT)
        page.headers["Retry-After"] = problem.headers["Retry-After"]
        return page
    return visit


async def _page(
    session: AsyncSession,
    visit: LinkVisit,
    links: CandidateLinks,
    clock: Clock,
    token: str,
    *,
    status: int = 200,
    filled: Filled[Any] | None = None,
    problem: Problem | None = None,
    sent: str | None = None,
) -> HTMLResponse:
    """The page as the records stand; with `filled`, that form as it was posted, its errors
    and (`problem`) the step's refusal in words."""
    p = await progress(session, visit, clock)
    values, errors, shown_slots = defaults(p), {}, slots(p)
    problem_form, problem_text = None, None
    if filled is not None:
        values = {k: v for k, v in values.items() if not k.startswith(f"{filled.form}-")}
        values.update(filled.values)
        errors = dict(filled.errors)
        shown_slots = filled.slots if filled.form == "debrief" else shown_slots
    if problem is not None and filled is not None:
        said = refusal(problem, filled.form, p.agency_name)
        if said.field is not None:
            errors[said.field] = said.message
        else:
            problem_form, problem_text = filled.form, said.message
        status = problem.status
    base = PAGE.format(token=token)
    page_context: dict[str, Any] = {
        **context(p),
        "csrf": {form: links.csrf_token(visit.link_id, form) for form in STEPS},
        "action": {
            "debrief": f"{base}/debrief",
            "decision": f"{base}/decision",
            "thanks": f"{base}/thanks",
            "note": f"{base}/interviewer-note",
        },
        "values": values,
        "errors": errors,
        "summary": list(errors.items()),
        "problem": problem_text,
        "problem_form": problem_form,
        "slots": shown_slots,
        "sent": SENT[sent].format(agency=p.agency_name) if sent in SENT else None,
    }
    return _render("page.html", status, **page_context)


async def _already(
    session: AsyncSession, visit: LinkVisit, clock: Clock, form: str, token: str
) -> HTMLResponse:
    p = await progress(session, visit, clock)
    message = ALREADY[form].format(agency=p.agency_name)
    return _notice(409, "Already sent", message, back=PAGE.format(token=token))


def _notice(status_code: int, heading: str, message: str, back: str | None = None) -> HTMLResponse:
    return _render("notice.html", status_code, heading=heading, message=message, back=back)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _render(template: str, status_code: int, **values: Any) -> HTMLResponse:
    html = templates.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
