"""Settings from CLUB_RENEWAL_* environment variables (and `.env` when present)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLUB_RENEWAL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./club-renewal.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_echo: bool = False

    environment: Literal["development", "production", "test"] = "development"
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    scheduler: Literal["embedded", "off"] = Field(
        default="embedded",
        description="embedded: run recurring jobs inside the API process; off: run them in "
        "a separate `club-renewal worker`.",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs pagination cursors. When unset, a random key is generated "
        "once and kept in the database so that every replica shares it.",
    )

    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    batch_max_body_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="Body limit for `/batch` upload endpoints."
    )
    require_if_match: bool = Field(
        default=False,
        description="When true, PATCH/DELETE of contested resources without If-Match gets 428.",
    )
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    idempotency_in_flight_timeout_seconds: int = Field(default=120, ge=1)

    webhook_allow_private_targets: bool = False

    auth_failures_per_minute: int = Field(
        default=20,
        ge=1,
        description="Failed authentications per client address per minute "
        "before 429 (per process).",
    )
    expensive_requests_per_minute: int = Field(
        default=30,
        ge=1,
        description="Calls per token per minute to expensive endpoints "
        "(job runs, exports, bulk uploads) before 429 (per process).",
    )

    cors_origins: list[str] = Field(default_factory=list)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
