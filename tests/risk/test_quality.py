"""The quality harness at a small fixed-seed scale, on the real scan and database:
the targets of docs/lapse-detection.md hold, and beat the fixed 14-day rule."""

from __future__ import annotations

from app.db import Database
from bench.lapse_quality import evaluate


async def test_lapse_scan_meets_its_quality_targets(db: Database) -> None:
    report = await evaluate(db, 400, seed=1)
    assert report.population > 300
    assert report.lapsing > 60
    assert report.auc >= 0.90
    # Above the fixed rule: far above it as the flag it is, and above even its most
    # generous form (ranking everyone by days since the last visit).
    assert report.auc >= report.fixed_flag_auc + 0.08
    assert report.auc > report.fixed_auc + 0.01
    assert report.p5 >= report.fixed_p5
    assert report.p10 >= report.fixed_p10
    assert report.p10 >= 0.9
    # Sleepers are recognised as their own case, every one of them.
    assert report.sleepers_found == report.sleepers > 0
