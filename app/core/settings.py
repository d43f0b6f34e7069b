"""Process settings, read once from the environment."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the process can be told from outside. Nothing here is per agency."""

    model_config = SettingsConfigDict(env_prefix="AFTERVIEW_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "AFTERVIEW_DATABASE_URL"),
        description="Runtime connection (the application role). Unset: embedded Postgres.",
    )
    database_owner_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_OWNER_URL", "AFTERVIEW_DATABASE_OWNER_URL"),
        description="Owner connection that migrations use.",
    )
    data_dir: Path = Path(".afterview")
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where people reach this service: the base of links sent to them (feedback "
        "form). Unset: the address `serve` listens on.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None, min_length=32, description="Signs access tokens (HS256): 32+ characters."
    )
    token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    demo_email: str | None = Field(
        default=None, description="The demo admin's email (default admin@demo-agency.example.com)."
    )
    demo_password: SecretStr | None = Field(
        default=None, description="The demo admin's password (default: made up, printed once)."
    )
    demo_data: bool = Field(
        default=True,
        description="Seed the demo agency's records on the first embedded start (false: only "
        "its admin).",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    log_json: bool | Literal["auto"] = Field(
        default="auto",
        description="JSON log lines (`true`), readable ones (`false`), or `auto`: readable in a "
        "terminal, JSON otherwise (files, pipes, containers).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="When set, `GET /metrics` requires `Authorization: Bearer <token>`. Unset: "
        "it is open, so keep the service's port on a private network.",
    )

    # Delivery (the worker)
    smtp_url: SecretStr | None = Field(
        default=None,
        description="`smtp://user:pass@host:587?starttls=true` or `smtps://…`. Unset: `.eml` "
        "files in `mailbox_dir`.",
    )
    mailbox_dir: Path | None = Field(
        default=None, description="Where `.eml` files go without SMTP (embedded: data dir)."
    )
    mail_from: str | None = Field(
        default=None,
        max_length=320,
        description="Sender (`Name <address>` or an address) when an agency has no sender_email.",
    )
    mail_max_attempts: int = Field(default=8, ge=1, le=50)
    mail_retry_base_seconds: float = Field(
        default=600,
        gt=0,
        le=86_400,
        description="First retry delay; each next one doubles (with jitter): 8 attempts span "
        "about a day.",
    )
    worker_poll_seconds: float = Field(default=5, gt=0, le=300)
    worker_lease_seconds: int = Field(
        default=300, ge=1, le=86_400, description="A claimed message returns after this long."
    )
    worker_concurrency: int = Field(default=8, ge=1, le=256)
    worker_batch_size: int = Field(default=100, ge=1, le=10_000)
    webhook_retry_schedule: str = Field(
        default="5s,5m,30m,2h,5h,10h,10h",
        pattern=r"^\s*\d+[smhd]\s*(,\s*\d+[smhd]\s*)*$",
        description="Delays between webhook attempts (`s`, `m`, `h`, `d`): one retry each.",
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="Allow webhook URLs on loopback, private and link-local addresses (and "
        "plain http): for development only.",
    )
    event_retention_days: int = Field(
        default=30,
        ge=30,
        le=3650,
        description="The event feed serves this many days; older snapshots are emptied.",
    )
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins whose browser front-ends may call the API "
        "(`https://app.example.com`); none by default.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Count the request quota and failed logins in this Redis "
        "(`redis://host:6379/0`) instead of PostgreSQL.",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=1, le=1_000_000, description="Requests per API key or user per minute."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        description="Larger request bodies are refused (413) before they are read.",
    )
    run_worker: bool = Field(
        default=False, description="The API process also runs a worker (`serve --worker`)."
    )

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def webhook_retry_delays(self) -> tuple[timedelta, ...]:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
        steps = [step.strip() for step in self.webhook_retry_schedule.split(",")]
        return tuple(timedelta(seconds=int(step[:-1]) * unit[step[-1]]) for step in steps)


@lru_cache
def get_settings() -> Settings:
    return Settings()
