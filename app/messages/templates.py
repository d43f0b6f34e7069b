"""Message templates: the shipped defaults, the variables each kind offers, and rendering in a
sandbox (templates see plain strings only; no attribute of a Python object, no file)."""

import functools
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from anyio import CapacityLimiter, to_thread
from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer

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
    MessageKind.candidate_link: TemplateSpec(
        "Your {{ role_title }} interview: your notes, your decision, your thanks",
        "Dear {{ recipient_name }},\n\nThank you for interviewing for the {{ role_title }} role "
        "at {{ client_name }}. While it is fresh, this page takes a few minutes on your phone:"
        "\n\n{{ candidate_link }}\n\n"
        "- Make notes on the questions you were asked and how you answered them.\n"
        "- Decide whether you still want the job.\n"
        "- Thank us first; then you can draft a short note to your interviewers, which we "
        "check before it goes.\n\n"
        "Please do it within a day. The link works until {{ link_expires }}; it is yours "
        "alone, so please do not forward it.\n\n{{ consultant_name }}\n{{ agency_name }}",
        {
            **_AGENCY,
            **_ROLE,
            "recipient_name": "Amara",
            "candidate_first_name": "Amara",
            "candidate_last_name": "Okafor",
            "candidate_link": "https://afterview.example/candidate/eyJhbGciOi",
            "link_expires": "Thu 03 Dec 17:00",
        },
    ),
}

RENDER_BUDGET_SECONDS = 0.2
"""How long one render (subject and body) may take; a template that needs longer is refused."""
SAVE_BUDGET_SECONDS = RENDER_BUDGET_SECONDS / 4
"""Saving a template test-renders it within a quarter of the budget: one that is accepted
still renders in time on a server four times as busy."""
MAX_LOOP_STEPS = 10_000
"""What every `range()` of one render may yield, in all."""
MAX_ITERATIONS = 100_000
"""How many times the `{% for %}` loops of one render may go round, in all."""
MAX_NUMBER_BITS = 256
MAX_VALUE_CHARS = MAX_RENDERED_CHARS
"""No string or list a template builds may be longer, nor any number it passes to a call."""
RENDERING_THREADS = os.cpu_count() or 1
_rendering_limiter = CapacityLimiter(RENDERING_THREADS)


@dataclass
class _Budget:
    deadline: float
    range_steps: int = MAX_LOOP_STEPS
    iterations: int = MAX_ITERATIONS


_budget: ContextVar[_Budget] = ContextVar("render_budget")


def _check_time() -> None:
    if time.monotonic() > _budget.get().deadline:
        raise SecurityError("the template takes too long to render")


def _budgeted_range(*args: int) -> range:
    steps = range(*args)
    budget = _budget.get()
    if len(steps) > budget.range_steps:
        raise SecurityError(f"loops may run at most {MAX_LOOP_STEPS} times in a template")
    budget.range_steps -= len(steps)
    return steps


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """What every `{% for %}` iterates through: each round is counted and timed."""
    budget = _budget.get()
    for item in iterable:
        budget.iterations -= 1
        if budget.iterations < 0:
            raise SecurityError(f"loops may go round at most {MAX_ITERATIONS} times in all")
        _check_time()
        yield item


def _capped(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_VALUE_CHARS:
        raise SecurityError(f"a value longer than {MAX_VALUE_CHARS} is not allowed")
    return value


def _refuse_big_numbers(values: Iterable[Any]) -> None:
    if any(_is_int(v) and abs(v) > MAX_VALUE_CHARS for v in values):
        raise SecurityError(f"numbers above {MAX_VALUE_CHARS} may not be passed to a call")


def _refuse_wide_format(fmt: str, args: Iterable[Any]) -> None:
    """A format string's widths (`%0999d`, `{:>999}`, or taken from the arguments) must not
    add up past the size cap."""
    widths = sum(int(n) if len(n) < 7 else MAX_VALUE_CHARS + 1 for n in re.findall(r"\d+", fmt))
    widest_arg = max((abs(a) for a in args if _is_int(a)), default=0)
    fields = fmt.count("%") + fmt.count("{")
    if widths + fields * widest_arg > MAX_VALUE_CHARS:
        raise SecurityError("a format that wide is not allowed")


def _refuse_big_replace(s: Any, old: Any, new: Any) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str) and old:
        _capped_size(len(s) + s.count(old) * (len(new) - len(old)))


def _joinable(iterable: Iterable[Any], separator: Any) -> list[Any]:
    """The items to join, read one by one until their joined size would pass the cap."""
    items: list[Any] = []
    size, gap = 0, len(str(separator))
    for item in iterable:
        size += len(str(item)) + (gap if items else 0)
        _capped_size(size)
        items.append(item)
    return items


def _capped_size(size: int) -> None:
    if size > MAX_VALUE_CHARS:
        raise SecurityError(f"a value longer than {MAX_VALUE_CHARS} is not allowed")


_UNSAFE_STR_METHODS = frozenset({"expandtabs", "translate"})


def _checked_str_call(owner: str, name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Refuse a string method call whose result would outgrow the size cap before it runs;
    the arguments to call it with (a joined iterable is read once, here)."""
    if name in _UNSAFE_STR_METHODS:
        raise SecurityError(f"str.{name} is not allowed in templates")
    if name == "replace" and len(args) >= 2:
        _refuse_big_replace(owner, args[0], args[1])
    if name in ("format", "format_map"):
        mapping = args[0].values() if args and isinstance(args[0], dict) else []
        _refuse_wide_format(owner, [*args, *mapping])
    if name == "join" and args:
        return (_joinable(args[0], owner), *args[1:])
    return args


_UNUSED_FILTERS = ("urlize", "xmlattr", "tojson", "pprint")
"""HTML and debugging filters a plain-text message has no use for, each able to multiply its
input's size."""


def _budgeted_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    passes_arg = _PassArg.from_obj(fn) is not None

    @functools.wraps(fn)  # keeps the `pass_context`-style marker Jinja reads
    def checked(*args: Any, **kwargs: Any) -> Any:
        _check_time()
        value, params = (args[1], args[2:]) if passes_arg else (args[0], args[1:])
        _refuse_big_numbers([*params, *kwargs.values()])
        if name == "join":
            items = _joinable(value, params[0] if params else kwargs.get("d", ""))
            args = (args[0], items, *params) if passes_arg else (items, *params)
        elif name == "replace" and len(params) >= 2:
            _refuse_big_replace(value, params[0], params[1])
        elif name == "format" and isinstance(value, str):
            _refuse_wide_format(value, [*params, *kwargs.values()])
        elif name in ("indent", "wordwrap") and isinstance(value, str):
            _capped_size(len(value) * (1 + sum(len(str(p)) for p in (*params, *kwargs.values()))))
        return _capped(fn(*args, **kwargs))

    return checked


class _Budgeter(NodeTransformer):
    """Every `{% for %}` goes through `_counted`; every `~` concatenation is size-checked."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802 (named by Jinja)
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_counted", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        return nodes.Filter(node, "_capped", [], [], None, None, lineno=node.lineno)


class _BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with budgets: 200 ms for a render, checked at every call, attribute, loop
    round and filter; no number past 256 bits; no string or list longer than the rendered size
    (a repetition, a concatenation, a join…); 10,000 `range()` steps and 100,000 loop rounds.
    A template cannot spend the server's CPU or memory (`{{ (10 ** 10000000) % 7 }}` is refused
    at once); its render runs in a thread (`render_in_thread`), never on the event loop."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        template = _Budgeter().visit(super()._parse(source, name, filename))
        assert isinstance(template, nodes.Template)
        return template

    def call(self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_time()
        _refuse_big_numbers([*args, *kwargs.values()])
        method = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps `str.format`
        owner = getattr(method, "__self__", None)
        if isinstance(owner, str):
            args = _checked_str_call(owner, getattr(method, "__name__", ""), args)
        return _capped(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_time()
        return super().getitem(obj, argument)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        both_ints = _is_int(left) and _is_int(right)
        if operator == "**" and both_ints and right > 0 and abs(left) > 1:
            if right * abs(left).bit_length() > MAX_NUMBER_BITS:
                raise SecurityError("numbers that large are not allowed")
        elif operator == "*" and both_ints:
            if abs(left).bit_length() + abs(right).bit_length() > MAX_NUMBER_BITS:
                raise SecurityError("numbers that large are not allowed")
        elif operator == "*":
            _refuse_big_repeat(left, right)
        elif operator == "+" and isinstance(left, Sized) and isinstance(right, Sized):
            _capped_size(len(left) + len(right))
        elif operator == "%" and isinstance(left, str):
            _refuse_wide_format(left, right if isinstance(right, tuple) else [right])
        return _capped(super().call_binop(context, operator, left, right))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse_big_repeat(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        repeated = isinstance(sequence, (str, list, tuple)) and _is_int(count)
        if repeated and len(sequence) * count > MAX_VALUE_CHARS:
            raise SecurityError("a repetition that large is not allowed")


_environment = _BudgetedSandbox(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)
_environment.globals["range"] = _budgeted_range
# `lipsum` makes its text in one call, out of reach of the budget's checks: 50 s of a render
# thread (and gigabytes) for one template. A message has no use for filler text.
del _environment.globals["lipsum"]
_environment.filters = {
    name: _budgeted_filter(name, fn)
    for name, fn in _environment.filters.items()
    if name not in _UNUSED_FILTERS
}
_environment.filters["_counted"] = _counted
_environment.filters["_capped"] = _capped


class TemplateInvalid(ValueError):
    """The template does not parse, or does not render with the kind's variables."""


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """Agencies render the same few templates again and again: each is compiled once."""
    return _environment.from_string(source)


_UNSENDABLE = re.compile("[\x00\ud800-\udfff]")
"""What no stored or sent message can hold: NUL (PostgreSQL's text refuses it) and a lone
surrogate (not encodable as UTF-8). A template can make either from a string literal."""


def _render_within(source: str, context: dict[str, Any], limit: int) -> str:
    """Stops as soon as the output passes `limit` characters."""
    parts: list[str] = []
    size = 0
    for part in _compiled(source).generate(context):
        size += len(part)
        if size > limit:
            raise TemplateInvalid(f"the body renders to more than {limit} characters")
        parts.append(part)
    return "".join(parts)


def render(
    subject: str,
    body: str,
    context: dict[str, Any],
    budget_seconds: float = RENDER_BUDGET_SECONDS,
) -> tuple[str, str]:
    """Render a subject and body; raises `TemplateInvalid` with the reason. Blocks for up to
    `budget_seconds`: on the event loop, call `render_in_thread`."""
    budget = _budget.set(_Budget(deadline=time.monotonic() + budget_seconds))
    try:
        rendered_subject = _render_within(subject, context, MAX_RENDERED_CHARS).strip()
        rendered_body = _render_within(body, context, MAX_RENDERED_CHARS)
    except TemplateInvalid:
        raise
    except TemplateError as exc:
        raise TemplateInvalid(str(exc.message or exc)) from None
    except Exception as exc:  # a user's template may fail any way (1/0, range too big, …)
        raise TemplateInvalid(f"{type(exc).__name__}: {exc}") from None
    finally:
        _budget.reset(budget)
    for part, text in (("subject", rendered_subject), ("body", rendered_body)):
        if _UNSENDABLE.search(text):
            raise TemplateInvalid(
                f"the {part} renders a character no message can hold (NUL or a lone surrogate)"
            )
    if not rendered_subject or not is_single_line(rendered_subject):
        raise TemplateInvalid("the subject must render to one non-empty line")
    return rendered_subject[:500], rendered_body


async def render_in_thread(
    subject: str,
    body: str,
    context: dict[str, Any],
    budget_seconds: float = RENDER_BUDGET_SECONDS,
) -> tuple[str, str]:
    """`render` off the event loop (at most one render per core at once)."""
    return await to_thread.run_sync(
        render, subject, body, context, budget_seconds, limiter=_rendering_limiter
    )
