"""Message providers: where a claimed message is actually sent.

`LocalProvider` (the default) records messages only: the outbox row is the record and
it is marked sent. `HttpGatewayProvider` POSTs JSON to an SMS or e-mail gateway over
the process's shared `httpx.AsyncClient`, with the gateway's token, a per-request
timeout and the message id as `Idempotency-Key` so a gateway can drop a retried send.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import structlog

from app.config import Settings

log = structlog.get_logger(__name__)

# 4xx answers worth retrying; any other 4xx means the message itself is refused.
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class OutgoingMessage:
    id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    channel: str
    template: str
    to: str
    subject: str | None
    body: str
    attempt: int


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None


class ProviderError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class MessageProvider(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> SendResult: ...


class LocalProvider:
    """Records only: nothing leaves the process; the outbox row is the record."""

    name = "local"

    async def send(self, message: OutgoingMessage) -> SendResult:
        log.info(
            "message_recorded",
            message_id=str(message.id),
            channel=message.channel,
            template=message.template,
        )
        return SendResult(provider_message_id=f"local-{message.id}")


class HttpGatewayProvider:
    name = "http"

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    def _target(self, channel: str) -> tuple[str | None, str | None]:
        s = self._settings
        if channel == "sms":
            token = s.sms_gateway_token
            return s.sms_gateway_url, token.get_secret_value() if token else None
        token = s.email_gateway_token
        return s.email_gateway_url, token.get_secret_value() if token else None

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(message.id),
            "channel": message.channel,
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "template": message.template,
        }
        if message.subject is None:
            body.pop("subject")
        renames = self._settings.gateway_payload_fields
        return {renames.get(k, k): v for k, v in body.items()}

    async def send(self, message: OutgoingMessage) -> SendResult:
        url, token = self._target(message.channel)
        if not url:
            raise ProviderError(f"no gateway URL configured for {message.channel}", retryable=True)
        headers = {"Idempotency-Key": str(message.id)}
        if token:
            scheme = self._settings.gateway_auth_scheme
            headers[self._settings.gateway_auth_header] = f"{scheme} {token}" if scheme else token
        try:
            response = await self._client.post(
                url,
                json=self.payload(message),
                headers=headers,
                timeout=self._settings.gateway_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"{type(exc).__name__}: {exc}"[:500], retryable=True) from exc
        if response.is_success:
            return SendResult(provider_message_id=self._message_id(response))
        retryable = response.status_code >= 500 or response.status_code in _RETRYABLE_4XX
        raise ProviderError(
            f"gateway answered {response.status_code}: {response.text[:300]}",
            retryable=retryable,
        )

    def _message_id(self, response: httpx.Response) -> str | None:
        try:
            data = response.json()
        except ValueError:
            return None
        if isinstance(data, dict):
            value = data.get(self._settings.gateway_response_id_field)
            return str(value)[:200] if value is not None else None
        return None


def build_provider(settings: Settings, client: httpx.AsyncClient) -> MessageProvider:
    if settings.message_provider == "http":
        return HttpGatewayProvider(client, settings)
    return LocalProvider()
