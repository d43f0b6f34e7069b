"""The one check of a problem answer (RFC 9457) every test uses, and what its errors name."""

from typing import Any

from httpx import Response

from app.core.errors import PROBLEM_BASE_URI, PROBLEM_MEDIA_TYPE

PROBLEM = PROBLEM_MEDIA_TYPE


def assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    """`response` is a problem document with that status and slug, and says so in its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM, response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_BASE_URI + slug, body
    assert body["status"] == status, body
    assert body["title"], body
    return body


def error_fields(response: Response) -> set[str]:
    """The `field` of each entry in a problem's `errors`."""
    return {error["field"] for error in response.json().get("errors", [])}
