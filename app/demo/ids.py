"""The demo agency's fixed ids: the seed gives its rows these, and the OpenAPI examples name them,
so each "Try it out" in `/docs` works against a freshly seeded demo."""

from uuid import UUID, uuid5

from app.core.ids import AgencyId, UserId

_NAMESPACE = UUID("5b0c7a52-6f1e-4d0a-9c57-2a6f4e1d8b30")


def demo_id(name: str) -> UUID:
    """A stable id for the demo row called `name` (`candidate:oliver`)."""
    return uuid5(_NAMESPACE, name)


AGENCY = AgencyId(demo_id("agency"))
ADMIN = UserId(demo_id("user:admin"))
SAM = demo_id("user:sam")
LENA = demo_id("user:lena")
JO = demo_id("user:jo")
ATS_KEY = demo_id("api_key:ats")
OLD_KEY = demo_id("api_key:old")
WEBHOOK = demo_id("webhook:ats")
FAILED_DELIVERY = demo_id("webhook_delivery:failed")
BOUNCED_MESSAGE = demo_id("message:bounced")


def candidate(key: str) -> UUID:
    return demo_id(f"candidate:{key}")


def referee(key: str) -> UUID:
    return demo_id(f"referee:{key}")


def client(key: str) -> UUID:
    return demo_id(f"client:{key}")


def contact(key: str) -> UUID:
    return demo_id(f"contact:{key}")


def vacancy(key: str) -> UUID:
    return demo_id(f"vacancy:{key}")


def application(key: str) -> UUID:
    return demo_id(f"application:{key}")


def interview(key: str) -> UUID:
    return demo_id(f"interview:{key}")
