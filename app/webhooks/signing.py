"""Delivery signatures: `Webhook-Signature: v1,<base64 HMAC-SHA256>`.

The signed content is `f"{webhook_id}.{timestamp}.{body}"` (the raw body bytes), and
the HMAC key is the subscription's secret exactly as shown at creation (UTF-8). Several
signatures may be sent space-separated (for key rotation); a receiver accepts any.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Webhook-Id": webhook_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": sign(secret, webhook_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does (header names case-insensitive): recompute and compare in
    constant time, and refuse stale timestamps (replays)."""
    lower = {k.lower(): v for k, v in headers.items()}
    webhook_id = lower.get("webhook-id")
    ts = lower.get("webhook-timestamp", "")
    if not webhook_id or not ts.isdigit() or abs(now - int(ts)) > tolerance:
        return False
    expected = sign(secret, webhook_id, int(ts), body)
    return any(
        hmac.compare_digest(expected, candidate)
        for candidate in lower.get("webhook-signature", "").split()
    )
