"""Posting the candidate's page's forms (`/candidate/{token}`) as the page itself would: each
with the CSRF token bound to its link and form."""

from urllib.parse import urlsplit

from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.candidate_links.links import CandidateLinks
from app.core.state import state_of

ACTIONS = {
    "debrief": "debrief",
    "decision": "decision",
    "thanks": "thanks",
    "note": "interviewer-note",
}
"""Each form's address under the page."""


def candidate_links(app: FastAPI) -> CandidateLinks:
    state = state_of(app)
    return CandidateLinks(state.jwt_secret, state.settings.public_url or "")


def page_path(url: str) -> str:
    """The page a link's URL opens, as a path."""
    path = urlsplit(url).path
    assert path.startswith("/candidate/"), url
    return path


def csrf_token(app: FastAPI, url: str, form: str) -> str:
    links = candidate_links(app)
    return links.csrf_token(links.read(page_path(url).rsplit("/", 1)[1]).link_id, form)


async def post_form(
    client: AsyncClient,
    app: FastAPI,
    url: str,
    form: str,
    data: dict[str, str],
    csrf: str | None = None,
) -> Response:
    """Post `form` on the page `url` opens (with its genuine CSRF token unless `csrf` given)."""
    token = csrf if csrf is not None else csrf_token(app, url, form)
    return await client.post(f"{page_path(url)}/{ACTIONS[form]}", data={**data, "csrf": token})
