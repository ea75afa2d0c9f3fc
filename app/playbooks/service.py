"""Playbooks: each club's touchpoint plan, and turning its due steps into calls,
messages and tasks (DESIGN §1.1, §1.4, §2 Playbook, §5).

**The plan.** One playbook per club, seeded lazily with `defaults.DEFAULT_STEPS` the
first time it is read, replaced or materialised. `PUT` replaces every step under
`If-Match` (the playbook's `version`), after checking the whole plan at once.

**Materialising.** For a club and one of its enabled steps, on the club's local
`today`: a step is due for a trigger date T when today is within
[T + offset_days, T + offset_days + window_days], i.e. T in [today - offset - window,
today - offset]. The trigger queries find those T set-wise in bounded ranges
(`repository`), leaving out what already has an effect. Each (member, step, anchor) is
claimed by inserting its `playbook_effects` row with ON CONFLICT DO NOTHING: the unique
key makes a rerun, or a second replica at the same moment, claim nothing twice, and
only the claimant creates the call, message or task, in the same transaction.

- Calls go through `call_service.open_or_merge` (the one open call per member; the
  contact policy): due from the window's first local day to the end of its last one.
  A refusal (`ContactNotAllowed`) makes the effect `skipped` with the policy's reason.
- Messages go through `messaging_service.queue_many` (dedupe key = the effect's key);
  the contact policy decides there, and a suppressed message's effect is `skipped`.
- Tasks are the effect itself: `open` until staff complete it.

**Call priority** = step priority + round(risk score / 5) + round(10 x lifetime value /
the club's highest lifetime value), capped at 100. The risk score (0-100, the member's
assessment on the club's latest scan day, 0 if none) adds up to 20; member value up to
10, so a step's own priority still dominates and a valuable, slipping member comes
first among calls of the same step.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Principal
from app.core.clock import utcnow
from app.core.etags import check_if_match
from app.core.ids import new_id
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date, local_midnight_utc
from app.errors import Conflict, NotFound, RuleViolation
from app.messaging.service import Recipient, messaging_service
from app.messaging.templates import TEMPLATES
from app.models import Club, Member, Playbook, PlaybookEffect, PlaybookStep
from app.models.outreach import CallKind, StepAction, Trigger
from app.outreach.service import ContactNotAllowed, call_service
from app.outreach.service import reason as call_reason
from app.playbooks import repository
from app.playbooks.defaults import DEFAULT_STEPS
from app.playbooks.schemas import MAX_MONTHLY_OFFSET_DAYS, PlaybookWrite, StepWrite, TaskStatus
from app.policy.contact import Category

log = structlog.get_logger(__name__)

CHUNK = 200
RISK_WEIGHT = 0.2  # score 0-100 -> up to +20
VALUE_POINTS = 10  # the club's most valuable member -> +10
STEP_FIELDS = (
    "key",
    "trigger",
    "offset_days",
    "window_days",
    "action",
    "call_kind",
    "template",
    "category",
    "title",
    "priority",
    "enabled",
    "risk_levels",
)
COUNT_KEYS = (
    "calls_created",
    "calls_merged",
    "messages_queued",
    "tasks_created",
    "skipped",
)


@dataclass(frozen=True)
class Step:
    """A step, detached from its session (the job works in several transactions)."""

    key: str
    trigger: str
    offset_days: int
    window_days: int
    action: str
    call_kind: str | None
    template: str | None
    category: str
    title: str | None
    priority: int
    risk_levels: tuple[str, ...] | None

    @classmethod
    def of(cls, row: PlaybookStep) -> Step:
        return cls(
            key=row.key,
            trigger=row.trigger,
            offset_days=row.offset_days,
            window_days=row.window_days,
            action=row.action,
            call_kind=row.call_kind,
            template=row.template,
            category=row.category,
            title=row.title,
            priority=row.priority,
            risk_levels=tuple(row.risk_levels) if row.risk_levels else None,
        )

    @property
    def label(self) -> str:
        return self.title or self.key.replace("_", " ")

    def trigger_range(self, today: date) -> tuple[date, date]:
        """Trigger dates T for which today is inside [T + offset, T + offset + window]."""
        hi = today - timedelta(days=self.offset_days)
        return hi - timedelta(days=self.window_days), hi


@dataclass(frozen=True)
class ClubDay:
    club_id: uuid.UUID
    timezone: str
    today: date


@dataclass(frozen=True)
class Due:
    """One (member, step, anchor) whose step is due today."""

    member_id: uuid.UUID
    membership_id: uuid.UUID | None
    anchor: str
    trigger_on: date
    score: int | None = None


@dataclass
class Chunk:
    """What one transaction of the job did for one step."""

    found: int = 0
    claimed: int = 0
    counts: Counter[str] = field(default_factory=Counter)


def _ago(days: int) -> str:
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def _in_days(days: int) -> str:
    if days <= 0:
        return "today"
    return "tomorrow" if days == 1 else f"in {days} days"


def _month_days(start: date, end: date) -> set[int]:
    """month * 100 + day of every date in [start, end]; a 29 February birthday falls on
    28 February in other years."""
    out: set[int] = set()
    day = start
    while day <= end:
        out.add(day.month * 100 + day.day)
        if day.month == 2 and day.day == 28 and (day + timedelta(days=1)).month == 3:
            out.add(229)
        day += timedelta(days=1)
    return out


def _birthday_in(birth: date, year: int) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def effect_key(member_id: uuid.UUID, step_key: str, anchor: str) -> str:
    """The effect's natural key as a message dedupe key (at most 200 characters)."""
    return f"playbook:{member_id.hex}:{step_key}:{anchor}"[:200]


class PlaybookService:
    # ------------------------------------------------------------------- the plan

    async def ensure(self, session: AsyncSession, club_id: uuid.UUID) -> Playbook:
        """The club's playbook, seeded with the defaults if it has none yet. Two first
        readers racing both try; the primary key lets one win, the other reads it."""
        playbook = await repository.get_playbook(session, club_id)
        if playbook is not None:
            return playbook
        now = utcnow()
        try:
            async with session.begin_nested():
                playbook = Playbook(club_id=club_id, created_at=now, updated_at=now)
                repository.add(session, playbook)
                await session.flush()
                repository.add(
                    session,
                    *(
                        PlaybookStep(club_id=club_id, position=i, **step)
                        for i, step in enumerate(DEFAULT_STEPS)
                    ),
                )
                await session.flush()
        except IntegrityError:
            playbook = await repository.get_playbook(session, club_id)
            if playbook is None:
                raise
        return playbook

    async def get(self, session: AsyncSession, club: Club) -> tuple[Playbook, list[PlaybookStep]]:
        """The club was loaded and authorised by `ClubDep`."""
        playbook = await self.ensure(session, club.id)
        return playbook, await repository.steps(session, club.id)

    async def replace(
        self,
        session: AsyncSession,
        actor: Principal,
        club: Club,
        data: PlaybookWrite,
        *,
        if_match: str | None,
        require_if_match: bool,
        as_of: datetime | None = None,
    ) -> tuple[Playbook, list[PlaybookStep]]:
        """Replace every step: 412 on a stale `If-Match`, 422 `validation_error` listing
        every problem (with JSON pointers) and nothing changed."""
        as_of = as_of or utcnow()
        await self.ensure(session, club.id)
        playbook = await repository.get_playbook(session, club.id, for_update=True)
        assert playbook is not None
        check_if_match(if_match, club.id, playbook.version, required=require_if_match)
        errors = validate_steps(data.steps)
        if errors:
            raise RuleViolation(
                "The playbook has invalid steps; nothing was changed.",
                code="validation_error",
                errors=errors,
            )
        before = {s.key: _step_dict(s) for s in await repository.steps(session, club.id)}
        await repository.delete_steps(session, club.id)
        new = [
            PlaybookStep(
                club_id=club.id,
                position=i,
                **step.model_dump(mode="json"),
            )
            for i, step in enumerate(data.steps)
        ]
        repository.add(session, *new)
        playbook.updated_by_id = actor.staff_id
        playbook.updated_at = as_of
        await session.flush()
        after = {s.key: _step_dict(s) for s in new}
        audit_service.record(
            session,
            actor,
            entity="playbook",
            entity_id=club.id,
            action="replace",
            changes=audit_service.diff(before, after),
            club_id=club.id,
        )
        return playbook, new

    # ------------------------------------------------------------------- tasks

    async def tasks(
        self, session: AsyncSession, club: Club, page: PageParams, *, status: TaskStatus | None
    ) -> tuple[list[PlaybookEffect], str | None]:
        """The club's playbook tasks, soonest due first."""
        return await paginate(
            session,
            repository.tasks(club.id, status.value if status else None),
            [SortKey(PlaybookEffect.due_on), SortKey(PlaybookEffect.id)],
            page,
            scope="playbook_tasks",
            key_of=lambda t: [t.due_on, t.id],
        )

    async def complete_task(
        self,
        session: AsyncSession,
        actor: Principal,
        club: Club,
        task_id: uuid.UUID,
        *,
        as_of: datetime | None = None,
    ) -> PlaybookEffect:
        """Mark an open task done: 404 `task_not_found` (also another club's), 409
        `task_closed` if it is no longer open."""
        task = await repository.task_for_update(session, task_id)
        if task is None or task.club_id != club.id:
            raise NotFound("Task not found.", code="task_not_found")
        if task.status != TaskStatus.OPEN.value:
            raise Conflict(f"This task is already {task.status}.", code="task_closed")
        task.status = TaskStatus.DONE.value
        task.completed_at = as_of or utcnow()
        task.completed_by_id = actor.staff_id
        await session.flush()
        return task

    # ------------------------------------------------------------- materialising

    async def clubs(self, session: AsyncSession, as_of: datetime) -> list[ClubDay]:
        return [
            ClubDay(c.id, c.timezone, local_date(c.timezone, as_of))
            for c in await repository.active_clubs(session)
        ]

    async def enabled_steps(self, session: AsyncSession, club_id: uuid.UUID) -> list[Step]:
        """The club's enabled steps (seeding the defaults on first use)."""
        await self.ensure(session, club_id)
        return [Step.of(s) for s in await repository.steps(session, club_id) if s.enabled]

    async def due(
        self, session: AsyncSession, club: ClubDay, step: Step, *, limit: int
    ) -> list[Due]:
        """Up to `limit` (member, anchor) pairs for which `step` is due today and that
        have no effect yet."""
        dialect = session.get_bind().dialect.name
        lo, hi = step.trigger_range(club.today)
        tz = club.timezone
        lo_at, hi_at = local_midnight_utc(tz, lo), local_midnight_utc(tz, hi + timedelta(days=1))
        queries: list[tuple[repository.TriggerQuery, Any]] = []
        match Trigger(step.trigger):
            case Trigger.PURCHASE:
                queries.append(
                    (repository.purchases(club.club_id, lo, hi, lo_at, hi_at, dialect), None)
                )
            case Trigger.EXPIRY_APPROACHING:
                queries.append((repository.expiring(club.club_id, lo, hi, dialect), None))
            case Trigger.FREEZE_ENDED:
                queries.append((repository.freezes_ended(club.club_id, lo, hi, dialect), None))
            case Trigger.MEETING_NO_SHOW:
                queries.append(
                    (repository.no_shows(club.club_id, lo_at, hi_at, club.today, dialect), None)
                )
            case Trigger.COMPLAINT_RESOLVED:
                stmt = repository.resolved_complaints(
                    club.club_id, lo_at, hi_at, club.today, dialect
                )
                queries.append((stmt, None))
            case Trigger.BIRTHDAY:
                # One query per calendar year the range touches: the anchor is the year.
                for year in range(lo.year, hi.year + 1):
                    start, end = max(lo, date(year, 1, 1)), min(hi, date(year, 12, 31))
                    stmt = repository.birthdays(
                        club.club_id, _month_days(start, end), f"birthday:{year}", club.today
                    )
                    queries.append((stmt, year))
            case Trigger.LAPSE:
                scan_day = await repository.latest_scan_day(session, club.club_id)
                if scan_day is not None and step.risk_levels:
                    stmt = repository.lapsing(club.club_id, step.risk_levels, scan_day, lo, hi)
                    queries.append((stmt, None))
            case Trigger.MONTHLY:
                month = date(lo.year, lo.month, 1)
                while month <= hi:
                    if month >= lo:
                        anchor = f"month:{month:%Y-%m}"
                        queries.append(
                            (repository.monthly(club.club_id, anchor, club.today), month)
                        )
                    month = (month + timedelta(days=32)).replace(day=1)
        out: list[Due] = []
        for stmt, extra in queries:
            if len(out) >= limit:
                break
            for row in await repository.pending(session, stmt, step.key, limit - len(out)):
                out.append(self._due(row, step, tz, extra))
        return out

    @staticmethod
    def _due(row: dict[str, Any], step: Step, tz: str, extra: Any) -> Due:
        on: date | None = row.get("on")
        at: datetime | None = row.get("at")
        match Trigger(step.trigger):
            case Trigger.PURCHASE:
                assert on is not None
                assert at is not None
                trigger_on = min(on, local_date(tz, at))  # day one
            case Trigger.BIRTHDAY:
                assert on is not None
                trigger_on = _birthday_in(on, extra)
            case Trigger.MONTHLY:
                trigger_on = extra
            case _:
                trigger_on = on if on is not None else local_date(tz, at)  # type: ignore[arg-type]
        return Due(
            member_id=row["member_id"],
            membership_id=row.get("membership_id"),
            anchor=row["anchor"],
            trigger_on=trigger_on,
            score=row.get("score"),
        )

    def reason_text(self, step: Step, due: Due, today: date) -> str:
        on = due.trigger_on
        match Trigger(step.trigger):
            case Trigger.PURCHASE:
                why = f"joined {_ago((today - on).days)}"
            case Trigger.EXPIRY_APPROACHING:
                why = f"membership ends on {on.isoformat()} ({_in_days((on - today).days)})"
            case Trigger.FREEZE_ENDED:
                why = f"freeze ended on {on.isoformat()}"
            case Trigger.BIRTHDAY:
                why = f"birthday on {on.isoformat()}"
            case Trigger.MEETING_NO_SHOW:
                why = f"missed a meeting on {on.isoformat()}"
            case Trigger.COMPLAINT_RESOLVED:
                why = f"complaint resolved on {on.isoformat()}"
            case Trigger.LAPSE:
                score = f", risk score {due.score}" if due.score is not None else ""
                why = f"at risk since {on.isoformat()}{score}"
            case Trigger.MONTHLY:
                why = f"{on:%B %Y}"
        return f"{step.label}: {why}"

    @staticmethod
    def priority(base: int, score: int | None, value: int, top_value: int) -> int:
        """See the module docstring."""
        risk = round((score or 0) * RISK_WEIGHT)
        worth = round(VALUE_POINTS * value / top_value) if top_value > 0 else 0
        return max(0, min(100, base + risk + worth))

    async def materialise(
        self, session: AsyncSession, club: ClubDay, step: Step, *, as_of: datetime
    ) -> Chunk:
        """One chunk of `step` for one club, in the caller's transaction."""
        chunk = Chunk()
        dues = await self.due(session, club, step, limit=CHUNK)
        chunk.found = len(dues)
        if not dues:
            return chunk
        tz = club.timezone
        window_end = {}
        rows: list[dict[str, Any]] = []
        for d in dues:
            first = d.trigger_on + timedelta(days=step.offset_days)
            last = first + timedelta(days=step.window_days)
            window_end[(d.member_id, d.anchor)] = (
                local_midnight_utc(tz, first),
                local_midnight_utc(tz, last + timedelta(days=1)),
            )
            rows.append(
                {
                    "id": new_id(),
                    "club_id": club.club_id,
                    "member_id": d.member_id,
                    "membership_id": d.membership_id,
                    "step_key": step.key,
                    "anchor": d.anchor,
                    "action": step.action,
                    "title": step.title,
                    "status": (
                        TaskStatus.OPEN if step.action == StepAction.TASK.value else TaskStatus.DONE
                    ).value,
                    "due_on": window_end[(d.member_id, d.anchor)][1],
                    "created_at": as_of,
                }
            )
        claimed = await repository.claim_effects(session, rows)
        chunk.claimed = len(claimed)
        won = [(r["id"], d) for r, d in zip(rows, dues, strict=True) if r["id"] in claimed]
        if not won:
            return chunk
        if step.action == StepAction.TASK.value:
            chunk.counts["tasks_created"] += len(won)
            return chunk
        members = await repository.members(session, [d.member_id for _, d in won])
        if step.action == StepAction.MESSAGE.value:
            await self._messages(session, step, won, members, as_of, chunk)
        else:
            await self._calls(session, club, step, won, members, window_end, as_of, chunk)
        return chunk

    async def _messages(
        self,
        session: AsyncSession,
        step: Step,
        won: Sequence[tuple[uuid.UUID, Due]],
        members: dict[uuid.UUID, Member],
        as_of: datetime,
        chunk: Chunk,
    ) -> None:
        assert step.template is not None
        recipients = [
            Recipient(members[d.member_id], effect_key(d.member_id, step.key, d.anchor))
            for _, d in won
        ]
        messages = await messaging_service.queue_many(
            session,
            recipients,
            template=step.template,
            category=Category(step.category),
            as_of=as_of,
        )
        updates = []
        for (effect_id, _), message in zip(won, messages, strict=True):
            queued = message.status == "queued"
            chunk.counts["messages_queued" if queued else "skipped"] += 1
            updates.append(
                {
                    "id": effect_id,
                    "message_id": message.id,
                    "status": (TaskStatus.DONE if queued else TaskStatus.SKIPPED).value,
                    "skip_reason": None if queued else message.suppressed_reason,
                }
            )
        await session.flush()
        await repository.update_effects(session, updates)

    async def _calls(
        self,
        session: AsyncSession,
        club: ClubDay,
        step: Step,
        won: Sequence[tuple[uuid.UUID, Due]],
        members: dict[uuid.UUID, Member],
        windows: dict[tuple[uuid.UUID, str], tuple[datetime, datetime]],
        as_of: datetime,
        chunk: Chunk,
    ) -> None:
        assert step.call_kind is not None
        kind = CallKind(step.call_kind)
        ids = [d.member_id for _, d in won]
        scores = await repository.latest_scores(session, club.club_id, ids)
        values = await repository.lifetime_values(session, ids)
        top = await repository.top_lifetime_value(session, club.club_id)
        updates = []
        for effect_id, d in won:
            due_from, due_until = windows[(d.member_id, d.anchor)]
            score = d.score if d.score is not None else scores.get(d.member_id)
            text = self.reason_text(step, d, club.today)
            try:
                opened = await call_service.open_or_merge(
                    session,
                    members[d.member_id],
                    kind=kind,
                    reasons=[call_reason(kind, step.key, text, "playbook", as_of)],
                    priority=self.priority(step.priority, score, values.get(d.member_id, 0), top),
                    due_from=due_from,
                    due_until=due_until,
                    as_of=as_of,
                    source="playbook",
                    membership_id=d.membership_id,
                )
            except ContactNotAllowed as refused:
                chunk.counts["skipped"] += 1
                updates.append(
                    {
                        "id": effect_id,
                        "status": TaskStatus.SKIPPED.value,
                        "skip_reason": refused.extra.get("reason") or "contact_not_allowed",
                    }
                )
                continue
            chunk.counts["calls_created" if opened.created else "calls_merged"] += 1
            updates.append({"id": effect_id, "call_id": opened.call.id})
        await session.flush()
        await repository.update_effects(session, updates)


def _step_dict(step: PlaybookStep) -> dict[str, Any]:
    return {f: getattr(step, f) for f in STEP_FIELDS}


def validate_steps(steps: Sequence[StepWrite]) -> list[dict[str, str]]:
    """Every rule a plan must keep, as `{pointer, detail}` errors (empty: valid). Field
    ranges are checked by the schema; these are the rules across fields and steps."""
    errors: list[dict[str, str]] = []

    def err(i: int, name: str, detail: str) -> None:
        errors.append({"pointer": f"/steps/{i}/{name}", "detail": detail})

    seen: set[str] = set()
    for i, s in enumerate(steps):
        if s.key in seen:
            err(i, "key", "duplicate key; each step needs its own")
        seen.add(s.key)
        trigger, action = s.trigger, s.action
        if trigger is Trigger.EXPIRY_APPROACHING:
            if s.offset_days > 0:
                err(i, "offset_days", "expiry_approaching counts back from the end: use <= 0")
        elif s.offset_days < 0:
            err(i, "offset_days", f"{trigger.value} steps come after the trigger: use >= 0")
        elif trigger is Trigger.MONTHLY and s.offset_days > MAX_MONTHLY_OFFSET_DAYS:
            err(i, "offset_days", f"monthly steps start by day {MAX_MONTHLY_OFFSET_DAYS + 1}")
        if trigger is Trigger.MONTHLY and action is not StepAction.MESSAGE:
            err(i, "action", "monthly steps are messages")
        if trigger is Trigger.LAPSE and not s.risk_levels:
            err(i, "risk_levels", "lapse steps need the risk levels that trigger them")
        if trigger is not Trigger.LAPSE and s.risk_levels:
            err(i, "risk_levels", "only lapse steps take risk levels")
        if action is StepAction.CALL:
            if s.call_kind is None:
                err(i, "call_kind", "a call step needs a call_kind")
        elif s.call_kind is not None:
            err(i, "call_kind", "only call steps take a call_kind")
        if action is StepAction.MESSAGE:
            _check_template(i, s, err)
        else:
            if s.template is not None:
                err(i, "template", "only message steps take a template")
            if s.category.value != Category.SERVICE.value:
                err(i, "category", "only message steps can be marketing")
        if action is StepAction.TASK and not s.title:
            err(i, "title", "a task step needs a title (the task)")
    return errors


def _check_template(i: int, s: StepWrite, err: Any) -> None:
    if s.template is None:
        err(i, "template", "a message step needs a template")
        return
    tpl = TEMPLATES.get(s.template)
    if tpl is None:
        err(i, "template", f"unknown template; known: {', '.join(sorted(TEMPLATES))}")
        return
    if Category(s.category.value) not in tpl.categories:
        err(i, "category", f"template {s.template} is not a {s.category.value} message")
    if tpl.context_keys:
        err(i, "template", "this template needs context a playbook step cannot supply")


playbook_service = PlaybookService()
