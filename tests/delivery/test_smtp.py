"""Mail leaves through a real SMTP server (aiosmtpd on loopback), sent by a worker that runs in
the test's process on the test's clock: headers, retries, permanent failures, consent, leases."""

import asyncio
import random
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import update

from app.core.auth import worker_principal
from app.core.clock import FixedClock
from app.core.db import tenant_transaction
from app.core.ids import AgencyId
from app.delivery import outbox
from app.delivery.mail import MailboxTransport, SmtpConfig, SmtpTransport
from app.messages.service import Recipient, queue_message
from app.models import Message, MessageKind, MessageStatus, RecipientType
from tests.support.delivery import DEFAULT_SENDER, make_worker, outbox_row, outbox_rows
from tests.support.follow_ups import BODY, SUBJECT, Scene, note, set_agency, thanked
from tests.support.problems import assert_problem
from tests.support.processes import free_port
from tests.support.records import make_candidate
from tests.support.smtp import ACCEPT, smtp_sink
from tests.support.tenants import Tenant

Json = dict[str, Any]
SENDER_NAME = "Northbridge Talent"
SENDER_EMAIL = "consultants@northbridge.example.com"


def smtp(url: str) -> SmtpTransport:
    return SmtpTransport(SmtpConfig.from_url(url))


async def direct_follow_up(tenant: Tenant, clock: FixedClock) -> tuple[Scene, Json]:
    """A direct thank-you, approved and sent, to a panel of two; the application has a
    consultant; the agency has its own sender."""
    await set_agency(tenant, sender_name=SENDER_NAME, sender_email=SENDER_EMAIL)
    consultant = await tenant.add_user("consultant", name="Priya Shah")
    scene = await thanked(tenant, clock, interviewers=2, consultant=consultant)
    for suffix, body in (
        ("/direct-contact-request", {"reason": "The panel asked for the case study."}),
        ("/direct-contact-request/approve", None),
        ("/send", note("direct")),
    ):
        response = await scene.post(suffix, body)
        assert response.status_code == 200, response.text
    return scene, consultant


async def one_message(tenant: Tenant, clock: FixedClock, **candidate: Any) -> Message:
    """One queued message to a (consenting) candidate, as a step would queue it."""
    person = await make_candidate(tenant, **candidate)
    principal = worker_principal(tenant.agency_id)
    async with tenant_transaction(tenant.app.state.sessions, AgencyId(tenant.agency_id)) as s:
        queued = await queue_message(
            s,
            principal,
            clock,
            MessageKind.feedback_release,
            Recipient(
                RecipientType.candidate,
                UUID(person["id"]),
                person["email"],
                person["first_name"],
                consented=person["contact_consent"],
            ),
            {
                "agency_name": "Agency A",
                "consultant_name": "Priya Shah",
                "role_title": "Analyst",
                "client_name": "Harbour Logistics",
                "strengths": "Clear thinking.",
                "gaps": "Finance depth.",
                "advice": "",
            },
            dedupe_key=f"test:{person['id']}",
        )
    assert queued is not None
    return queued


async def test_a_direct_follow_up_reaches_each_interviewer_from_the_agency(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene, consultant = await direct_follow_up(agency_a, clock)

    with smtp_sink() as sink:
        worker = make_worker(agency_a.app, clock, smtp(sink.url))
        assert await worker.deliver_all() == 2
        await worker.close()

    rows = await outbox_rows(agency_a, application_id=UUID(scene.application["id"]))
    received = {r.recipients: r for r in sink.snapshot()}
    assert set(received) == {(c["email"],) for c in scene.interviewers}
    assert {row.to_address for row in rows} == {c["email"] for c in scene.interviewers}
    for row in rows:
        assert row.status == MessageStatus.sent
        assert (row.attempts, row.sent_at, row.last_error) == (1, clock.now(), None)
        mail = received[(row.to_address,)]
        assert mail.envelope_from == SENDER_EMAIL
        assert mail.message_id == row.message_id_header
        assert row.message_id_header.endswith("@northbridge.example.com>")
        (sender,) = mail.message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == (SENDER_NAME, SENDER_EMAIL)
        (reply_to,) = mail.message["Reply-To"].addresses
        assert (reply_to.display_name, reply_to.addr_spec) == ("Priya Shah", consultant["email"])
        assert mail.message["To"].addresses[0].addr_spec == row.to_address
        assert mail.message["Subject"] == SUBJECT
        assert BODY in mail.message.get_content()

    state = await scene.state()
    assert sorted((m["to"], m["status"]) for m in state["messages"]) == sorted(
        (c["email"], "sent") for c in scene.interviewers
    )
    timeline = await scene.client.get(f"/v1/applications/{scene.application['id']}/timeline")
    sent = [e for e in timeline.json()["items"] if e["type"] == "message.sent"]
    assert sorted(e["object_id"] for e in sent) == sorted(str(row.id) for row in rows)


async def test_a_greylisting_451_is_retried_later_and_then_delivered(
    agency_a: Tenant, clock: FixedClock
) -> None:
    message = await one_message(agency_a, clock)

    def greylist(_message_id: str, seen: int) -> str:
        return "451 4.7.1 Greylisted, try again later" if seen == 0 else ACCEPT

    with smtp_sink(greylist) as sink:
        worker = make_worker(agency_a.app, clock, smtp(sink.url))
        assert await worker.deliver_all() == 1
        deferred = await outbox_row(agency_a, message.id)
        assert deferred.status == MessageStatus.queued
        assert deferred.attempts == 1 and deferred.sent_at is None
        assert deferred.last_error is not None and "451" in deferred.last_error
        assert deferred.next_attempt_at is not None
        wait = deferred.next_attempt_at - clock.now()
        assert timedelta(minutes=7, seconds=30) <= wait <= timedelta(minutes=12, seconds=30)
        assert sink.snapshot() == []

        assert await worker.deliver_all() == 0  # not due yet
        clock.set(deferred.next_attempt_at)
        assert await worker.deliver_all() == 1
        await worker.close()

    sent = await outbox_row(agency_a, message.id)
    assert (sent.status, sent.attempts, sent.sent_at) == (MessageStatus.sent, 2, clock.now())
    assert sink.offered[message.message_id_header] == 2
    assert [r.message_id for r in sink.snapshot()] == [message.message_id_header]

    read = await agency_a.admin.get(f"/v1/messages/{message.id}")
    assert read.status_code == 200, read.text
    body = read.json()
    assert (body["status"], body["attempts"], body["next_attempt_at"]) == ("sent", 2, None)
    assert "451" in body["last_error"]  # the last failure stays visible after success
    assert body["message_id_header"] == message.message_id_header


async def test_a_550_fails_at_once_and_a_consultant_can_retry_it(
    agency_a: Tenant, clock: FixedClock
) -> None:
    message = await one_message(agency_a, clock)
    api = await agency_a.integration()  # outlives clock moves
    refuse = True

    def mailbox_full(_message_id: str, _seen: int) -> str:
        return "550 5.1.1 Mailbox unavailable" if refuse else ACCEPT

    with smtp_sink(mailbox_full) as sink:
        worker = make_worker(agency_a.app, clock, smtp(sink.url))
        assert await worker.deliver_all() == 1
        failed = (await agency_a.admin.get(f"/v1/messages/{message.id}")).json()
        assert (failed["status"], failed["attempts"], failed["next_attempt_at"]) == (
            "failed",
            1,
            None,
        )
        assert "550" in failed["last_error"]
        clock.set(clock.now() + timedelta(days=2))
        assert await worker.deliver_all() == 0  # a failed message stays failed

        refuse = False
        retried = await api.post(f"/v1/messages/{message.id}/retry")
        assert retried.status_code == 200, retried.text
        assert (retried.json()["status"], retried.json()["attempts"]) == ("queued", 0)
        assert await worker.deliver_all() == 1
        await worker.close()

    assert (await outbox_row(agency_a, message.id)).status == MessageStatus.sent
    assert [r.message_id for r in sink.snapshot()] == [message.message_id_header]
    again = await api.post(f"/v1/messages/{message.id}/retry")
    assert_problem(again, 409, "message-not-failed")


async def test_transient_failures_give_up_after_the_last_attempt(
    agency_a: Tenant, clock: FixedClock
) -> None:
    message = await one_message(agency_a, clock)
    with smtp_sink(lambda _m, _s: "421 4.3.2 Service shutting down") as sink:
        worker = make_worker(agency_a.app, clock, smtp(sink.url), retry=outbox.RetryPolicy(3, 60))
        for attempt in (1, 2, 3):
            assert await worker.deliver_all() == 1
            row = await outbox_row(agency_a, message.id)
            assert row.attempts == attempt
            if attempt < 3:
                assert row.status == MessageStatus.queued and row.next_attempt_at is not None
                clock.set(row.next_attempt_at)
        await worker.close()
    assert row.status == MessageStatus.failed and row.next_attempt_at is None
    assert sink.offered[message.message_id_header] == 3


async def test_an_unreachable_server_is_a_transient_failure(
    agency_a: Tenant, clock: FixedClock
) -> None:
    message = await one_message(agency_a, clock)
    worker = make_worker(agency_a.app, clock, smtp(f"smtp://127.0.0.1:{free_port()}"))
    assert await worker.deliver_all() == 1
    row = await outbox_row(agency_a, message.id)
    assert row.status == MessageStatus.queued and row.attempts == 1
    assert row.last_error is not None and "cannot reach the SMTP server" in row.last_error


async def test_consent_withdrawn_after_queueing_stops_the_message(
    agency_a: Tenant, clock: FixedClock
) -> None:
    message = await one_message(agency_a, clock)
    candidate = await agency_a.admin.get(f"/v1/candidates/{message.recipient_id}")
    changed = await agency_a.admin.patch(
        f"/v1/candidates/{message.recipient_id}",
        json={"contact_consent": False},
        headers={"If-Match": candidate.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text

    with smtp_sink() as sink:
        assert await make_worker(agency_a.app, clock, smtp(sink.url)).deliver_all() == 1
    row = await outbox_row(agency_a, message.id)
    assert row.status == MessageStatus.cancelled
    assert row.last_error == "the recipient has not consented"
    assert sink.snapshot() == [] and sink.offered == {}


async def test_a_line_break_that_reached_a_row_never_reaches_a_header(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """Inputs refuse line breaks (422); should one still reach a stored row (older data), the
    email policy refuses the header and the message fails instead of smuggling a Bcc."""
    message = await one_message(agency_a, clock)
    async with tenant_transaction(agency_a.app.state.sessions, AgencyId(agency_a.agency_id)) as s:
        await s.execute(
            update(Message)
            .where(Message.agency_id == agency_a.agency_id, Message.id == message.id)
            .values(subject="Feedback\r\nBcc: attacker@example.com")
        )
    with smtp_sink() as sink:
        assert await make_worker(agency_a.app, clock, smtp(sink.url)).deliver_all() == 1
    row = await outbox_row(agency_a, message.id)
    assert row.status == MessageStatus.failed
    assert row.last_error is not None and row.last_error.startswith("cannot build the email")
    assert sink.offered == {}


async def test_a_worker_that_died_holding_a_message_loses_it_when_the_lease_runs_out(
    agency_a: Tenant, clock: FixedClock
) -> None:
    message = await one_message(agency_a, clock)
    async with agency_a.app.state.sessions() as session, session.begin():
        (claim,) = await outbox.claim_due(session, clock.now(), batch=10, lease_seconds=300)
    assert claim.message_id == message.id  # ... and that worker is never heard of again

    with smtp_sink() as sink:
        worker = make_worker(agency_a.app, clock, smtp(sink.url))
        assert await worker.deliver_all() == 0  # leased
        assert (await outbox_row(agency_a, message.id)).status == MessageStatus.sending
        clock.set(clock.now() + timedelta(seconds=300))
        assert await worker.deliver_all() == 1
        await worker.close()

    row = await outbox_row(agency_a, message.id)
    assert (row.status, row.attempts, row.lease_token) == (MessageStatus.sent, 2, None)
    assert [r.message_id for r in sink.snapshot()] == [message.message_id_header]
    # The dead worker's claim can no longer settle the message.
    async with tenant_transaction(agency_a.app.state.sessions, claim.agency_id) as session:
        late = await outbox.finish(
            session,
            worker_principal(claim.agency_id),
            clock,
            claim,
            None,
            outbox.RetryPolicy(8, 600),
            random.Random(1),
        )
    assert late is None


async def test_a_stopping_worker_gives_back_what_it_claimed_but_did_not_start(
    agency_a: Tenant, clock: FixedClock
) -> None:
    message = await one_message(agency_a, clock)
    stop = asyncio.Event()
    stop.set()
    with smtp_sink() as sink:
        assert await make_worker(agency_a.app, clock, smtp(sink.url)).deliver_once(stop) == 1
    row = await outbox_row(agency_a, message.id)
    assert (row.status, row.attempts, row.lease_token) == (MessageStatus.queued, 0, None)
    assert sink.offered == {}


async def test_without_smtp_each_message_is_an_eml_file(
    agency_a: Tenant, clock: FixedClock, tmp_path: Path
) -> None:
    scene, consultant = await direct_follow_up(agency_a, clock)
    mailbox = tmp_path / "mailbox"
    assert await make_worker(agency_a.app, clock, MailboxTransport(mailbox)).deliver_all() == 2

    rows = await outbox_rows(agency_a, application_id=UUID(scene.application["id"]))
    assert sorted(p.name for p in mailbox.iterdir()) == sorted(f"{r.id}.eml" for r in rows)
    for row in rows:
        assert row.status == MessageStatus.sent
        mail = message_from_bytes((mailbox / f"{row.id}.eml").read_bytes(), policy=policy.default)
        assert mail["Message-ID"] == row.message_id_header
        assert mail["To"].addresses[0].addr_spec == row.to_address
        assert mail["From"].addresses[0].addr_spec == SENDER_EMAIL
        assert mail["Reply-To"].addresses[0].addr_spec == consultant["email"]
        assert mail["Subject"] == SUBJECT


async def test_an_agency_without_a_sender_sends_as_the_deployment(
    agency_a: Tenant, clock: FixedClock, tmp_path: Path
) -> None:
    message = await one_message(agency_a, clock)
    assert await make_worker(agency_a.app, clock, MailboxTransport(tmp_path)).deliver_all() == 1
    mail = message_from_bytes((tmp_path / f"{message.id}.eml").read_bytes(), policy=policy.default)
    (sender,) = mail["From"].addresses
    # The agency's name over the deployment's address (AFTERVIEW_MAIL_FROM).
    assert (sender.display_name, sender.addr_spec) == ("Agency A", DEFAULT_SENDER.address)
