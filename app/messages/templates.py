"""Message templates: the shipped defaults, the variables each kind offers, and rendering in a
sandbox (templates see plain strings only; no attribute of a Python object, no file)."""

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.core.schemas import is_single_line
from app.models import MessageKind

MAX_RENDERED_CHARS = 50_000


@dataclass(frozen=True)
class TemplateSpec:
    subject: str
    body: str
    sample: dict[str, Any]
    """Every variable the kind offers, with a realistic value: PUT renders against it."""


_AGENCY = {"agency_name": "Northbridge Talent", "consultant_name": "Priya Shah"}
_ROLE = {"role_title": "Senior Supply Chain Analyst", "client_name": "Harbour Logistics"}

DEFAULTS: dict[MessageKind, TemplateSpec] = {
    MessageKind.withdrawal_note: TemplateSpec(
        "{{ candidate_first_name }} and the {{ role_title }} role",
        "Dear {{ recipient_name }},\n\nThank you for meeting {{ candidate_first_name }} for the "
        "{{ role_title }} role. They have decided not to go further with it, and we did not want "
        "your time spent on it any longer. We wish you well in finding the right person.\n\n"
        "{{ consultant_name }}\n{{ agency_name }}",
        {**_AGENCY, **_ROLE, "recipient_name": "Sofia Marin", "candidate_first_name": "Amara"},
    ),
    MessageKind.follow_up_direct: TemplateSpec(
        "{{ subject }}",
        "{{ body }}{% if links %}\n\n{% for link in links %}{{ link }}\n{% endfor %}{% endif %}",
        {
            **_AGENCY,
            **_ROLE,
            "recipient_name": "Sofia Marin",
            "subject": "Thank you",
            "body": "Thank you for your time today.",
            "links": ["https://example.com/work"],
            "candidate_first_name": "Amara",
            "candidate_last_name": "Okafor",
        },
    ),
    MessageKind.follow_up_via_agency: TemplateSpec(
        "To forward: {{ candidate_first_name }}'s thanks for the {{ role_title }} interview",
        "{{ consultant_name }}, please forward this note from {{ candidate_first_name }} "
        "{{ candidate_last_name }} to {{ client_name }}:\n\nSubject: {{ subject }}\n\n{{ body }}"
        "{% if links %}\n\n{% for link in links %}{{ link }}\n{% endfor %}{% endif %}",
        {
            **_AGENCY,
            **_ROLE,
            "recipient_name": "Priya Shah",
            "subject": "Thank you",
            "body": "Thank you for your time today.",
            "links": [],
            "candidate_first_name": "Amara",
            "candidate_last_name": "Okafor",
        },
    ),
    MessageKind.referee_heads_up: TemplateSpec(
        "A reference request for {{ candidate_first_name }} may be on its way",
        "Dear {{ recipient_name }},\n\n{{ candidate_first_name }} is close to an offer for the "
        "{{ role_title }} role at {{ client_name }} and named you as a referee. Why they want it: "
        "{{ why_want_job }}\n\nWorth emphasising: {{ key_points }}\n\nThank you,\n"
        "{{ consultant_name }}\n{{ agency_name }}",
        {
            **_AGENCY,
            **_ROLE,
            "recipient_name": "Daniel Reyes",
            "candidate_first_name": "Amara",
            "why_want_job": "It is the network redesign she has prepared for.",
            "key_points": "Led the 2024 WMS migration.",
        },
    ),
    MessageKind.feedback_request: TemplateSpec(
        "Feedback on {{ candidate_first_name }} for the {{ role_title }} role",
        "Dear {{ recipient_name }},\n\nThank you for considering {{ candidate_first_name }}. "
        "A few lines on their strengths and gaps would help them greatly: {{ feedback_link }}"
        "\n\n{{ consultant_name }}\n{{ agency_name }}",
        {
            **_AGENCY,
            **_ROLE,
            "recipient_name": "Sofia Marin",
            "candidate_first_name": "Amara",
            "feedback_link": "https://afterview.example/feedback/eyJhbGciOi",
        },
    ),
    MessageKind.feedback_chase: TemplateSpec(
        "A reminder: feedback on {{ candidate_first_name }}",
        "Dear {{ recipient_name }},\n\nA gentle reminder: a few lines on "
        "{{ candidate_first_name }}'s interview would help them: {{ feedback_link }}\n\n"
        "{{ consultant_name }}\n{{ agency_name }}",
        {
            **_AGENCY,
            **_ROLE,
            "recipient_name": "Sofia Marin",
            "candidate_first_name": "Amara",
            "feedback_link": "https://afterview.example/feedback/eyJhbGciOi",
        },
    ),
    MessageKind.feedback_release: TemplateSpec(
        "Feedback from {{ client_name }}",
        "Dear {{ recipient_name }},\n\n{{ client_name }} shared feedback on your interview for "
        "the {{ role_title }} role.\n\nStrengths: {{ strengths }}\nGaps: {{ gaps }}"
        "{% if advice %}\nAdvice: {{ advice }}{% endif %}\n\n{{ consultant_name }}\n"
        "{{ agency_name }}",
        {
            **_AGENCY,
            **_ROLE,
            "recipient_name": "Amara",
            "strengths": "Clear thinking.",
            "gaps": "Less depth in finance.",
            "advice": "",
        },
    ),
    MessageKind.daily_digest: TemplateSpec(
        "{{ count }} overdue {{ 'item' if count == 1 else 'items' }} on your worklist",
        "Good morning {{ recipient_name }},\n\nThese need you today, oldest first:\n\n"
        "{% for item in items %}- {{ item.what }}: {{ item.candidate }}, {{ item.role }} at "
        "{{ item.client }} (due {{ item.due }})\n{% endfor %}\n{{ agency_name }}",
        {
            "agency_name": "Northbridge Talent",
            "recipient_name": "Priya Shah",
            "count": 2,
            "items": [
                {
                    "what": "Chase the client: the decision date has passed",
                    "candidate": "Amara Okafor",
                    "role": "Senior Supply Chain Analyst",
                    "client": "Harbour Logistics",
                    "due": "Mon 30 Nov 17:00",
                },
                {
                    "what": "Write the debrief",
                    "candidate": "Jonas Weber",
                    "role": "Warehouse Manager",
                    "client": "Harbour Logistics",
                    "due": "Sun 29 Nov 15:00",
                },
            ],
        },
    ),
    MessageKind.webhook_disabled: TemplateSpec(
        "A webhook endpoint was disabled: {{ endpoint_url }}",
        "Dear {{ recipient_name }},\n\nEvery delivery to {{ endpoint_url }}"
        "{% if endpoint_description %} ({{ endpoint_description }}){% endif %} has failed since "
        "{{ failing_since }}, so Afterview stopped sending to it. Nothing is lost: the events "
        "stay in the event feed (GET /v1/events). Fix the receiver, then enable the endpoint "
        "again (PATCH /v1/webhook-endpoints/{id} with enabled: true) and retry the deliveries "
        "you need.\n\n{{ agency_name }}",
        {
            "agency_name": "Northbridge Talent",
            "recipient_name": "Priya Shah",
            "endpoint_url": "https://ats.example.com/hooks/afterview",
            "endpoint_description": "Our ATS",
            "failing_since": "Mon 30 Nov 2026 09:00",
        },
    ),
}

MAX_LOOP_STEPS = 10_000
"""What every `range()` of one render may yield, in all."""
MAX_NUMBER_BITS = 256
MAX_REPEAT_CHARS = MAX_RENDERED_CHARS

_loop_steps_left: ContextVar[list[int]] = ContextVar("loop_steps_left")


def _budgeted_range(*args: int) -> range:
    steps = range(*args)
    left = _loop_steps_left.get()
    if len(steps) > left[0]:
        raise SecurityError(f"loops may run at most {MAX_LOOP_STEPS} times in a template")
    left[0] -= len(steps)
    return steps


class _BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with budgets: no number past 256 bits, no string or list repeated past the
    rendered size, no more than 10,000 loop steps. A template cannot spend the server's CPU or
    memory (`{{ (10 ** 10000000) % 7 }}` is refused at once)."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        both_ints = _is_int(left) and _is_int(right)
        if operator == "**" and both_ints and right > 0 and abs(left) > 1:
            if right * abs(left).bit_length() > MAX_NUMBER_BITS:
                raise SecurityError("numbers that large are not allowed")
        elif operator == "*" and both_ints:
            if abs(left).bit_length() + abs(right).bit_length() > MAX_NUMBER_BITS:
                raise SecurityError("numbers that large are not allowed")
        elif operator == "*":
            _refuse_big_repeat(left, right)
        return super().call_binop(context, operator, left, right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse_big_repeat(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        repeated = isinstance(sequence, (str, list, tuple)) and _is_int(count)
        if repeated and len(sequence) * count > MAX_REPEAT_CHARS:
            raise SecurityError("a repetition that large is not allowed")


_environment = _BudgetedSandbox(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)
_environment.globals["range"] = _budgeted_range


class TemplateInvalid(ValueError):
    """The template does not parse, or does not render with the kind's variables."""


def render(subject: str, body: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render a subject and body; raises `TemplateInvalid` with the reason."""
    budget = _loop_steps_left.set([MAX_LOOP_STEPS])
    try:
        rendered_subject = _environment.from_string(subject).render(context).strip()
        rendered_body = _environment.from_string(body).render(context)
    except TemplateError as exc:
        raise TemplateInvalid(str(exc.message or exc)) from None
    except Exception as exc:  # a user's template may fail any way (1/0, range too big, …)
        raise TemplateInvalid(f"{type(exc).__name__}: {exc}") from None
    finally:
        _loop_steps_left.reset(budget)
    if not rendered_subject or not is_single_line(rendered_subject):
        raise TemplateInvalid("the subject must render to one non-empty line")
    if len(rendered_body) > MAX_RENDERED_CHARS:
        raise TemplateInvalid(f"the body renders to more than {MAX_RENDERED_CHARS} characters")
    return rendered_subject[:500], rendered_body
