"""Migration 0009 on a database that already holds memberships and freezes: the new
foreign key from memberships to meetings is added (and removed) in place, rows kept."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import Database, create_engine, make_sessionmaker
from app.migrate import alembic_config, downgrade, upgrade
from app.models import Freeze, Membership
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan

REVISION = "0009"


def _before() -> str:
    script = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION)
    assert script is not None
    assert isinstance(script.down_revision, str)
    return script.down_revision


def _meeting_fks(conn: Connection) -> list[str]:
    return [
        fk["name"] or ""
        for fk in inspect(conn).get_foreign_keys("memberships")
        if fk["referred_table"] == "meetings"
    ]


async def _fks(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(_meeting_fks)


async def test_upgrade_and_downgrade_keep_memberships_other_tables_reference(
    dialect: str,
) -> None:
    async with fresh_database_url("m0009") as url:
        engine = create_engine(url)
        try:
            await upgrade(engine, _before())
            db = Database(engine=engine, sessionmaker=make_sessionmaker(engine))
            async with db.session_scope() as s:
                await s.execute(
                    text(
                        "INSERT INTO clubs (id, name, timezone, currency, opening_hours, "
                        "quiet_hours_start, quiet_hours_end, contact_policy, meeting_settings, "
                        "freeze_ends_on_visit, active, created_at, updated_at) VALUES "
                        "(:id, 'C', 'UTC', 'EUR', '{}', '09:00:00', '21:00:00', '{}', '{}', "
                        "false, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ).bindparams(id=(club_id := uuid.uuid4())),
                )
            member = await make_member(db, club_id)
            plan = await make_plan(db, club_id)
            kept = await make_membership(db, member, plan, start_date=date(2026, 1, 1))
            dangling = await make_membership(
                db, member, plan, start_date=date(2027, 1, 1), meeting_id=uuid.uuid4()
            )
            await make_freeze(db, kept, start_date=date(2026, 2, 1), end_date=date(2026, 2, 10))

            await upgrade(engine)
            assert await _fks(engine) == ["fk_memberships_meeting_id_meetings"]
            async with db.sessionmaker() as s:
                assert (
                    await s.scalar(
                        select(Membership.meeting_id).where(Membership.id == dangling.id)
                    )
                    is None
                )
                assert len((await s.scalars(select(Freeze))).all()) == 1
            with pytest.raises(IntegrityError):  # the key is enforced
                async with db.session_scope() as s:
                    await s.execute(
                        update(Membership)
                        .where(Membership.id == kept.id)
                        .values(meeting_id=uuid.uuid4())
                    )
            if dialect == "postgresql":
                async with engine.connect() as conn:
                    ext = await conn.scalar(
                        text("SELECT count(*) FROM pg_extension WHERE extname = 'btree_gist'")
                    )
                assert ext == 1

            await downgrade(engine, _before())
            assert await _fks(engine) == []
            async with db.sessionmaker() as s:
                assert len((await s.scalars(select(Membership))).all()) == 2
                assert len((await s.scalars(select(Freeze))).all()) == 1
            if dialect == "postgresql":
                async with engine.connect() as conn:
                    ext = await conn.scalar(
                        text("SELECT count(*) FROM pg_extension WHERE extname = 'btree_gist'")
                    )
                assert ext == 0
        finally:
            await engine.dispose()
