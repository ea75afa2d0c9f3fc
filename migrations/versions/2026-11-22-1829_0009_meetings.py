"""meetings: working hours, meetings, memberships.meeting_id -> meetings.id

PostgreSQL also gets btree_gist and two exclusion constraints (a consultant's meetings
never overlap, buffer included; a member is never in two meetings at once). SQLite has
no exclusion constraints: the service checks inside its serialised write transaction.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 18:29:05.965745+00:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import app.core.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_HOLDS_TIME = "status IN ('booked', 'confirmed', 'attended')"


_SQLITE_FK = (
    ",\n\tCONSTRAINT fk_memberships_meeting_id_meetings FOREIGN KEY(meeting_id) REFERENCES meetings (id)"
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sqlite_edit_table_sql(table: str, edit: Callable[[str], str]) -> None:
    """Add or remove a foreign key on SQLite without rebuilding the table.

    A batch rebuild would DROP the old table, which SQLite (foreign keys on, inside the
    one migration transaction) refuses while other tables' rows reference it. A foreign
    key does not change how rows are stored, so SQLite's documented procedure for such
    changes applies: edit the CREATE statement in sqlite_master and bump the schema
    version (https://sqlite.org/lang_altertable.html#otheralter).
    """
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (edit(sql), table)
    )
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    violations = conn.exec_driver_sql(f"PRAGMA foreign_key_check({table})").fetchall()
    if violations:
        raise RuntimeError(f"{table}: {len(violations)} rows break the edited foreign keys")


def upgrade() -> None:
    if _postgresql():
        # Trusted since PostgreSQL 13: a database owner may create it without superuser.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('working_hours',
    sa.Column('club_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.Uuid(), nullable=False),
    sa.Column('weekly', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['club_id'], ['clubs.id'], name=op.f('fk_working_hours_club_id_clubs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_working_hours_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_hours')),
    sa.UniqueConstraint('staff_id', 'club_id', name=op.f('uq_working_hours_staff_id_club_id'))
    )
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_working_hours_club_id'), ['club_id'], unique=False)

    op.create_table('working_hours_exceptions',
    sa.Column('club_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.Uuid(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('hours', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['club_id'], ['clubs.id'], name=op.f('fk_working_hours_exceptions_club_id_clubs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_working_hours_exceptions_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_hours_exceptions')),
    sa.UniqueConstraint('staff_id', 'club_id', 'on_date', name=op.f('uq_working_hours_exceptions_staff_id_club_id_on_date'))
    )
    with op.batch_alter_table('working_hours_exceptions', schema=None) as batch_op:
        batch_op.create_index('ix_working_hours_exceptions_club_id_on_date', ['club_id', 'on_date'], unique=False)

    op.create_table('meetings',
    sa.Column('club_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('consultant_id', sa.Uuid(), nullable=False),
    sa.Column('call_id', sa.Uuid(), nullable=True),
    sa.Column('booked_by_id', sa.Uuid(), nullable=True),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attended_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('no_show_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('outcome_membership_id', sa.Uuid(), nullable=True),
    sa.Column('decline_reason', sa.String(length=16), nullable=True),
    sa.Column('outcome_notes', sa.Text(), nullable=True),
    sa.Column('outcome_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome_by_id', sa.Uuid(), nullable=True),
    sa.Column('reminded_for', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decline_reason IS NULL OR decline_reason IN ('price', 'schedule', 'moved', 'health', 'dissatisfied', 'competitor', 'no_time', 'other')", name=op.f('ck_meetings_decline_reason')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('renewed', 'switched_plan', 'declined', 'postponed')", name=op.f('ck_meetings_outcome')),
    sa.CheckConstraint("purpose IN ('renewal', 'plan_change', 'feedback', 'onboarding')", name=op.f('ck_meetings_purpose')),
    sa.CheckConstraint("status IN ('booked', 'confirmed', 'attended', 'no_show', 'cancelled')", name=op.f('ck_meetings_status')),
    sa.CheckConstraint('starts_at < ends_at AND ends_at <= blocked_until', name=op.f('ck_meetings_times')),
    sa.ForeignKeyConstraint(['booked_by_id'], ['staff.id'], name=op.f('fk_meetings_booked_by_id_staff')),
    sa.ForeignKeyConstraint(['club_id'], ['clubs.id'], name=op.f('fk_meetings_club_id_clubs')),
    sa.ForeignKeyConstraint(['consultant_id'], ['staff.id'], name=op.f('fk_meetings_consultant_id_staff')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_meetings_member_id_members')),
    sa.ForeignKeyConstraint(['outcome_by_id'], ['staff.id'], name=op.f('fk_meetings_outcome_by_id_staff')),
    sa.ForeignKeyConstraint(['outcome_membership_id'], ['memberships.id'], name=op.f('fk_meetings_outcome_membership_id_memberships')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_club_id_starts_at', ['club_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_meetings_consultant_id_starts_at', ['consultant_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_meetings_member_id_open_renewal', ['member_id'], unique=True, postgresql_where=sa.text("purpose = 'renewal' AND status IN ('booked', 'confirmed')"), sqlite_where=sa.text("purpose = 'renewal' AND status IN ('booked', 'confirmed')"))
        batch_op.create_index('ix_meetings_member_id_starts_at', ['member_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_outcome_membership_id'), ['outcome_membership_id'], unique=False)
        batch_op.create_index('ix_meetings_status_starts_at', ['status', 'starts_at'], unique=False)

    if _postgresql():
        op.execute(
            "ALTER TABLE meetings ADD CONSTRAINT ex_meetings_consultant_time EXCLUDE USING gist "
            f"(consultant_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) WHERE ({_HOLDS_TIME})"
        )
        op.execute(
            "ALTER TABLE meetings ADD CONSTRAINT ex_meetings_member_time EXCLUDE USING gist "
            f"(member_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE ({_HOLDS_TIME})"
        )

    # Until now memberships.meeting_id could only point at meetings that cannot exist.
    op.execute("UPDATE memberships SET meeting_id = NULL WHERE meeting_id IS NOT NULL")
    op.create_index(op.f('ix_memberships_meeting_id'), 'memberships', ['meeting_id'], unique=False)
    if _postgresql():
        op.create_foreign_key(
            op.f('fk_memberships_meeting_id_meetings'), 'memberships', 'meetings', ['meeting_id'], ['id']
        )
    else:
        _sqlite_edit_table_sql('memberships', lambda sql: sql.rstrip()[:-1].rstrip() + _SQLITE_FK + "\n)")


def downgrade() -> None:
    if _postgresql():
        op.drop_constraint(op.f('fk_memberships_meeting_id_meetings'), 'memberships', type_='foreignkey')
    else:
        _sqlite_edit_table_sql('memberships', lambda sql: sql.replace(_SQLITE_FK, ""))
    op.drop_index(op.f('ix_memberships_meeting_id'), table_name='memberships')

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_status_starts_at')
        batch_op.drop_index(batch_op.f('ix_meetings_outcome_membership_id'))
        batch_op.drop_index('ix_meetings_member_id_starts_at')
        batch_op.drop_index('ix_meetings_member_id_open_renewal', postgresql_where=sa.text("purpose = 'renewal' AND status IN ('booked', 'confirmed')"), sqlite_where=sa.text("purpose = 'renewal' AND status IN ('booked', 'confirmed')"))
        batch_op.drop_index('ix_meetings_consultant_id_starts_at')
        batch_op.drop_index('ix_meetings_club_id_starts_at')

    op.drop_table('meetings')
    with op.batch_alter_table('working_hours_exceptions', schema=None) as batch_op:
        batch_op.drop_index('ix_working_hours_exceptions_club_id_on_date')

    op.drop_table('working_hours_exceptions')
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_working_hours_club_id'))

    op.drop_table('working_hours')
    if _postgresql():
        # No CASCADE: if something else has come to use btree_gist, this stops the downgrade
        # rather than dropping that too.
        op.execute("DROP EXTENSION IF EXISTS btree_gist")
