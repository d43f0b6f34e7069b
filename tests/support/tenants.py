"""An agency with a logged-in admin client, and helpers to add people and keys to it."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from app.agency.service import create_agency
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.ids import AgencyId, UserId
from app.models import Role


def new_client(app: FastAPI, credential: str | None = None) -> AsyncClient:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    return AsyncClient(transport=transport, base_url="http://afterview.test", headers=headers)


def client_from(app: FastAPI, address: str) -> AsyncClient:
    """An anonymous client whose requests come from that client address."""
    transport = ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    return AsyncClient(transport=transport, base_url="http://afterview.test")


def unique_email(label: str) -> str:
    return f"{label}-{secrets.token_hex(4)}@agency-{secrets.token_hex(2)}.example.com"


async def log_in(client: AsyncClient, email: str, password: str) -> Response:
    """The answer to a password log-in (the OAuth2 form) from `client`."""
    return await client.post("/v1/auth/token", data={"username": email, "password": password})


async def login(app: FastAPI, email: str, password: str) -> str:
    """An access token for that person (the log-in must succeed)."""
    async with new_client(app) as client:
        response = await log_in(client, email, password)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@dataclass
class Tenant:
    app: FastAPI
    agency_id: UUID
    admin_id: UUID
    admin_email: str
    admin_password: str
    admin: AsyncClient
    _clients: list[AsyncClient] = field(default_factory=list)

    async def add_user(self, role: str = "consultant", **overrides: Any) -> dict[str, Any]:
        body = {
            "email": unique_email(role),
            "name": f"Test {role.title()}",
            "password": secrets.token_urlsafe(16),
            "role": role,
            **overrides,
        }
        response = await self.admin.post("/v1/users", json=body)
        assert response.status_code == 201, response.text
        return {**response.json(), "password": body["password"]}

    async def client_as(self, user: dict[str, Any]) -> AsyncClient:
        """A client logged in as `user` (as returned by `add_user`)."""
        client = new_client(self.app, await login(self.app, user["email"], user["password"]))
        self._clients.append(client)
        return client

    async def consultant(self) -> AsyncClient:
        return await self.client_as(await self.add_user("consultant"))

    async def api_key(self, scopes: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": "Integration"}
        if scopes is not None:
            body["scopes"] = scopes
        response = await self.admin.post("/v1/api-keys", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def client_with_key(self, key: str) -> AsyncClient:
        client = new_client(self.app, key)
        self._clients.append(client)
        return client

    async def integration(self, scopes: list[str] | None = None) -> AsyncClient:
        """A client with a new API key: unlike a person's short-lived token, it keeps working
        when a test moves the clock by hours or days."""
        return self.client_with_key((await self.api_key(scopes))["key"])

    def admin_principal(self) -> Principal:
        """The admin, as services see them (for calling a service directly)."""
        return Principal.person(AgencyId(self.agency_id), UserId(self.admin_id), Role.admin)

    async def close(self) -> None:
        for client in [self.admin, *self._clients]:
            await client.aclose()


@asynccontextmanager
async def make_tenant(app: FastAPI, clock: Clock, name: str) -> AsyncIterator[Tenant]:
    email, password = unique_email("admin"), secrets.token_urlsafe(16)
    made = await create_agency(app.state.sessions, clock, name, email, password, f"{name} Admin")
    admin = new_client(app, await login(app, email, password))
    tenant = Tenant(app, made.agency_id, made.admin_id, email, password, admin)
    try:
        yield tenant
    finally:
        await tenant.close()
