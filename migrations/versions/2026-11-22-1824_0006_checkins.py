"""checkins: the visit log (bigint ids, device-event dedupe key, per-member and per-club time indexes)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:24:05.247097+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('checkins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('club_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('checked_in_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('device_event_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins')),
    sa.UniqueConstraint('club_id', 'device_id', 'device_event_id', name=op.f('uq_checkins_club_id_device_id_device_event_id'))
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index('ix_checkins_club_id_checked_in_at', ['club_id', 'checked_in_at'], unique=False)
        batch_op.create_index('ix_checkins_member_id_checked_in_at', ['member_id', 'checked_in_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_member_id_checked_in_at')
        batch_op.drop_index('ix_checkins_club_id_checked_in_at')

    op.drop_table('checkins')
