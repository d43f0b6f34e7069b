"""Every event type Afterview emits, with what its `data` is. Published in the OpenAPI
description of `GET /v1/events`; `record_event` refuses a type that is not here."""

_RECORDS = {
    "candidate": "Candidate (`GET /v1/candidates/{id}`)",
    "referee": "Referee (`GET /v1/referees/{id}`)",
    "client": "Client (`GET /v1/clients/{id}`)",
    "contact": "Contact (`GET /v1/contacts/{id}`)",
    "vacancy": "Vacancy (`GET /v1/vacancies/{id}`)",
    "application": "Application (`GET /v1/applications/{id}`)",
    "interview": "Interview (`GET /v1/interviews/{id}`)",
}
_VERBS = {
    "created": "was created",
    "updated": "changed",
    "deleted": "was deleted (`data`: as it was just before)",
}

_APPLICATION = "Application (`GET /v1/applications/{id}`)"
_FOLLOW_UP = "Follow-up (`GET /v1/interviews/{id}/follow-up`)"
_FEEDBACK = (
    "Feedback request (`GET /v1/applications/{id}/feedback-request`, without `client_link`: "
    "the signed link is a credential and never leaves in an event)"
)
_MESSAGE = "Message (`GET /v1/messages/{id}`)"
_CANDIDATE_LINK = (
    "Candidate link (`POST /v1/interviews/{id}/candidate-link`), without its URL: the link is "
    "a credential and never leaves in an event"
)

CATALOGUE: dict[str, str] = {
    **{
        f"{kind}.{verb}": f"{schema}: {what}"
        for kind, schema in _RECORDS.items()
        for verb, what in _VERBS.items()
    },
    "candidate.erased": f"{_RECORDS['candidate']}: anonymised (on request, or by retention)",
    "interview.cancelled": f"{_RECORDS['interview']}: cancelled before it was held",
    "next_steps.recorded": "Next steps (`GET /v1/interviews/{id}/next-steps`): step 1 recorded",
    "next_steps.updated": "Next steps: corrected",
    "debrief.submitted": "Debrief (`GET /v1/interviews/{id}/debrief`): step 2 submitted",
    "debrief.updated": "Debrief: edited after submission",
    "decision.recorded": "Decision (`GET /v1/applications/{id}/decision`): step 3",
    "application.outcome_recorded": f"{_APPLICATION}: the client's outcome",
    "application.withdrawn": f"{_APPLICATION}: the candidate withdrew",
    "application.reopened": f"{_APPLICATION}: reopened after it closed",
    "follow_up.agency_thanked": f"{_FOLLOW_UP}: the candidate thanked the agency",
    "follow_up.direct_contact_requested": f"{_FOLLOW_UP}: direct contact requested",
    "follow_up.direct_contact_approved": f"{_FOLLOW_UP}: direct contact approved",
    "follow_up.direct_contact_declined": f"{_FOLLOW_UP}: direct contact declined",
    "follow_up.sent": f"{_FOLLOW_UP}: the thank-you was sent (step 4)",
    "follow_up.cancelled": f"{_FOLLOW_UP}: stopped, because the candidate withdrew",
    "heads_up.sent": "Heads-up (`GET /v1/applications/{id}/referee-heads-ups`): step 5",
    "feedback.requested": f"{_FEEDBACK}: step 6, the client was asked",
    "feedback.chased": f"{_FEEDBACK}: the client was chased",
    "feedback.expired": f"{_FEEDBACK}: the link expired, or the application closed",
    "feedback.received": f"{_FEEDBACK}: the client's feedback arrived",
    "feedback.released": f"{_FEEDBACK}: released to the candidate",
    "candidate_link.issued": f"{_CANDIDATE_LINK}: issued (again: the earlier link answers 410); "
    "`details.emailed` says whether it was emailed to the candidate",
    "candidate_link.revoked": f"{_CANDIDATE_LINK}: revoked by a consultant (it answers 410)",
    "message.sent": f"{_MESSAGE}: delivered to the mail server",
    "message.deferred": f"{_MESSAGE}: a temporary failure; retried at `next_attempt_at`",
    "message.failed": f"{_MESSAGE}: gave up (permanent failure or out of attempts)",
    "message.cancelled": f"{_MESSAGE}: not sent (a withdrawal, or no consent when it was due)",
    "message.requeued": f"{_MESSAGE}: a failed message queued again",
    "webhook.test": "Webhook endpoint (`GET /v1/webhook-endpoints/{id}`): a test delivery was "
    "asked for (`POST …/test`); sent to that endpoint only",
}
OBJECTS = frozenset(kind.split(".", 1)[0] for kind in CATALOGUE)


SUBSCRIBABLE = sorted(CATALOGUE) + sorted(f"{kind}.*" for kind in OBJECTS)
"""What a webhook endpoint may list in `event_types`."""


def unknown_types(types: list[str]) -> list[str]:
    """Those of `types` that are neither a catalogued type nor `<object>.*` of a known object."""
    return [t for t in types if t not in CATALOGUE and not (t.endswith(".*") and t[:-2] in OBJECTS)]


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table, for the API description."""
    rows = "\n".join(f"| `{kind}` | {what} |" for kind, what in sorted(CATALOGUE.items()))
    return f"| type | `data` |\n|---|---|\n{rows}"
