"""Child processes of a benchmark run: the API server (uvicorn, one worker) and the load
generator. Everything binds to and talks to 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from bench.http import peak_rss_mb, wait_until_up

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Popen returns at once (fork/exec); the server is awaited over HTTP afterwards.
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


class Server:
    """`uvicorn <app> --factory` in a subprocess (one worker, scheduler off)."""

    def __init__(
        self,
        url: URL,
        app: str = "app.main:create_app",
        *,
        factory: bool = True,
        env: dict[str, str] | None = None,
    ):
        self.url, self.app, self.factory = url, app, factory
        self.extra_env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> Server:
        env = {
            **os.environ,
            "CLUB_RENEWAL_DATABASE_URL": self.url.render_as_string(hide_password=False),
            "CLUB_RENEWAL_SCHEDULER": "off",
            "CLUB_RENEWAL_LOG_LEVEL": "WARNING",
            "CLUB_RENEWAL_SECRET_KEY": "bench-signing-key",
            **self.extra_env,
        }
        cmd = [sys.executable, "-m", "uvicorn", self.app, "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        if self.factory:
            cmd.append("--factory")
        self.proc = _spawn(cmd, env)
        try:
            await wait_until_up(self.port)
        except BaseException:
            self._stop()
            raise
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.pid)

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    async def __aexit__(self, *exc: object) -> None:
        self._stop()


async def run_json(module: str, spec: dict[str, Any], *, limit_s: float = 900) -> dict[str, Any]:
    """Run `python -m module SPEC` in a child process; its last stdout line is JSON."""
    fd, path = tempfile.mkstemp(prefix="crbench-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(spec, f)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, path, cwd=ROOT, stdout=subprocess.PIPE
        )
        try:
            async with asyncio.timeout(limit_s):
                out, _ = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0:
            raise RuntimeError(f"{module} exited with {proc.returncode}")
        result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        return result
    finally:
        os.unlink(path)
