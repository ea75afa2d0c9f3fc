"""Lapse-scan quality: generated histories with a known answer, scored by the real scan.

    python -m bench.lapse_quality                       # SQLite in a temp dir, 5,000 members
    python -m bench.lapse_quality --members 20000 --seed 7 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

The members (bench/lapse_histories.py) are loaded into a freshly migrated database
(plans, memberships with renewal chains, freezes, check-ins), the real `lapse_scan`
code runs once, and its call list is compared with who really lapsed:

- AUC: the chance that a random member who is lapsing ranks above one who is not.
- precision@5% / @10%: of the first 5% / 10% of the call list, how many are lapsing.

Next to it, on the same members, the fixed rule every commercial system uses: "no visit
for 14 days" (ranked by days since the last visit, its most generous form; the binary
flag is reported too). Suppressed members are off our call list (ranked last); the
fixed rule knows no suppression. Sleepers (almost no visit in the last 8 weeks) are
their own case for both methods: excluded from the call-list metrics and reported
apart.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.timezones import local_to_utc
from app.db import Database, create_engine, make_sessionmaker
from app.migrate import upgrade
from app.models import Checkin, Club, Freeze, Member, Membership, Plan, RiskAssessment
from app.risk.jobs import run_scan
from app.risk.scoring import SLEEPER_DAYS, Segment
from bench.lapse_histories import SyntheticMember, generate

TZ = "Europe/Berlin"  # a DST zone: the 26-week window crosses a clock change
TODAY = date(2026, 4, 14)  # two weeks after the spring change
FIXED_RULE_DAYS = 14
INSERT_CHUNK = 5000


async def load(
    db: Database, members: Sequence[SyntheticMember], *, tz: str = TZ, analyze: bool = False
) -> tuple[uuid.UUID, dict[uuid.UUID, SyntheticMember]]:
    """One club with `members`, their memberships (renewal chains), freezes and visits.
    `analyze`: refresh planner statistics afterwards, as autovacuum would in production
    (on a database whose tables were just bulk-loaded the planner has none)."""
    club_id = uuid.uuid4()
    plan_id = uuid.uuid4()
    now = datetime.now(UTC)
    by_id: dict[uuid.UUID, SyntheticMember] = {}
    member_rows: list[dict[str, Any]] = []
    membership_rows: list[dict[str, Any]] = []
    freeze_rows: list[dict[str, Any]] = []
    checkin_rows: list[dict[str, Any]] = []
    for m in members:
        member_id = uuid.uuid4()
        by_id[member_id] = m
        member_rows.append(
            {
                "id": member_id,
                "club_id": club_id,
                "first_name": "Synthetic",
                "last_name": f"Member {m.index}",
                "phone": f"+4915{m.index:09d}",
                "preferred_channel": "call",
                "interests": [],
                "personal_dates": [],
                "do_not_contact": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        live_id, prev_id = uuid.uuid4(), None
        if m.membership_start > m.tenure_start:
            prev_id = uuid.uuid4()
            membership_rows.append(
                _membership(
                    prev_id,
                    club_id,
                    member_id,
                    plan_id,
                    m.tenure_start,
                    m.membership_start - timedelta(days=1),
                    None,
                    now,
                )
            )
        membership_rows.append(
            _membership(
                live_id, club_id, member_id, plan_id, m.membership_start, m.end_date, prev_id, now
            )
        )
        for start, end in m.freezes:
            owner = live_id if start >= m.membership_start or prev_id is None else prev_id
            freeze_rows.append(
                {
                    "id": uuid.uuid4(),
                    "club_id": club_id,
                    "membership_id": owner,
                    "start_date": start,
                    "end_date": end,
                    "reason": "travel",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        checkin_rows.extend(
            {
                "club_id": club_id,
                "member_id": member_id,
                "checked_in_at": at,
                "source": "turnstile",
                "created_at": now,
            }
            for at in m.visits
        )
    async with db.session_scope() as s:
        s.add(
            Club(
                id=club_id,
                name="Synthetic Club",
                timezone=tz,
                currency="EUR",
                opening_hours={},
                quiet_hours_start=datetime.min.time().replace(hour=9),
                quiet_hours_end=datetime.min.time().replace(hour=21),
                contact_policy={},
                meeting_settings={},
            )
        )
        await s.flush()
        s.add(
            Plan(
                id=plan_id,
                club_id=club_id,
                name="12 months",
                duration_months=12,
                price=60000,
                currency="EUR",
                renewal_target_ids=[],
            )
        )
        await s.flush()
        for table, rows in (
            (Member, member_rows),
            (Membership, [r for r in membership_rows if r["renews_id"] is None]),
            (Membership, [r for r in membership_rows if r["renews_id"] is not None]),
            (Freeze, freeze_rows),
            (Checkin, checkin_rows),
        ):
            for i in range(0, len(rows), INSERT_CHUNK):
                await s.execute(insert(table), rows[i : i + INSERT_CHUNK])
    if analyze:
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()
    return club_id, by_id


def _membership(
    id_: uuid.UUID,
    club_id: uuid.UUID,
    member_id: uuid.UUID,
    plan_id: uuid.UUID,
    start: date,
    end: date,
    renews: uuid.UUID | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": id_,
        "club_id": club_id,
        "member_id": member_id,
        "plan_id": plan_id,
        "start_date": start,
        "base_end_date": end,
        "end_date": end,
        "frozen_days": 0,
        "bonus_days": 0,
        "list_price": 60000,
        "price_paid": 60000,
        "currency": "EUR",
        "source": "new" if renews is None else "renewal",
        "renews_id": renews,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True)
class Scored:
    member: SyntheticMember
    ours: float  # call-list rank key: the score, or -1 when off the call list
    fixed_days: int  # days since the last visit (the fixed rule's ranking)
    level: str
    segment: str
    suppressed: str | None


def is_sleeper_truth(m: SyntheticMember, today: date, tz: str) -> bool:
    """Sleeper by the data itself: at most one visit in the last 8 unfrozen weeks."""
    from zoneinfo import ZoneInfo

    first = today - timedelta(days=SLEEPER_DAYS - 1)
    if m.tenure_start > first or any(b >= first and a <= today for a, b in m.freezes):
        return False
    zone = ZoneInfo(tz)
    return sum(1 for v in m.visits if v.astimezone(zone).date() >= first) <= 1


def auc(pairs: Sequence[tuple[float, bool]]) -> float:
    """Mann-Whitney AUC with ties counted as half."""
    ranked = sorted(pairs, key=lambda p: p[0])
    ranks = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        for k in range(i, j):
            ranks[k] = (i + j + 1) / 2
        i = j
    pos = sum(1 for _, t in ranked if t)
    neg = len(ranked) - pos
    if pos == 0 or neg == 0:
        return math.nan
    rank_sum = sum(r for r, (_, t) in zip(ranks, ranked, strict=True) if t)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def precision_at(pairs: Sequence[tuple[float, bool]], share: float) -> float:
    k = max(1, round(len(pairs) * share))
    top = sorted(pairs, key=lambda p: -p[0])[:k]
    return sum(1 for _, t in top if t) / k


@dataclass(frozen=True)
class Report:
    members: int
    checkins: int
    population: int
    lapsing: int
    sleepers: int
    sleepers_found: int
    sleepers_in_fixed_top10: int
    auc: float
    p5: float
    p10: float
    fixed_auc: float
    fixed_p5: float
    fixed_p10: float
    fixed_flag_auc: float
    fixed_flag_precision: float
    fixed_flag_recall: float
    scan_seconds: float
    levels: dict[str, Counter[str]]

    def lines(self) -> list[str]:
        def row(name: str, a: float, p5: float, p10: float) -> str:
            return f"  {name:<34} AUC {a:.3f}   precision@5% {p5:.3f}   precision@10% {p10:.3f}"

        out = [
            f"members {self.members:,}, check-ins {self.checkins:,}, scan {self.scan_seconds:.2f}s",
            f"call-list population {self.population:,} ({self.lapsing:,} really lapsing); "
            f"sleepers apart: {self.sleepers:,}",
            row("lapse scan (own habit)", self.auc, self.p5, self.p10),
            row("fixed rule, days since visit", self.fixed_auc, self.fixed_p5, self.fixed_p10),
            f"  fixed rule as a flag (>= {FIXED_RULE_DAYS} days): AUC {self.fixed_flag_auc:.3f}, "
            f"precision {self.fixed_flag_precision:.3f}, recall {self.fixed_flag_recall:.3f}",
            f"  sleepers segmented as sleeper: {self.sleepers_found}/{self.sleepers}; "
            f"sleepers in the fixed rule's top 10%: {self.sleepers_in_fixed_top10}",
            "  levels by kind (ours):",
        ]
        for kind, levels in sorted(self.levels.items()):
            out.append(
                f"    {kind:<12} " + ", ".join(f"{k} {v}" for k, v in sorted(levels.items()))
            )
        return out


async def evaluate(
    db: Database, n: int, *, seed: int, today: date = TODAY, tz: str = TZ, analyze: bool = False
) -> Report:
    members = generate(n, seed=seed, today=today, tz=tz)
    club_id, by_id = await load(db, members, tz=tz, analyze=analyze)
    as_of = local_to_utc(tz, today, datetime.min.time().replace(hour=5))
    started = time.perf_counter()
    await run_scan(db, as_of, club_id=club_id)
    elapsed = time.perf_counter() - started
    async with db.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(RiskAssessment).where(
                    RiskAssessment.club_id == club_id, RiskAssessment.scan_date == today
                )
            )
        ).all()
    rows = sorted(rows, key=lambda r: by_id[r.member_id].index)  # ties: a fixed order
    scored: list[Scored] = []
    levels: dict[str, Counter[str]] = {}
    for r in rows:
        m = by_id[r.member_id]
        on_list = r.suppressed is None and r.segment == Segment.ACTIVE.value
        fixed = (
            r.tenure_days
            if r.last_visit_at is None
            else (today - r.last_visit_at.astimezone(_zone(tz)).date()).days
        )
        scored.append(
            Scored(m, r.score if on_list else -1, fixed, r.level, r.segment, r.suppressed)
        )
        label = r.level if r.suppressed is None else f"{r.level}/{r.suppressed}"
        if r.segment == Segment.SLEEPER.value:
            label = "sleeper"
        levels.setdefault(m.kind, Counter())[label] += 1
    sleepers = [x for x in scored if is_sleeper_truth(x.member, today, tz)]
    sleeper_ids = {id(x) for x in sleepers}
    population = [x for x in scored if id(x) not in sleeper_ids]
    ours = [(x.ours, _lapsing(x.member)) for x in population]
    fixed = [(float(x.fixed_days), _lapsing(x.member)) for x in population]
    flag = [
        (1.0 if x.fixed_days >= FIXED_RULE_DAYS else 0.0, _lapsing(x.member)) for x in population
    ]
    flagged = [t for s, t in flag if s]
    lapsing = sum(1 for _, t in ours if t)
    everyone = [(float(x.fixed_days), id(x) in sleeper_ids) for x in scored]
    top10 = sorted(everyone, key=lambda p: -p[0])[: max(1, round(len(everyone) * 0.10))]
    return Report(
        members=n,
        checkins=sum(len(m.visits) for m in members),
        population=len(population),
        lapsing=lapsing,
        sleepers=len(sleepers),
        sleepers_found=sum(1 for x in sleepers if x.segment == Segment.SLEEPER.value),
        sleepers_in_fixed_top10=sum(1 for _, s in top10 if s),
        auc=auc(ours),
        p5=precision_at(ours, 0.05),
        p10=precision_at(ours, 0.10),
        fixed_auc=auc(fixed),
        fixed_p5=precision_at(fixed, 0.05),
        fixed_p10=precision_at(fixed, 0.10),
        fixed_flag_auc=auc(flag),
        fixed_flag_precision=sum(flagged) / max(1, len(flagged)),
        fixed_flag_recall=sum(flagged) / max(1, lapsing),
        scan_seconds=elapsed,
        levels=levels,
    )


def _lapsing(m: SyntheticMember) -> bool:
    # A generated sleeper who still came twice in 8 weeks is not a sleeper by the data;
    # they stopped months ago, so they count as lapsing.
    return True if m.truth is None else m.truth


def _zone(tz: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(tz)


async def _main(args: argparse.Namespace) -> None:
    if args.database_url and args.database_url.startswith("postgresql"):
        base = make_url(args.database_url)
        name = f"lapse_quality_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
        try:
            await _run(url, args)
        finally:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.dispose()
        return
    with tempfile.TemporaryDirectory(prefix="lapse-quality-") as tmp:
        await _run(args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'q.db'}", args)


async def _run(url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        db = Database(engine=engine, sessionmaker=make_sessionmaker(engine))
        report = await evaluate(db, args.members, seed=args.seed, analyze=True)
        print(
            f"lapse-scan quality on {engine.dialect.name}, seed {args.seed}, as of {TODAY} ({TZ})"
        )
        for line in report.lines():
            print(line)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=None,
        help="A PostgreSQL server URL (a throwaway database is created on it) or a "
        "SQLite URL; default: SQLite in a temporary directory.",
    )
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
