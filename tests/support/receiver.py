"""A real webhook receiver for the tests: an HTTP server on a loopback port, in its own thread,
that verifies every delivery with the `standardwebhooks` package (as an integrator would).

`respond(webhook_id, seen)` decides each answer's status (seen: how many times that id came
before), so a test can make it fail, recover or hold a request open."""

import json
import shutil
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

Responder = Callable[[str, int], int]


@dataclass(frozen=True)
class Delivered:
    webhook_id: str
    headers: dict[str, str]
    body: dict[str, Any]
    verified_by: tuple[str, ...]
    """Which of the receiver's secrets verify it."""
    status: int


@dataclass
class Receiver:
    port: int
    respond: Responder
    secrets: list[str] = field(default_factory=list)
    deliveries: list[Delivered] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hooks/afterview"

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: len(self.deliveries) >= count, timeout)

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(d.webhook_id for d in self.deliveries)

    def snapshot(self) -> list[Delivered]:
        with self.lock:
            return list(self.deliveries)

    def record(self, headers: dict[str, str], raw: bytes) -> int:
        verified = tuple(s for s in self.secrets if _verifies(s, raw, headers))
        webhook_id = headers.get("webhook-id", "")
        with self.lock:
            seen = sum(1 for d in self.deliveries if d.webhook_id == webhook_id)
        status = self.respond(webhook_id, seen)
        delivered = Delivered(webhook_id, headers, json.loads(raw), verified, status)
        with self.lock:
            self.deliveries.append(delivered)
            self.lock.notify_all()
        return status


def _verifies(secret: str, raw: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(raw, headers)
    except WebhookVerificationError:
        return False
    return True


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.record(headers, raw)
            body = b"ok" if status < 300 else b"not now"
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("location", "http://127.0.0.1:9/elsewhere")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no authority signed, and its key (openssl)."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is not installed"
    certificate, key = directory / "receiver.crt", directory / "receiver.key"
    subprocess.run(  # noqa: S603 - a fixed executable and arguments
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(certificate),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return certificate, key


@contextmanager
def webhook_receiver(
    respond: Responder | None = None, certificate: tuple[Path, Path] | None = None
) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 (answering 200 unless told otherwise), over https when given
    a certificate and its key; stopped on the way out."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(0, lambda _i, _s: 200)))
    receiver = Receiver(server.server_address[1], respond or (lambda _id, _seen: 200))
    if certificate is not None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*certificate)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        receiver.scheme = "https"
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
