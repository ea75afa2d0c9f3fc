"""Sampling profiles of the API process while it is under load (py-spy, optional).

`python -m bench --profile DIR` records one collapsed-stack file per phase in DIR
(open them with speedscope or inferno/flamegraph.pl) and prints where the time went.
py-spy comes with the `bench` extra; without it, `--profile` says so and the run goes on.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def recording(pid: int, out: Path | None, rate: int = 250) -> Iterator[None]:
    """Sample `pid` for the duration of the block (py-spy stops on SIGINT and writes)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if out is None or not Path(exe).exists():
        yield
        return
    cmd = [exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw"]
    cmd += ["--output", str(out), "--nonblocking"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _name(frame: str) -> str:
    # py-spy raw frames: "function (path/to/file.py:line)"
    func, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    root = str(Path(__file__).resolve().parents[1]) + "/"
    if path.startswith(root):
        return f"{path[len(root) :]}:{func}"
    for marker in ("/site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{func}"


def summarize(path: Path, top: int = 12) -> list[str]:
    """Top inclusive and self frames of a collapsed-stack file, as printable lines."""
    if not path.exists():
        return [f"(no profile at {path})"]
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_name(f) for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    if not total:
        return ["(empty profile)"]
    lines = [f"{total} samples; inclusive (app and libraries):"]
    interesting = [
        (f, n)
        for f, n in inclusive.most_common()
        if not f.startswith(("asyncio/", "uvloop", "<frozen", "threading", "runpy"))
    ]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in interesting[:top]]
    lines.append("self:")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return lines
