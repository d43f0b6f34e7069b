"""The document's tags, in the order a newcomer meets them: log in and set up the agency, add
the records, work the six post-interview steps (DESIGN.md's order), then the worklist, delivery,
integrations and operations. A generated client groups its functions by an operation's first
tag (`api/step_1_next_steps/record_next_steps.py`); `/docs` shows the groups in this order.
"""

from typing import Any

TAGS: list[dict[str, Any]] = [
    {
        "name": "Auth",
        "description": "Log in with the OAuth2 password flow (people) and see who you are. "
        "Integrations send an API key as `Authorization: Bearer afv_…` instead.",
    },
    {
        "name": "Agency",
        "description": "Your agency and its workflow settings: deadlines, word limits, chase "
        "schedule, time zone and sender.",
    },
    {
        "name": "Users",
        "description": "The consultants and admins of your agency.",
    },
    {
        "name": "API keys",
        "description": "Keys with scopes for integrations such as an ATS; a key's secret is "
        "shown once.",
    },
    {
        "name": "Candidates",
        "description": "Candidates and their referees (with consent to be contacted).",
    },
    {
        "name": "Clients",
        "description": "Client companies and their contacts (interviewers, hiring managers), "
        "and each client's question bank.",
    },
    {
        "name": "Pipeline",
        "description": "Vacancies, applications (a candidate for a vacancy) and interviews, and an "
        "application's timeline. An ATS creates or replaces them by its own id "
        "(`PUT …/by-external-id/{external_id}`).",
    },
    {
        "name": "Step 1: next steps",
        "description": "Before the candidate leaves the room: what happens next and when "
        "(`decision_expected_by`).",
    },
    {
        "name": "Step 2: debrief",
        "description": "Debrief notes as soon as possible after the interview: every question "
        "asked, where the candidate did well and could improve. Questions feed the client's "
        "question bank.",
    },
    {
        "name": "Step 3: decision",
        "description": "Does the candidate still want the job: `want`, `unsure` or `withdraw`; "
        "and the client's outcome.",
    },
    {
        "name": "Step 4: follow-up",
        "description": "The thank-you follow-up, agency first: one per interview, succinct, "
        "due within a day; a direct thank-you to the interviewers needs a consultant's approval.",
    },
    {
        "name": "Step 5: referee heads-up",
        "description": "When an offer looks likely, a heads-up to each consenting referee.",
    },
    {
        "name": "Step 6: feedback",
        "description": "When the candidate is unsuccessful: request feedback from the client, "
        "chase it, record it and release it to the candidate.",
    },
    {
        "name": "Candidate link",
        "description": "The candidate's own signed, expiring link (no account): after the "
        "interview they write the debrief, decide and thank (agency first) on their phone, "
        "under the same rules as these routes. Issued by the worker when the interview ends "
        "(the agency's `candidate_links` setting) or by a consultant; revocable.",
    },
    {
        "name": "Public",
        "description": "No login: the client contact's signed, expiring feedback link.",
    },
    {
        "name": "Work",
        "description": "The worklist (what needs you now, by due time) and the post-interview "
        "report.",
    },
    {
        "name": "Delivery",
        "description": "The outbox of emails the workflow sends, and the wording of each kind "
        "of message.",
    },
    {
        "name": "Integrations",
        "description": "The event feed (every change, gap-free, to resume after downtime) and "
        "signed webhooks driven by the same events.",
    },
    {
        "name": "Data rights",
        "description": "A candidate's data on request: export everything held, or erase it.",
    },
    {
        "name": "Audit",
        "description": "Admins: the record of administrative actions (settings, users, API "
        "keys, erasures), with who made each and from which request.",
    },
    {
        "name": "Operations",
        "description": "Liveness and readiness probes for load balancers and orchestrators.",
    },
]

SERVERS: list[dict[str, Any]] = [
    {
        "url": "/",
        "description": "The server that served this document. A generated client takes the "
        "address as its `base_url`.",
    }
]
"""Relative, so the committed document is the same wherever it is generated and `/docs` calls
the host it was loaded from."""
