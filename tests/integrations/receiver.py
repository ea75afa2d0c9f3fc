"""A webhook/SMS-gateway receiver on 127.0.0.1 in its own thread, for process tests.

It verifies signatures like an integrator, and in slow mode it only counts a request it
could finish answering: if the sender disappears meanwhile (killed), the request is
treated as never processed, as a real receiver that answers before committing would.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receipts:
    hooks: list[tuple[str, float]] = field(default_factory=list)  # (Webhook-Id, at)
    sms: list[tuple[str, float]] = field(default_factory=list)  # (message id, at)
    bad_signatures: int = 0
    abandoned: int = 0  # requests whose sender vanished before the answer


class ReceiverApp:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.receipts = Receipts()
        self.secret = ""
        self.delay = 0.0
        self.in_flight = 0

    def snapshot(self) -> Receipts:
        with self.lock:
            r = self.receipts
            return Receipts(list(r.hooks), list(r.sms), r.bad_signatures, r.abandoned)

    def _signed(self, headers: dict[str, str], body: bytes) -> bool:
        msg_id, ts = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        digest = hmac.new(
            self.secret.encode(), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256
        ).digest()
        expected = "v1," + base64.b64encode(digest).decode()
        fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
        return fresh and any(
            hmac.compare_digest(expected, s) for s in headers.get("webhook-signature", "").split()
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self.lock:
            self.in_flight += 1
        try:
            if self.delay:
                try:
                    after = await asyncio.wait_for(receive(), self.delay)
                except TimeoutError:
                    after = None
                if after is not None and after["type"] == "http.disconnect":
                    with self.lock:
                        self.receipts.abandoned += 1
                    return
            status = 200
            with self.lock:
                if scope["path"] == "/hook":
                    if self._signed(headers, body):
                        self.receipts.hooks.append((headers["webhook-id"], time.time()))
                    else:
                        self.receipts.bad_signatures += 1
                        status = 400
                elif scope["path"] == "/sms":
                    self.receipts.sms.append((json.loads(body)["id"], time.time()))
                else:
                    status = 404
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})
        finally:
            with self.lock:
                self.in_flight -= 1


class ReceiverServer:
    """Start/stop (connection refused while stopped) on a fixed port."""

    def __init__(self, app: ReceiverApp, port: int) -> None:
        self.app, self.port = app, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10) -> None:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None
