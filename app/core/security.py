"""Passwords (argon2id), access tokens (HS256 JWTs) and API key secrets."""

import asyncio
import base64
import contextlib
import hashlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.ids import AgencyId, UserId

JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "afterview-api"
API_KEY_PREFIX = "afv"
CLOCK_SKEW = timedelta(seconds=60)
"""How far in the future a token's `iat` may be (another server's clock running ahead)."""

PRODUCTION_HASHER = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile
_hasher = PRODUCTION_HASHER


_PRODUCTION_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$Ta5CCHEdrczgNS42R7WSxw"
    "$RQXnT5aZyynNuJ/noV804jvzJcTkvRPEgTNlA/Z6kDE"
)
"""The argon2id hash of a random password that was thrown away, at the production parameters:
verified against when no user matches, so a missing user costs as long as a wrong password. It
need not be secret (a match still says False); as a constant, no process pays a hash at start."""


@lru_cache(maxsize=2)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """`_PRODUCTION_DUMMY_HASH`, or, for a hasher with other parameters (the tests' cheap one),
    one made once at its own cost."""
    if not hasher.check_needs_rehash(_PRODUCTION_DUMMY_HASH):
        return _PRODUCTION_DUMMY_HASH
    return hasher.hash(secrets.token_urlsafe(16))


HASHING_THREADS = max(1, (os.cpu_count() or 1) - 1)
"""At most this many hashes at once, each in its own thread (argon2 releases the GIL): a login
storm queues here instead of taking every thread of the shared pool other sync work needs, and
one core stays free for the event loop (on 2 cores, `/healthz` p99 under a storm of 4 loops:
13-17 ms with one hashing thread, 18-28 ms with two, 260 ms with hashing on the loop)."""
HASHING_NICENESS = 10
"""The hashing threads' scheduling priority (Linux nice, per thread): below the event loop's and
PostgreSQL's, so under a storm of logins the logins wait for the CPU, not every other request."""


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the OS schedules as it will
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_hashing_pool = ThreadPoolExecutor(
    max_workers=HASHING_THREADS, thread_name_prefix="argon2", initializer=_lower_priority
)


def hash_password(password: str) -> str:
    """Blocks for the hash's whole cost (~0.2 s): outside an event loop only (the CLI)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Blocks like `hash_password`. With no hash, verifies against a dummy one and says False:
    a missing user costs as long as a wrong password."""
    try:
        hashed = password_hash or _dummy_hash(_hasher)
        return _hasher.verify(hashed, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_in_thread(password: str) -> str:
    """`hash_password` on a hashing thread: other requests go on while it runs."""
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool, hash_password, password)


async def verify_password_in_thread(password_hash: str | None, password: str) -> bool:
    """`verify_password` on a hashing thread, the dummy verify for a missing user included."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_pool, verify_password, password_hash, password)


@dataclass(frozen=True)
class TokenClaims:
    user_id: UserId
    agency_id: AgencyId
    expires_at: datetime
    issued_at: datetime


def issue_access_token(
    secret: str, user_id: UUID, agency_id: UUID, now: datetime, ttl_seconds: int
) -> str:
    claims = {
        "sub": str(user_id),
        "agency": str(agency_id),
        "aud": JWT_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


@lru_cache(maxsize=4096)
def _signed_claims(secret: str, token: str) -> dict[str, Any] | None:
    """The claims of a token whose signature, algorithm and audience hold (else None),
    remembered per token: checking a signature costs more than the rest of a read. Times are
    not checked here; the caller checks them on every use against the injected clock."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={
                "require": ["sub", "agency", "exp", "iat"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError:
        return None
    return claims


class AccessTokenExpired(Exception):
    """A genuine token (signature, algorithm and audience hold) whose time is up."""


def read_access_token(secret: str, token: str, now: datetime) -> TokenClaims | None:
    """The token's claims if its signature, algorithm, audience and expiry hold; else None.
    A genuine token past its expiry raises `AccessTokenExpired` (the caller says: log in again).

    Expiry is checked against the injected clock rather than the wall clock."""
    claims = _signed_claims(secret, token)
    if claims is None:
        return None
    try:
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
        issued_at = datetime.fromtimestamp(int(claims["iat"]), tz=now.tzinfo)
        if issued_at > now + CLOCK_SKEW:
            return None
        if expires_at <= now:
            raise AccessTokenExpired
        return TokenClaims(
            user_id=UserId(UUID(claims["sub"])),
            agency_id=AgencyId(UUID(claims["agency"])),
            expires_at=expires_at,
            issued_at=issued_at,
        )
    except (ValueError, TypeError, OverflowError, OSError):
        return None  # OverflowError/OSError: an `exp` or `iat` no datetime can hold


@dataclass(frozen=True)
class ApiKeySecret:
    """`afv_<agency, base32>_<secret>`: the agency part lets the key be checked inside that
    agency's row-level-security scope; the secret is 256 random bits."""

    key: str
    agency_id: AgencyId
    display_prefix: str
    digest: bytes


def _agency_part(agency_id: UUID) -> str:
    return base64.b32encode(agency_id.bytes).decode().rstrip("=").lower()


def new_api_key(agency_id: AgencyId) -> ApiKeySecret:
    secret = secrets.token_urlsafe(32)
    key = f"{API_KEY_PREFIX}_{_agency_part(agency_id)}_{secret}"
    return ApiKeySecret(
        key=key,
        agency_id=agency_id,
        display_prefix=key[: len(API_KEY_PREFIX) + 28 + 6],
        digest=api_key_digest(key),
    )


def api_key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIX + "_")


def api_key_agency(key: str) -> AgencyId | None:
    """The agency a key claims to belong to; the digest lookup decides whether it does."""
    parts = key.split("_", 2)
    if len(parts) < 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 26:
        return None
    try:
        raw = base64.b32decode(parts[1].upper() + "======")
        return AgencyId(UUID(bytes=raw))
    except (ValueError, TypeError):
        return None
