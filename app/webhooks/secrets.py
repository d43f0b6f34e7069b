"""Webhook signing secrets, Standard Webhooks style (`whsec_` + base64 of 32 bytes).

A secret is never stored: it is derived from the server secret and the endpoint's random salt,
so a copy of the database alone cannot sign (or read) anything. Rotating draws a new salt and
keeps signing with the previous secret too for 24 hours."""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from standardwebhooks.webhooks import Webhook

from app.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class WebhookSecrets:
    server_secret: str

    @property
    def _key(self) -> bytes:
        return hmac.new(self.server_secret.encode(), b"webhook-signing", hashlib.sha256).digest()

    def secret(self, endpoint_id: UUID, salt: bytes) -> str:
        raw = hmac.new(self._key, endpoint_id.bytes + salt, hashlib.sha256).digest()
        return SECRET_PREFIX + base64.b64encode(raw).decode()

    def current(self, endpoint: WebhookEndpoint) -> str:
        return self.secret(endpoint.id, endpoint.secret_salt)

    def signing(self, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one
        during the day after a rotation."""
        secrets = [self.current(endpoint)]
        until = endpoint.previous_secret_until
        if endpoint.previous_secret_salt is not None and until is not None and now < until:
            secrets.append(self.secret(endpoint.id, endpoint.previous_secret_salt))
        return secrets

    def signature(
        self,
        endpoint: WebhookEndpoint,
        now: datetime,
        message_id: str,
        sent_at: datetime,
        body: str,
    ) -> str:
        """The `webhook-signature` header: `v1,<base64>` per secret, space-separated."""
        return " ".join(
            Webhook(secret).sign(message_id, sent_at, body)
            for secret in self.signing(endpoint, now)
        )
