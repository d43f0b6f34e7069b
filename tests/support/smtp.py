"""A real SMTP server for the tests: aiosmtpd on a loopback port, in its own thread.

It keeps every message it accepted (parsed), and answers DATA as `respond` says, so a test can
make it greylist (451), refuse (550) or do something at the moment it accepts.
"""

import email
import email.policy
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.processes import free_port

ACCEPT = "250 OK"
_HEADERS = BytesHeaderParser()


@dataclass(frozen=True)
class Received:
    envelope_from: str
    recipients: tuple[str, ...]
    raw: bytes
    message_id: str

    @property
    def message(self) -> EmailMessage:
        """The message, parsed (on demand: the sink stays cheap under load)."""
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


Responder = Callable[[str, int], str]
"""Given the Message-ID and how many times it was offered before, the DATA reply."""


class SmtpSink:
    def __init__(self, respond: Responder | None = None) -> None:
        self.respond: Responder = respond or (lambda _message, _seen: ACCEPT)
        self.accepted: list[Received] = []
        self.offered: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=false"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content or b""
        assert isinstance(raw, bytes)
        message_id = str(_HEADERS.parsebytes(raw)["Message-ID"])
        with self._lock:
            seen = self.offered[message_id]
            self.offered[message_id] += 1
        reply = self.respond(message_id, seen)
        if reply.startswith("250"):
            with self._arrived:
                self.accepted.append(
                    Received(
                        str(envelope.mail_from),
                        tuple(str(r) for r in envelope.rcpt_tos),
                        raw,
                        message_id,
                    )
                )
                self._arrived.notify_all()
        return reply

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until `count` messages were accepted in all, or `timeout` seconds pass."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.accepted) >= count, timeout)

    def by_message_id(self) -> Counter[str]:
        with self._lock:
            return Counter(r.message_id for r in self.accepted)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.accepted)


@contextmanager
def smtp_sink(respond: Responder | None = None, **controller: Any) -> Iterator[SmtpSink]:
    """An SMTP server on 127.0.0.1, stopped on the way out."""
    sink = SmtpSink(respond)
    server = Controller(sink, hostname="127.0.0.1", port=sink.port, **controller)
    server.start()
    try:
        yield sink
    finally:
        server.stop()
