"""Who and what the demo agency holds, and where each application stands.

Times are offsets from the moment the demo is seeded (its interviews end a few hours to a few
weeks before it), except the interview the documentation's examples walk through, which has a
fixed end so that the examples' dates always follow it."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Json = dict[str, Any]
Body = Json | Callable[[datetime], Json] | None
Step = tuple[timedelta, str, Body]

AGENCY_NAME = "Demo Agency"
DEMO_ADMIN_EMAIL = "admin@demo-agency.example.com"
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
STORY_INTERVIEW_END = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
"""The end of the interview the examples walk through (Farah Khan's, for Northwind)."""

USERS: dict[str, Json] = {
    "user:sam": {"email": "sam.okafor@demo-agency.example.com", "name": "Sam Okafor"},
    "user:lena": {"email": "lena.fischer@demo-agency.example.com", "name": "Lena Fischer"},
    "user:jo": {"email": "jo.baker@demo-agency.example.com", "name": "Jo Baker"},
}
for _user in USERS.values():
    _user["role"] = "consultant"

CLIENTS: dict[str, Json] = {
    "northwind": {
        "name": "Northwind Logistics",
        "contacts": {
            "sofia": {
                "name": "Sofia Marin",
                "email": "sofia.marin@northwind.example.com",
                "job_title": "Head of Operations",
            },
            "tomasz": {
                "name": "Tomasz Nowak",
                "email": "tomasz.nowak@northwind.example.com",
                "job_title": "Operations Lead",
            },
        },
    },
    "brightwater": {
        "name": "Brightwater Health",
        "contacts": {
            "hannah": {
                "name": "Hannah Lee",
                "email": "hannah.lee@brightwater.example.com",
                "job_title": "Practice Director",
            },
            "omar": {
                "name": "Omar Haddad",
                "email": "omar.haddad@brightwater.example.com",
                "job_title": "Clinical Lead",
            },
        },
    },
    "kestrel": {
        "name": "Kestrel Software",
        "contacts": {
            "priya": {
                "name": "Priya Raman",
                "email": "priya.raman@kestrel.example.com",
                "job_title": "CTO",
            },
            "jonas": {
                "name": "Jonas Berg",
                "email": "jonas.berg@kestrel.example.com",
                "job_title": "Engineering Manager",
            },
        },
    },
    "oldmill": {
        "name": "Old Mill Bakery",
        "contacts": {
            "ruth": {
                "name": "Ruth Miller",
                "email": "ruth.miller@oldmill.example.com",
                "job_title": "Owner",
            },
        },
    },
}

VACANCIES: dict[str, Json] = {
    "ops": {
        "client": "northwind",
        "title": "Operations Manager",
        "hiring": "sofia",
        "interviewers": ["sofia", "tomasz"],
    },
    "teamlead": {
        "client": "northwind",
        "title": "Warehouse Team Lead",
        "hiring": "tomasz",
        "interviewers": ["tomasz"],
    },
    "practice": {
        "client": "brightwater",
        "title": "Practice Manager",
        "hiring": "hannah",
        "interviewers": ["hannah", "omar"],
    },
    "backend": {
        "client": "kestrel",
        "title": "Senior Backend Engineer",
        "hiring": "priya",
        "interviewers": ["priya", "jonas"],
    },
    "designer": {
        "client": "kestrel",
        "title": "Product Designer",
        "hiring": "jonas",
        "interviewers": ["jonas"],
    },
    "planner": {
        "client": "northwind",
        "title": "Transport Planner",
        "hiring": None,
        "interviewers": ["tomasz"],
    },
    "analyst": {
        "client": "kestrel",
        "title": "Data Analyst (draft)",
        "hiring": "priya",
        "interviewers": ["priya"],
    },
}


def _person(first: str, last: str, referee: str, relationship: str, **more: Any) -> Json:
    return {
        "first_name": first,
        "last_name": last,
        "referee": {"name": referee, "relationship": relationship},
        **more,
    }


CANDIDATES: dict[str, Json] = {
    "amara": _person("Amara", "Okoye", "Daniel Reyes", "Line manager at Harbour Freight"),
    "ben": _person("Ben", "Carter", "Grace Whitfield", "Practice owner, 2019-2025"),
    "chloe": _person("Chloe", "Dubois", "Marc Antoine", "Tech lead at Lumen"),
    "daniel": _person("Daniel", "Mensah", "Efua Boateng", "Design director at Studio Nine"),
    "elena": _person("Elena", "Rossi", "Paolo Conti", "Shift manager at CargoLine"),
    "farah": _person(
        "Farah",
        "Khan",
        "Imran Sheikh",
        "Regional director at Swift Parcels",
        phone="+44 7700 900301",
    ),
    "george": _person("George", "Osei", "Abena Owusu", "Engineering manager at Parcelly"),
    "hana": _person("Hana", "Sato", "Kenji Mori", "Head of design at Fable"),
    "isaac": _person("Isaac", "Nwosu", "Ruth Adeyemi", "Clinic manager at CityCare"),
    "julia": _person("Julia", "Novak", "Piotr Zielinski", "Warehouse director at Nordlog"),
    "kofi": _person("Kofi", "Asante", "Lucy Grant", "CTO at Brightbyte"),
    "laura": _person("Laura", "Kim", "Sun-hee Park", "Operations director at MedPoint"),
    "mateo": _person("Mateo", "Silva", "Ana Costa", "Logistics lead at Portway"),
    "nina": _person("Nina", "Petrov", "Ivan Sokolov", "Product lead at Quill"),
    "oliver": _person("Oliver", "Grant", "Harriet Young", "Team lead at Railfreight"),
    "paula": _person("Paula", "Mendes", "Rui Alves", "Manager at Casa Verde", consent=False),
    "quentin": _person("Quentin", "Blake", "Irene Moss", "Former manager"),
    "rosa": _person("Rosa", "Lind", "Erik Holm", "Site manager at Baltic Stores"),
    "samir": _person("Samir", "Haddad", "Leila Nasser", "Practice lead at Cedar Health"),
    "tara": _person("Tara", "Singh", "Arjun Mehta", "Engineering lead at Ledgerly"),
    "uma": _person("Uma", "Patel", "Kiran Rao", "Operations manager at FreshRoute"),
}


def next_steps(kind: str, details: str, decide_after: timedelta) -> Step:
    def body(ends: datetime) -> Json:
        return {
            "kind": kind,
            "details": details,
            "decision_expected_by": (ends + decide_after).isoformat(),
        }

    return (20 * MINUTE, "next_steps", body)


def debrief(after: timedelta, half: str, strong: str, went_well: str, improve: str) -> Step:
    return (
        after,
        "debrief",
        {
            "questions": [
                {"text": half, "answer_quality": "adequate", "half_answered": True},
                {"text": strong, "answer_quality": "strong", "half_answered": False},
            ],
            "went_well": went_well,
            "could_improve": improve,
        },
    )


def want(after: timedelta) -> Step:
    return (after, "decision", {"decision": "want"})


def thanks(after: timedelta) -> Step:
    return (after, "thanks", {"note": "Thank you for setting this up, it went well."})


def sent(after: timedelta, role: str) -> Step:
    body = {
        "route": "via_agency",
        "subject": "Thank you for today",
        "body": f"Thank you for your time today. I enjoyed hearing about the {role} role "
        "and the team's plans for next year.",
    }
    return (after, "send", body)


def outcome(after: timedelta, kind: str, note: str | None = None) -> Step:
    return (after, "outcome", {"outcome": kind, **({"note": note} if note else {})})


def likely(after: timedelta) -> Step:
    return (after, "likely", {"offer_likelihood": "high"})


def heads_up(after: timedelta, candidate: str, *, bounce: bool = False) -> Step:
    from app.demo import ids

    body: Json = {
        "referee_id": str(ids.referee(candidate)),
        "why_want_job": "It is the step up they have been preparing for.",
        "key_points": "Led a team of twelve; strong on process and on people.",
    }
    # The seed marks a bounced heads-up's email as failed, as the worker would.
    return (after, "bounced_heads_up" if bounce else "heads_up", body)


def feedback(after: timedelta) -> Step:
    body = {
        "strengths": "Clear, structured answers; good questions about the team.",
        "gaps": "Less depth on budgeting than the role needs.",
        "advice": "Bring numbers to the examples of savings.",
    }
    return (after, "feedback", body)


def release(after: timedelta) -> Step:
    return (after, "release", {"debrief_call": True})


CARRY_ON = "The client decides after the last candidate."
WMS = "Walk us through your warehouse system migration."
COSTS = "How would you cut costs without hurting service?"
WELL = "Good rapport with the panel; clear examples."
BETTER = "The cost question stopped short of numbers."


def complete(role: str, decide_after: timedelta = 5 * DAY) -> list[Step]:
    """Steps 1 to 4 done on time: next steps, debrief, `want`, thanks and a note via the agency."""
    return [
        next_steps("decision", CARRY_ON, decide_after),
        debrief(3 * HOUR, COSTS, WMS, WELL, BETTER),
        want(4 * HOUR),
        thanks(5 * HOUR),
        sent(6 * HOUR, role),
    ]


@dataclass(frozen=True)
class Stage:
    """An application and where it stands: its interview's end relative to the seed's `now`
    (or fixed), its consultant (the admin unless named) and the steps taken after the end."""

    key: str
    candidate: str
    vacancy: str
    ends: timedelta = -DAY
    steps: list[Step] = field(default_factory=list)
    consultant: str | None = None
    fixed_end: datetime | None = None
    interview: bool = True
    format: str = "video"


PIPELINE: list[Stage] = [
    # Placed: every step on time, a heads-up, an offer, then placed.
    Stage(
        "amara",
        "amara",
        "ops",
        -25 * DAY,
        [
            *complete("Operations Manager"),
            likely(2 * DAY),
            heads_up(2 * DAY + HOUR, "amara"),
            outcome(5 * DAY, "offer", "£62k, start in January."),
            outcome(8 * DAY, "placed"),
        ],
        format="in_person",
    ),
    # An offer is on the table; the referee's heads-up bounced.
    Stage(
        "ben",
        "ben",
        "practice",
        -12 * DAY,
        [
            *complete("Practice Manager"),
            likely(DAY),
            heads_up(DAY + HOUR, "ben", bounce=True),
            outcome(6 * DAY, "offer"),
        ],
    ),
    # Unsuccessful, debrief and note late; feedback obtained and released.
    Stage(
        "chloe",
        "chloe",
        "backend",
        -16 * DAY,
        [
            next_steps("decision", CARRY_ON, 4 * DAY),
            debrief(40 * HOUR, "Design a rate limiter for a public API.", WMS, WELL, BETTER),
            want(3 * HOUR),
            thanks(4 * HOUR),
            sent(30 * HOUR, "Senior Backend Engineer"),
            outcome(5 * DAY, "unsuccessful"),
            feedback(9 * DAY),
            release(10 * DAY),
        ],
    ),
    # Withdrew after the interview.
    Stage(
        "daniel",
        "daniel",
        "designer",
        -9 * DAY,
        [
            next_steps("assessment", "A take-home design exercise.", 7 * DAY),
            debrief(2 * HOUR, "Show us a design you would redo.", WMS, WELL, BETTER),
            (DAY, "decision", {"decision": "withdraw", "reason": "Accepted another offer."}),
        ],
    ),
    # Sam's: an interview six days ago with nothing recorded (overdue next steps and debrief).
    Stage("elena", "elena", "teamlead", -6 * DAY, consultant="user:sam", format="in_person"),
    # The examples' story: ended, nothing recorded yet.
    Stage("farah", "farah", "ops", fixed_end=STORY_INTERVIEW_END),
    # Two days ago: sent his own link, he said through it that he wants the job (for the
    # consultant to review); debrief and follow-up overdue.
    Stage(
        "george",
        "george",
        "backend",
        -2 * DAY,
        [
            next_steps("decision", CARRY_ON, 10 * DAY),
            (HOUR, "candidate_link", None),
            (2 * HOUR, "decision_by_link", {"decision": "want"}),
        ],
    ),
    # Yesterday: asked to write to the interviewers directly (waiting for approval).
    Stage(
        "hana",
        "hana",
        "designer",
        -DAY,
        [
            next_steps("another_round", "A portfolio review with the founders.", 6 * DAY),
            debrief(2 * HOUR, "Which design decision are you proudest of?", WMS, WELL, BETTER),
            want(150 * MINUTE),
            thanks(3 * HOUR),
            (190 * MINUTE, "direct_request", {"reason": "Jonas asked to see my portfolio."}),
        ],
    ),
    # The client said it would decide four days ago: time to chase.
    Stage(
        "isaac",
        "isaac",
        "practice",
        -10 * DAY,
        [
            next_steps("decision", CARRY_ON, 6 * DAY),
            debrief(3 * HOUR, COSTS, WMS, WELL, BETTER),
            (
                4 * HOUR,
                "decision",
                {"decision": "unsure", "open_questions": ["Is the hybrid pattern negotiable?"]},
            ),
        ],
    ),
    # An offer looks likely: the referee could get a heads-up.
    Stage(
        "julia",
        "julia",
        "teamlead",
        -5 * DAY,
        [*complete("Warehouse Team Lead", 10 * DAY), likely(3 * DAY)],
    ),
    # Unsuccessful (which asks the client for feedback at once): no answer for eight days, so a
    # chase is due.
    Stage(
        "kofi",
        "kofi",
        "backend",
        -14 * DAY,
        [
            *complete("Senior Backend Engineer"),
            outcome(6 * DAY, "unsuccessful"),
        ],
    ),
    # Unsuccessful; the client's feedback arrived yesterday and waits to be released.
    Stage(
        "laura",
        "laura",
        "practice",
        -8 * DAY,
        [
            *complete("Practice Manager"),
            outcome(3 * DAY, "unsuccessful"),
            feedback(7 * DAY),
        ],
    ),
    # Lena's: one interview tomorrow, one done on time three days ago.
    Stage("mateo", "mateo", "ops", DAY, consultant="user:lena"),
    Stage(
        "nina",
        "nina",
        "designer",
        -3 * DAY,
        complete("Product Designer"),
        consultant="user:lena",
    ),
    # Applied, no interview yet (the examples schedule one).
    Stage("rosa", "rosa", "teamlead", interview=False),
    # Sam's: an interview in three days (the examples move it, then cancel it).
    Stage("samir", "samir", "practice", 3 * DAY, consultant="user:sam", format="phone"),
    # Unsuccessful, closed (the examples reopen it).
    Stage(
        "tara",
        "tara",
        "backend",
        -20 * DAY,
        [*complete("Senior Backend Engineer"), outcome(4 * DAY, "unsuccessful")],
    ),
    # Turned down on the CV, before any interview: nobody met her, so nobody was asked for
    # feedback yet (the examples name a contact, enter the feedback and release it).
    Stage(
        "uma",
        "uma",
        "planner",
        -10 * DAY,
        [outcome(0 * DAY, "unsuccessful")],
        interview=False,
    ),
]
