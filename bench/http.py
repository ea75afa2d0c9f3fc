"""A minimal HTTP/1.1 keep-alive client and /proc readers.

The load generator must cost little CPU on a 2-core machine where it shares the cores
with the server under test and PostgreSQL: this client does one write and a few buffered
reads per request (httpx costs several times more per request, which would show up as
server slowness). Responses must carry Content-Length (uvicorn's JSON responses do).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path


class Client:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):  # the server may close first
                await self.writer.wait_closed()

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            raise RuntimeError("call open() first")
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body or method == "POST":
            head += f"Content-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()) + "\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            if line[:15].lower() == b"content-length:":
                length = int(line.split(b":")[1])
        data = await self.reader.readexactly(length)
        return status, data

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return await self.request("POST", path, body, headers)


async def wait_until_up(port: int, *, seconds: float = 30.0) -> None:
    """Until GET /healthz answers 200 (bounded)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        try:
            c = Client("127.0.0.1", port)
            await c.open()
            status, _ = await c.request("GET", "/healthz")
            await c.close()
            if status == 200:
                return
        except (OSError, ConnectionError, ValueError, IndexError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not come up in {seconds:.0f}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux): steadier than req/s on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) so far, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")
