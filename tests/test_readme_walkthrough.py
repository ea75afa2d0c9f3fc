"""The README's Walkthrough, run as written against a real `club-renewal serve --demo`.

Every fenced bash block of the section runs, in order, in one bash process (so variables
carry from block to block) with BASE and TOKEN set as the section tells the reader to set
them. A block preceded by `<!-- walkthrough: ... -->` is the one that starts the server:
this test starts it itself, the same way.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.live_server import live_server

README = Path(__file__).resolve().parent.parent / "README.md"
SKIP_MARK = "<!-- walkthrough:"
BLOCK = re.compile(r"(<!-- walkthrough:[^\n]*-->\n)?```bash\n(.*?)```", re.S)


def walkthrough_blocks() -> tuple[list[str], list[str]]:
    """(blocks to run, blocks the test replaces) of README's Walkthrough section."""
    text = README.read_text()
    start = text.index("\n## Walkthrough\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else None]
    run, skipped = [], []
    for mark, body in BLOCK.findall(section):
        (skipped if mark else run).append(body)
    return run, skipped


def test_the_walkthrough_has_blocks_and_starts_the_server_as_the_test_does() -> None:
    run, skipped = walkthrough_blocks()
    assert len(run) >= 5
    assert len(skipped) == 1
    assert "club-renewal serve --demo" in skipped[0]
    assert "TOKEN=" in skipped[0]


@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("jq") is None, reason="needs curl and jq"
)
def test_every_walkthrough_block_succeeds_against_a_demo_server(tmp_path: Path) -> None:
    blocks, _ = walkthrough_blocks()
    with live_server(tmp_path, "--demo") as server:
        token = server.output_lines()[-1]
        assert token.startswith("crk_")
        script = ["set -euo pipefail"]
        for i, block in enumerate(blocks):
            script += [f"echo '::block {i}' >&2", block]
        result = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            env=os.environ | {"BASE": server.base_url, "TOKEN": token},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    ran = re.findall(r"::block (\d+)", result.stderr)
    failed = int(ran[-1]) if ran else 0
    assert result.returncode == 0, (
        f"README walkthrough block {failed} failed (exit {result.returncode}):\n"
        f"{blocks[failed]}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    assert len(ran) == len(blocks)
    # The last block renewed: its answer is a new membership that renews the old one.
    assert '"renews_id"' in result.stdout
