"""The documentation's examples: one coherent story against the demo agency.

Each write route has one example naming the demo's fixed ids (`app.demo.ids`), in workflow
order (`EXAMPLES`): run one after another against a freshly seeded demo (`afterview demo reset`),
each succeeds as shown, which `tests/test_demo_examples.py` proves. Read routes' path ids default
to the demo's own story (Farah Khan, interviewed for Northwind's Operations Manager role).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from app.demo import ids
from app.demo.data import DEMO_ADMIN_EMAIL, STORY_INTERVIEW_END

Json = dict[str, Any]
UNSEEDED = {
    "submit_feedback_form": "its token is signed with each installation's own secret: open the "
    "link in a feedback request email instead",
}
"""Write routes with no demo example, and why."""


@dataclass(frozen=True)
class Example:
    operation: str
    summary: str
    path: dict[str, str] = field(default_factory=dict)
    body: Json | None = None
    if_match: str | None = None


def _id(value: UUID) -> str:
    return str(value)


FARAH_APP, FARAH_IV = _id(ids.application("farah")), _id(ids.interview("farah"))
ADMIN, KESTREL, NORTHWIND = _id(ids.ADMIN), _id(ids.client("kestrel")), _id(ids.client("northwind"))
HALF_ANSWERED = "How would you cut picking errors in a cross-dock warehouse?"

EXAMPLES: list[Example] = [
    # People and keys
    Example(
        "log_in",
        "The demo admin (the password `afterview serve` printed)",
        body={"username": DEMO_ADMIN_EMAIL, "password": "(printed at first start)"},
    ),
    Example("update_me", "Stop the daily digest", body={"daily_digest": False}, if_match='"1"'),
    Example(
        "update_agency",
        "Shorter follow-up notes",
        body={"follow_up_max_words": 120},
        if_match='"2"',
    ),
    Example(
        "create_user",
        "A new consultant",
        body={
            "email": "maya.patel@demo-agency.example.com",
            "name": "Maya Patel",
            "password": "correct-horse-battery-staple",
            "role": "consultant",
        },
    ),
    Example(
        "update_user",
        "Make Lena an admin",
        path={"user_id": _id(ids.LENA)},
        body={"role": "admin"},
        if_match='"1"',
    ),
    Example(
        "remove_user", "Jo Baker left the agency", path={"user_id": _id(ids.JO)}, if_match='"1"'
    ),
    Example(
        "create_api_key",
        "A key for the ATS sync",
        body={"name": "Bullhorn sync", "scopes": ["records:read", "records:write", "events:read"]},
    ),
    Example("revoke_api_key", "Revoke the old import key", path={"key_id": _id(ids.OLD_KEY)}),
    # Records
    Example(
        "create_candidate",
        "A new candidate",
        body={
            "first_name": "Maria",
            "last_name": "Lopez",
            "email": "maria.lopez@example.com",
            "phone": "+44 7700 900123",
            "contact_consent": True,
            "owner_id": ADMIN,
            "external_id": "bullhorn-cand-48213",
        },
    ),
    Example(
        "create_referee",
        "A second referee for Oliver Grant",
        path={"candidate_id": _id(ids.candidate("oliver"))},
        body={
            "name": "Tom Hughes",
            "email": "tom.hughes@example.org",
            "relationship": "Line manager at Railfreight, 2021-2025",
            "consent_to_contact": True,
        },
    ),
    Example(
        "update_candidate",
        "Oliver's new phone number",
        path={"record_id": _id(ids.candidate("oliver"))},
        body={"phone": "+44 7700 900456"},
        if_match='"1"',
    ),
    Example(
        "upsert_candidate_by_external_id",
        "Create (or replace) a candidate by the ATS's id",
        path={"external_id": "bullhorn-cand-50114"},
        body={
            "first_name": "Kwame",
            "last_name": "Boateng",
            "email": "kwame.boateng@example.com",
            "contact_consent": True,
            "owner_id": ADMIN,
        },
    ),
    Example(
        "update_referee",
        "Oliver's referee withdraws consent",
        path={"record_id": _id(ids.referee("oliver"))},
        body={"consent_to_contact": False},
        if_match='"1"',
    ),
    Example(
        "delete_referee",
        "Remove Paula's referee",
        path={"record_id": _id(ids.referee("paula"))},
        if_match='"1"',
    ),
    Example(
        "delete_candidate",
        "Paula Mendes (never applied)",
        path={"record_id": _id(ids.candidate("paula"))},
        if_match='"1"',
    ),
    Example(
        "erase_candidate",
        "Quentin Blake asked to be forgotten",
        path={"candidate_id": _id(ids.candidate("quentin"))},
        body={"reason": "Request by email, 2 Dec"},
    ),
    Example(
        "create_client",
        "A new client",
        body={"name": "Harbour Freight Ltd", "external_id": "crm-204"},
    ),
    Example(
        "create_contact",
        "Northwind's finance director",
        path={"client_id": NORTHWIND},
        body={
            "name": "Daniel Webb",
            "email": "daniel.webb@northwind.example.com",
            "job_title": "Finance Director",
        },
    ),
    Example(
        "update_client",
        "Brightwater renamed",
        path={"record_id": _id(ids.client("brightwater"))},
        body={"name": "Brightwater Health Group"},
        if_match='"1"',
    ),
    Example(
        "upsert_client_by_external_id",
        "Create (or replace) a client by the CRM's id",
        path={"external_id": "crm-318"},
        body={"name": "Fenwick Foods"},
    ),
    Example(
        "update_contact",
        "Omar's new title",
        path={"record_id": _id(ids.contact("omar"))},
        body={"job_title": "Clinical Director"},
        if_match='"1"',
    ),
    Example(
        "upsert_contact_by_external_id",
        "Create (or replace) a contact by the CRM's id",
        path={"external_id": "crm-contact-881"},
        body={
            "client_id": KESTREL,
            "name": "Mia Torres",
            "email": "mia.torres@kestrel.example.com",
            "job_title": "Head of People",
        },
    ),
    Example(
        "delete_contact",
        "Old Mill's only contact",
        path={"record_id": _id(ids.contact("ruth"))},
        if_match='"1"',
    ),
    Example(
        "delete_client",
        "Old Mill Bakery (no vacancies)",
        path={"record_id": _id(ids.client("oldmill"))},
        if_match='"1"',
    ),
    Example(
        "create_vacancy",
        "A new role at Kestrel",
        body={
            "client_id": KESTREL,
            "title": "Platform Engineer",
            "hiring_contact_id": _id(ids.contact("priya")),
            "external_id": "bullhorn-job-9912",
        },
    ),
    Example(
        "update_vacancy",
        "A more senior title",
        path={"record_id": _id(ids.vacancy("designer"))},
        body={"title": "Senior Product Designer"},
        if_match='"1"',
    ),
    Example(
        "upsert_vacancy_by_external_id",
        "Create (or replace) a vacancy by the ATS's id",
        path={"external_id": "bullhorn-job-9920"},
        body={
            "client_id": _id(ids.client("brightwater")),
            "title": "Receptionist",
            "hiring_contact_id": _id(ids.contact("hannah")),
        },
    ),
    Example(
        "delete_vacancy",
        "Kestrel's draft role, never advertised",
        path={"record_id": _id(ids.vacancy("analyst"))},
        if_match='"1"',
    ),
    Example(
        "create_application",
        "Oliver Grant for Kestrel's backend role",
        body={
            "candidate_id": _id(ids.candidate("oliver")),
            "vacancy_id": _id(ids.vacancy("backend")),
            "consultant_id": ADMIN,
            "offer_likelihood": "medium",
            "external_id": "bullhorn-sub-77120",
        },
    ),
    Example(
        "update_application",
        "An offer looks likely for Farah",
        path={"record_id": FARAH_APP},
        body={"offer_likelihood": "high"},
        if_match='"1"',
    ),
    Example(
        "upsert_application_by_external_id",
        "Create (or replace) an application by the ATS's id",
        path={"external_id": "bullhorn-sub-77125"},
        body={
            "candidate_id": _id(ids.candidate("oliver")),
            "vacancy_id": _id(ids.vacancy("designer")),
            "consultant_id": ADMIN,
        },
    ),
    Example(
        "create_interview",
        "Rosa Lind meets Northwind",
        body={
            "application_id": _id(ids.application("rosa")),
            "starts_at": "2026-12-02T10:00:00+00:00",
            "ends_at": "2026-12-02T11:00:00+00:00",
            "format": "video",
            "round": 1,
            "interviewer_ids": [_id(ids.contact("tomasz"))],
            "external_id": "bullhorn-int-5521",
        },
    ),
    Example(
        "update_interview",
        "Samir's interview moves",
        path={"record_id": _id(ids.interview("samir"))},
        body={"starts_at": "2026-12-03T14:00:00+00:00", "ends_at": "2026-12-03T15:00:00+00:00"},
        if_match='"1"',
    ),
    Example(
        "upsert_interview_by_external_id",
        "Create (or replace) an interview by the ATS's id",
        path={"external_id": "bullhorn-int-5530"},
        body={
            "application_id": _id(ids.application("rosa")),
            "starts_at": "2026-12-09T10:00:00+00:00",
            "ends_at": "2026-12-09T11:30:00+00:00",
            "format": "in_person",
            "round": 2,
            "interviewer_ids": [_id(ids.contact("tomasz")), _id(ids.contact("sofia"))],
        },
    ),
    Example(
        "delete_interview",
        "Samir's interview is cancelled",
        path={"record_id": _id(ids.interview("samir"))},
        if_match='"2"',
    ),
    # The six steps, for Farah Khan's interview (it ended on 27 November)
    Example(
        "record_next_steps",
        "Step 1: a second round, decision in a week",
        path={"interview_id": FARAH_IV},
        body={
            "kind": "another_round",
            "details": "Second round with the CFO; a case study on warehouse costs, 45 minutes.",
            "decision_expected_by": (STORY_INTERVIEW_END + timedelta(days=7, hours=6)).isoformat(),
        },
    ),
    Example(
        "issue_candidate_link",
        "Send Farah her own link to debrief, decide and thank",
        path={"interview_id": FARAH_IV},
    ),
    Example(
        "revoke_candidate_link",
        "Farah told her consultant by phone instead: stop the link",
        path={"interview_id": FARAH_IV},
    ),
    Example(
        "submit_debrief",
        "Step 2: the questions and how they went",
        path={"interview_id": FARAH_IV},
        body={
            "questions": [
                {
                    "text": HALF_ANSWERED,
                    "topic": "quality",
                    "answer_quality": "adequate",
                    "half_answered": True,
                },
                {
                    "text": "Walk us through your last peak-season plan.",
                    "answer_quality": "strong",
                    "half_answered": False,
                },
            ],
            "went_well": "Clear on peak planning; good rapport with Sofia.",
            "could_improve": "The picking-errors answer stopped short of numbers.",
            "links": ["https://portfolio.example.com/farah/peak-plan"],
        },
    ),
    Example(
        "record_decision",
        "Step 3: Farah wants the job",
        path={"application_id": FARAH_APP},
        body={"decision": "want"},
    ),
    Example(
        "thank_agency",
        "Step 4: thanks to the agency first",
        path={"interview_id": FARAH_IV},
        body={"note": "Thanks for setting this up - the team were lovely."},
    ),
    Example(
        "request_direct_contact",
        "Step 4: Farah asks to write to Sofia directly",
        path={"interview_id": FARAH_IV},
        body={"reason": "Sofia asked for my picking-errors analysis directly."},
    ),
    Example(
        "approve_direct_contact",
        "Step 4: the consultant approves (logged in as a person)",
        path={"interview_id": FARAH_IV},
    ),
    Example(
        "decline_direct_contact",
        "Hana Sato's request: this client wants contact through the agency",
        path={"interview_id": _id(ids.interview("hana"))},
        body={"reason": "Kestrel prefers all contact through us."},
    ),
    Example(
        "send_follow_up",
        "Step 4: the note to the interviewers",
        path={"interview_id": FARAH_IV},
        body={
            "route": "direct",
            "subject": "Thank you for today",
            "body": "Thank you both for your time. On picking errors: I would start with "
            "slotting and measure errors per thousand lines.",
            "links": ["https://portfolio.example.com/farah/slotting"],
        },
    ),
    Example(
        "send_heads_up",
        "Step 5: a heads-up to Farah's referee",
        path={"application_id": FARAH_APP},
        body={
            "referee_id": _id(ids.referee("farah")),
            "why_want_job": "It is the network redesign she has been preparing for.",
            "key_points": "Ran peak season for 40 sites; cut picking errors by a third.",
        },
    ),
    Example(
        "record_outcome",
        "An offer for Farah",
        path={"application_id": FARAH_APP},
        body={"outcome": "offer", "note": "£58k, start in February."},
    ),
    Example(
        "request_feedback",
        "Step 6: ask Northwind why Uma was not chosen",
        path={"application_id": _id(ids.application("uma"))},
        body={"contact_id": _id(ids.contact("tomasz"))},
    ),
    Example(
        "enter_feedback",
        "Step 6: the client's feedback, given by phone",
        path={"application_id": _id(ids.application("uma"))},
        body={
            "strengths": "Clear, structured answers; strong on route planning.",
            "gaps": "Less depth on carrier contracts than the role needs.",
            "advice": "Bring numbers to the examples of savings.",
        },
    ),
    Example(
        "release_feedback",
        "Step 6: pass it on to Uma, with a call",
        path={"application_id": _id(ids.application("uma"))},
        body={"debrief_call": True},
    ),
    Example(
        "reopen_application",
        "Kestrel comes back for Tara",
        path={"application_id": _id(ids.application("tara"))},
        body={"reason": "The client came back after their first choice declined."},
    ),
    # Mail and integrations
    Example(
        "retry_message",
        "Send the bounced heads-up again",
        path={"message_id": _id(ids.BOUNCED_MESSAGE)},
    ),
    Example(
        "save_message_template",
        "The agency's own wording for notes sent via the agency",
        path={"kind": "follow_up_via_agency"},
        body={
            "subject": "{{ candidate_first_name }} and the {{ role_title }} role",
            "body": "Dear {{ recipient_name }},\n\nThank you for meeting "
            "{{ candidate_first_name }}.\n\n{{ consultant_name }}",
        },
    ),
    Example(
        "create_webhook_endpoint",
        "A receiver for the ATS (local while trying Afterview)",
        body={
            "url": "http://localhost:9000/hooks/ats",
            "description": "Our ATS: outcomes and follow-ups",
            "event_types": ["application.*", "follow_up.sent", "feedback.received"],
        },
    ),
    Example(
        "update_webhook_endpoint",
        "Describe the demo receiver",
        path={"endpoint_id": _id(ids.WEBHOOK)},
        body={"description": "Our ATS (staging)"},
        if_match='"1"',
    ),
    Example(
        "rotate_webhook_secret", "A new signing secret", path={"endpoint_id": _id(ids.WEBHOOK)}
    ),
    Example("send_test_webhook", "Send a test event", path={"endpoint_id": _id(ids.WEBHOOK)}),
    Example(
        "retry_webhook_delivery",
        "Send the failed test delivery again",
        path={"endpoint_id": _id(ids.WEBHOOK), "delivery_id": _id(ids.FAILED_DELIVERY)},
    ),
    Example(
        "delete_webhook_endpoint",
        "Remove the demo receiver",
        path={"endpoint_id": _id(ids.WEBHOOK)},
    ),
]

READ_IDS: dict[str, str] = {
    "candidate_id": _id(ids.candidate("farah")),
    "client_id": NORTHWIND,
    "application_id": FARAH_APP,
    "interview_id": FARAH_IV,
    "user_id": _id(ids.SAM),
    "key_id": _id(ids.ATS_KEY),
    "endpoint_id": _id(ids.WEBHOOK),
    "delivery_id": _id(ids.FAILED_DELIVERY),
    "message_id": _id(ids.BOUNCED_MESSAGE),
    "kind": "follow_up_via_agency",
}
"""Read routes' path ids: the demo's story."""

RECORD_IDS: dict[str, str] = {
    "candidates": _id(ids.candidate("farah")),
    "referees": _id(ids.referee("farah")),
    "clients": NORTHWIND,
    "contacts": _id(ids.contact("sofia")),
    "vacancies": _id(ids.vacancy("ops")),
    "applications": FARAH_APP,
    "interviews": FARAH_IV,
}
"""`{record_id}` and `{external_id}` on each record collection: the demo's story."""

WORKED_ON: dict[str, str] = {
    "/v1/interviews/{interview_id}/next-steps": _id(ids.interview("hana")),
    "/v1/interviews/{interview_id}/debrief": _id(ids.interview("hana")),
    "/v1/interviews/{interview_id}/follow-up": _id(ids.interview("hana")),
    "/v1/applications/{application_id}/decision": _id(ids.application("hana")),
    "/v1/applications/{application_id}/feedback-request": _id(ids.application("laura")),
}
"""Reads of a step the story has not reached yet show an application further along."""

EXTERNAL_IDS: dict[str, str] = {
    "candidates": "cand-farah",
    "clients": "crm-northwind",
    "vacancies": "job-ops",
    "applications": "sub-farah",
    "interviews": "int-farah",
}


def add_demo_examples(spec: dict[str, Any]) -> None:
    """Put the demo's ids and bodies into the document: path ids on every operation, and each
    write route's example in `EXAMPLES`."""
    by_operation = {example.operation: example for example in EXAMPLES}
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            example = by_operation.get(operation.get("operationId", ""))
            for parameter in operation.get("parameters", []):
                value = _parameter_example(path, parameter, example)
                if value is not None:
                    parameter["example"] = value
            if example is not None and example.body is not None:
                for media in operation["requestBody"]["content"].values():
                    media["examples"] = {
                        "demo": {"summary": example.summary, "value": example.body}
                    }


def _parameter_example(path: str, parameter: Json, example: Example | None) -> str | None:
    name, where = parameter["name"], parameter["in"]
    if where == "header":
        return example.if_match if example is not None and name == "If-Match" else None
    if where != "path":
        return None
    if example is not None and name in example.path:
        return example.path[name]
    if example is None and path in WORKED_ON:
        return WORKED_ON[path]
    collection = path.split("/")[2]
    if name == "record_id":
        return RECORD_IDS.get(collection)
    if name == "external_id":
        return EXTERNAL_IDS.get(collection)
    return READ_IDS.get(name)
