"""HttpGatewayProvider against httpx.MockTransport and a local ASGI receiver."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from app.config import Settings
from app.messaging.providers import (
    HttpGatewayProvider,
    LocalProvider,
    OutgoingMessage,
    ProviderError,
    build_provider,
)
from tests.fixtures.integrations import Receiver


def message(channel: str = "sms", subject: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        id=uuid.uuid4(),
        club_id=uuid.uuid4(),
        member_id=uuid.uuid4(),
        channel=channel,
        template="thank_you",
        to="+79161234567" if channel == "sms" else "maria@example.com",
        subject=subject,
        body="Thank you!",
        attempt=1,
    )


def gateway_settings(**kw: object) -> Settings:
    values: dict[str, object] = {
        "message_provider": "http",
        "sms_gateway_url": "https://sms.example.com/send",
        "sms_gateway_token": "sms-secret",
        "email_gateway_url": "https://mail.example.com/v1/messages",
        "email_gateway_token": "mail-secret",
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


def test_local_is_the_default_provider() -> None:
    client = httpx.AsyncClient()
    assert isinstance(build_provider(Settings(), client), LocalProvider)
    assert isinstance(build_provider(gateway_settings(), client), HttpGatewayProvider)


async def test_sms_goes_to_the_sms_gateway_with_token_payload_and_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"id": "gw-42"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        provider = HttpGatewayProvider(client, gateway_settings())
        msg = message()
        result = await provider.send(msg)
    assert result.provider_message_id == "gw-42"
    (req,) = seen
    assert str(req.url) == "https://sms.example.com/send"
    assert req.headers["authorization"] == "Bearer sms-secret"
    assert req.headers["idempotency-key"] == str(msg.id)
    assert json.loads(req.content) == {
        "id": str(msg.id),
        "channel": "sms",
        "to": "+79161234567",
        "body": "Thank you!",
        "template": "thank_you",
    }


async def test_payload_fields_and_auth_header_come_from_settings() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"message_id": 7})

    settings = gateway_settings(
        gateway_auth_header="X-Api-Key",
        gateway_auth_scheme="",
        gateway_payload_fields={"to": "recipient", "body": "text"},
        gateway_response_id_field="message_id",
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = await HttpGatewayProvider(client, settings).send(message("email", "Welcome"))
    (req,) = seen
    assert str(req.url) == "https://mail.example.com/v1/messages"
    assert req.headers["x-api-key"] == "mail-secret"
    assert "authorization" not in req.headers
    body = json.loads(req.content)
    assert body["recipient"] == "maria@example.com"
    assert body["text"] == "Thank you!"
    assert body["subject"] == "Welcome"
    assert result.provider_message_id == "7"


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (400, False), (422, False)]
)
async def test_gateway_errors_are_retryable_unless_the_message_is_refused(
    status: int, retryable: bool
) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, text="nope"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ProviderError) as err:
            await HttpGatewayProvider(client, gateway_settings()).send(message())
    assert err.value.retryable is retryable
    assert str(status) in str(err.value)


async def test_connection_errors_are_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ProviderError) as err:
            await HttpGatewayProvider(client, gateway_settings()).send(message())
    assert err.value.retryable


async def test_a_missing_gateway_url_is_a_retryable_configuration_error() -> None:
    async with httpx.AsyncClient() as client:
        provider = HttpGatewayProvider(client, gateway_settings(sms_gateway_url=None))
        with pytest.raises(ProviderError, match="no gateway URL"):
            await provider.send(message())


async def test_against_a_local_asgi_gateway() -> None:
    receiver = Receiver(status=201)
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport) as client:
        settings = gateway_settings(sms_gateway_url="http://gateway.local/sms")
        result = await HttpGatewayProvider(client, settings).send(message())
    (got,) = receiver.received
    assert got.path == "/sms"
    assert got.headers["authorization"] == "Bearer sms-secret"
    assert got.json()["to"] == "+79161234567"
    assert result.provider_message_id == "gw-1"
