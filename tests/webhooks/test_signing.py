"""The signature scheme, checked the way an integrator would compute it."""

from __future__ import annotations

import base64
import hashlib
import hmac

from app.webhooks import signing


def test_secrets_are_prefixed_random_and_long() -> None:
    a, b = signing.new_secret(), signing.new_secret()
    assert a.startswith("whsec_")
    assert a != b
    assert len(a) >= 40


def test_signature_is_v1_base64_hmac_sha256_of_id_timestamp_body() -> None:
    secret, body = "whsec_test", b'{"id":"e1","type":"meeting.booked"}'
    expected = base64.b64encode(
        hmac.new(secret.encode(), b"e1.1700000000." + body, hashlib.sha256).digest()
    ).decode()
    assert signing.sign(secret, "e1", 1700000000, body) == "v1," + expected


def test_verify_accepts_a_valid_delivery_and_rejects_tampering() -> None:
    body = b'{"a":1}'
    headers = signing.headers("whsec_k", "e1", 1000, body)
    assert signing.verify("whsec_k", headers, body, now=1010)
    assert not signing.verify("whsec_k", headers, b'{"a":2}', now=1010)
    assert not signing.verify("whsec_other", headers, body, now=1010)
    assert not signing.verify("whsec_k", {**headers, "Webhook-Id": "e2"}, body, now=1010)


def test_verify_refuses_stale_timestamps() -> None:
    body = b"{}"
    headers = signing.headers("whsec_k", "e1", 1000, body)
    assert not signing.verify("whsec_k", headers, body, now=1000 + 301)


def test_verify_accepts_any_of_several_signatures() -> None:
    body = b"{}"
    headers = signing.headers("whsec_new", "e1", 1000, body)
    headers["Webhook-Signature"] = "v1,bogus " + headers["Webhook-Signature"]
    assert signing.verify("whsec_new", headers, body, now=1000)
