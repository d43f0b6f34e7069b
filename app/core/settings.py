"""Process settings, read once from the environment."""

from functools import lru_cache
from pathlib import Path

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
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where clients reach this API: the base of signed feedback links.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None, min_length=32, description="Signs access tokens (HS256): 32+ characters."
    )
    token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    demo_email: str | None = None
    demo_password: SecretStr | None = None
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    log_json: bool = False

    @property
    def embedded(self) -> bool:
        return self.database_url is None


@lru_cache
def get_settings() -> Settings:
    return Settings()
