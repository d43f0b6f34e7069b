"""Message templates (sandboxed, validated at PUT) and the outbox they render into."""

import time
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI

from app.core.clock import FixedClock
from app.core.db import tenant_transaction
from app.core.errors import TemplateNotValid
from app.messages.service import Recipient, queue_message
from app.messages.templates import DEFAULTS
from app.models import Message, MessageKind, RecipientType
from tests.support.follow_ups import note, thanked
from tests.support.messages import store_template_directly
from tests.support.problems import assert_problem
from tests.support.tenants import Tenant

KIND = "withdrawal_note"

REFUSED_WITHIN_SECONDS = 5


async def test_default_template_is_shown_with_its_variables(agency_a: Tenant) -> None:
    response = await agency_a.admin.get(f"/v1/message-templates/{KIND}")
    assert response.status_code == 200
    body = response.json()
    assert body["is_default"] is True
    assert "candidate_first_name" in body["variables"]
    assert "Amara" in body["preview_subject"]
    assert "{{" not in body["preview_body"]


async def test_an_agency_can_reword_a_template(agency_a: Tenant, agency_b: Tenant) -> None:
    template = {"subject": "About {{ candidate_first_name }}", "body": "Hello {{ recipient_name }}"}
    saved = await agency_a.admin.put(f"/v1/message-templates/{KIND}", json=template)
    assert saved.status_code == 200
    assert saved.json()["is_default"] is False
    assert saved.json()["preview_body"] == "Hello Sofia Marin"
    read = await agency_a.admin.get(f"/v1/message-templates/{KIND}")
    assert read.json()["subject"] == template["subject"]
    # Another agency still has the shipped wording.
    assert (await agency_b.admin.get(f"/v1/message-templates/{KIND}")).json()["is_default"]


@pytest.mark.parametrize(
    "body",
    [
        "{{ unclosed",  # syntax
        "{{ no_such_variable }}",  # not offered for this kind
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",  # reaching Python objects
        "{{ cycler.__init__.__globals__.os }}",
        "{% for i in range(10**9) %}x{% endfor %}",  # the sandbox caps ranges
        "{{ (10 ** 10000000) % 7 }}",  # budgets: no huge numbers,
        "{{ 2 ** 100 * 2 ** 100 * 2 ** 100 }}",
        "{{ 'x' * 100000000 }}",  # no huge repetitions,
        "{% for i in range(5000) %}{% for j in range(5000) %}x{% endfor %}{% endfor %}",  # loops
        "{{ recipient_name.__class__ }}",
        "{{ 1 / 0 }}",
        r'Hello {{ "\x00" }}',  # renders what no message can hold: NUL (PostgreSQL refuses it),
        "Hello {{ '%c' % 0 }}",
        r'Hello {{ "\ud800" }}',  # a lone surrogate (no UTF-8 for it: the preview was a 500)
    ],
)
async def test_a_template_that_does_not_render_is_refused_at_put(
    agency_a: Tenant, body: str
) -> None:
    response = await agency_a.admin.put(
        f"/v1/message-templates/{KIND}", json={"subject": "Hi", "body": body}
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/template-invalid")
    after = await agency_a.admin.get(f"/v1/message-templates/{KIND}")
    assert after.json()["is_default"] is True


@pytest.mark.parametrize(
    "body",
    [
        # Would run for minutes or hours: refused by the loop-round count or the time budget.
        "{% set s = 'x' * 50000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(40) }}",
        "{% for x in [[1]] recursive %}{{ loop([[1], [1]]) }}{% endfor %}",
        # Would build gigabytes: refused before the value is built.
        "{{ 'x' * 10**9 }}",
        "{{ ('x' * 50000).replace('x', 'y' * 50000) }}",
        "{{ ('x' * 50000)|join('y' * 50000) }}",
        "{{ ('x' * 50000)|map('center', 50000)|join }}",
        "{{ 'x'|center(1000000000) }}",
        "{{ '%01000000000d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ ('{:>{}}' * 3000).format(*([1, 40000] * 3000)) }}",
        "{{ ('x\n' * 25000)|indent(50000) }}",
        "{{ ('x ' * 25000)|wordwrap(1, wrapstring='y' * 40000) }}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
        "{% endfor %}",
        "{{ lipsum(15000, False, 1000, 1001)|length }}",  # filler made in one call: not offered
    ],
)
async def test_a_template_that_would_take_the_server_s_time_or_memory_is_refused_at_once(
    agency_a: Tenant, body: str
) -> None:
    started = time.perf_counter()
    response = await agency_a.admin.put(
        f"/v1/message-templates/{KIND}", json={"subject": "Hi", "body": body}
    )
    # Each takes milliseconds alone and ran for 8 s or more unrefused; the bound leaves room
    # for a machine busy with other work.
    assert time.perf_counter() - started < REFUSED_WITHIN_SECONDS
    assert_problem(response, 422, "template-invalid")
    after = await agency_a.admin.get(f"/v1/message-templates/{KIND}")
    assert after.json()["is_default"] is True


async def test_the_budgets_leave_room_for_ordinary_formatting(agency_a: Tenant) -> None:
    body = (
        "{% for word in ['a', 'b'] %}{{ loop.index }}{{ word|upper }}{% endfor %} "
        "{{ ['x', 'y']|join(', ') }} {{ 'a b'|replace(' ', '_') }} {{ '%s-%03d' % ('n', 7) }} "
        "{{ '{}!'.format(recipient_name) }} [{{ 'c'|center(5) }}] {{ ('ab' ~ 'cd')|length }}"
    )
    response = await agency_a.admin.put(
        f"/v1/message-templates/{KIND}", json={"subject": "Hi", "body": body}
    )
    assert response.status_code == 200, response.text
    assert response.json()["preview_body"] == ("1A2B x, y a_b n-007 Sofia Marin! [  c  ] 4")


async def test_a_multi_line_subject_is_refused(agency_a: Tenant) -> None:
    response = await agency_a.admin.put(
        f"/v1/message-templates/{KIND}", json={"subject": "a\n{{ role_title }}", "body": "x"}
    )
    assert response.status_code == 422


async def test_consultants_cannot_change_templates(agency_a: Tenant) -> None:
    consultant = await agency_a.consultant()
    assert (await consultant.get(f"/v1/message-templates/{KIND}")).status_code == 200
    response = await consultant.put(
        f"/v1/message-templates/{KIND}", json={"subject": "x", "body": "y"}
    )
    assert response.status_code == 403


async def test_an_unknown_kind_is_a_422(agency_a: Tenant) -> None:
    assert (await agency_a.admin.get("/v1/message-templates/spam")).status_code == 422


async def queue(
    app: FastAPI, tenant: Tenant, clock: FixedClock, *, consented: bool, key: str
) -> Message | None:
    recipient = Recipient(
        RecipientType.candidate, uuid4(), "amara@example.com", "Amara", consented=consented
    )
    principal = tenant.admin_principal()
    async with tenant_transaction(app.state.sessions, principal.agency_id) as session:
        return await queue_message(
            session,
            principal,
            clock,
            MessageKind.feedback_release,
            recipient,
            DEFAULTS[MessageKind.feedback_release].sample,
            dedupe_key=key,
        )


async def test_nobody_who_has_not_consented_is_queued_a_message(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    assert await queue(app, agency_a, clock, consented=False, key="k1") is None
    assert (await agency_a.admin.get("/v1/messages")).json()["items"] == []


async def test_one_purpose_is_queued_once(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    first = await queue(app, agency_a, clock, consented=True, key="release:1")
    assert first is not None
    assert await queue(app, agency_a, clock, consented=True, key="release:1") is None
    listed = (await agency_a.admin.get("/v1/messages")).json()["items"]
    assert [m["id"] for m in listed] == [str(first.id)]
    message = (await agency_a.admin.get(f"/v1/messages/{first.id}")).json()
    assert message["status"] == "queued"
    assert message["to"] == "amara@example.com"
    assert "Clear thinking." in message["body"]
    filtered = await agency_a.admin.get("/v1/messages", params={"kind": "withdrawal_note"})
    assert filtered.json()["items"] == []


async def test_queued_messages_use_the_agency_wording(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    await agency_a.admin.put(
        "/v1/message-templates/feedback_release",
        json={"subject": "News from {{ client_name }}", "body": "{{ strengths }} / {{ gaps }}"},
    )
    message = await queue(app, agency_a, clock, consented=True, key="release:2")
    assert message is not None
    assert message.subject == "News from Harbour Logistics"
    assert message.body == "Clear thinking. / Less depth in finance."
    assert UUID(str(message.id))


async def test_a_template_that_cannot_render_real_values_is_a_422_not_a_500(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """Valid with the kind's samples (which have a link), not with a note that has none: the
    step is refused with 422, naming the template, and nothing happens."""
    saved = await agency_a.admin.put(
        "/v1/message-templates/follow_up_direct",
        json={"subject": "{{ subject }}", "body": "{{ body }} See {{ links[0] }}"},
    )
    assert saved.status_code == 200, saved.text
    scene = await thanked(agency_a, clock)
    for suffix, body in (
        ("/direct-contact-request", {}),
        ("/direct-contact-request/approve", None),
    ):
        assert (await scene.post(suffix, body)).status_code == 200
    before = await scene.snapshot()

    refused = await scene.post("/send", note("direct"))  # no links
    problem = assert_problem(refused, 422, "template-invalid")
    assert problem["errors"][0]["field"] == "templates.follow_up_direct"
    assert await scene.snapshot() == before


async def test_a_stored_template_too_slow_to_render_is_refused_when_sending(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    """A template saved when it rendered in time: at send time it gets its 0.2 s budget, is
    stopped there, and the step is refused (422), not left hanging."""
    await store_template_directly(app, agency_a, MessageKind.feedback_release)
    started = time.perf_counter()
    with pytest.raises(TemplateNotValid, match="takes too long"):
        await queue(app, agency_a, clock, consented=True, key="release:slow")
    assert time.perf_counter() - started < REFUSED_WITHIN_SECONDS
