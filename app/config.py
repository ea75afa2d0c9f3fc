"""Settings from CLUB_RENEWAL_* environment variables (and `.env` when present)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLUB_RENEWAL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./club-renewal.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Connections kept open per process (PostgreSQL); as many again may be "
        "opened under bursts but are closed when returned, so size it for the usual "
        "concurrency.",
    )
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
    checkin_batch_max_rows: int = Field(
        default=100_000,
        ge=1,
        description="Most check-ins one `POST /checkins/batch` may carry; more -> 413 "
        "`batch_too_large` and nothing is written.",
    )
    checkin_batch_chunk_rows: int = Field(
        default=5_000,
        ge=100,
        le=100_000,
        description="Check-ins written per statement while ingesting a batch or an import "
        "(memory holds about two chunks).",
    )
    require_if_match: bool = Field(
        default=False,
        description="When true, PATCH/DELETE of contested resources without If-Match gets 428.",
    )
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    idempotency_in_flight_timeout_seconds: int = Field(default=120, ge=1)

    # --- messaging (app/messaging) -------------------------------------------------------
    message_provider: Literal["local", "http"] = Field(
        default="local",
        description="local: record messages only (marked sent); http: POST them to the SMS "
        "and e-mail gateways below.",
    )
    sms_gateway_url: str | None = Field(default=None, max_length=2000)
    sms_gateway_token: SecretStr | None = None
    email_gateway_url: str | None = Field(default=None, max_length=2000)
    email_gateway_token: SecretStr | None = None
    gateway_auth_header: str = Field(
        default="Authorization", description="Header that carries the gateway token."
    )
    gateway_auth_scheme: str = Field(
        default="Bearer",
        description="Prefix of the token in that header ('' sends the bare token).",
    )
    gateway_payload_fields: dict[str, str] = Field(
        default_factory=dict,
        description='Rename fields of the gateway JSON payload, e.g. {"to": "phone", '
        '"body": "text"} (JSON in the environment variable).',
    )
    gateway_response_id_field: str = Field(
        default="id", description="Field of the gateway's JSON response holding its message id."
    )
    gateway_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    messages_interval_seconds: int = Field(
        default=15, ge=1, le=3600, description="How often the `messages` job dispatches."
    )
    message_batch_size: int = Field(default=20, ge=1, le=500)
    message_max_attempts: int = Field(default=5, ge=1, le=50)
    message_retry_base_seconds: float = Field(default=60.0, ge=0.1)
    message_retry_max_seconds: float = Field(default=3600.0, ge=0.1)

    # --- webhooks (app/webhooks) ---------------------------------------------------------
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Allow webhook URLs on loopback/private/link-local addresses "
        "(development and tests only: it opens the door to SSRF).",
    )
    webhooks_interval_seconds: int = Field(
        default=10, ge=1, le=3600, description="How often the `webhooks` job delivers."
    )
    webhook_batch_size: int = Field(
        default=20, ge=1, le=500, description="Deliveries sent concurrently per claim."
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_retry_base_seconds: float = Field(default=30.0, ge=0.1)
    webhook_retry_max_seconds: float = Field(default=3600.0, ge=0.1)
    webhook_retry_window_hours: float = Field(
        default=24.0, gt=0, le=72, description="Retry a delivery for this long, then fail it."
    )
    webhook_disable_after_failures: int = Field(
        default=50,
        ge=1,
        description="Disable a subscription after this many failed attempts in a row.",
    )
    delivery_lease_seconds: float = Field(
        default=60.0,
        ge=1,
        description="A claimed message or delivery whose worker died is retried after this "
        "long; must exceed the HTTP timeouts.",
    )

    # --- events (app/events) -------------------------------------------------------------
    events_retention_days: int = Field(
        default=30,
        ge=2,
        description="Events (and their webhook deliveries) older than this are purged.",
    )

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

    @model_validator(mode="after")
    def _lease_exceeds_timeouts(self) -> Self:
        longest = max(self.webhook_timeout_seconds, self.gateway_timeout_seconds)
        if self.delivery_lease_seconds <= longest + 1:
            raise ValueError("delivery_lease_seconds must exceed the HTTP timeouts by over 1 s")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
