"""the scheduler's lookup of timers due reads an index on (status, next_timer_dt)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:10:00.000000
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.create_index('ix_procedures_status_next_timer', ['status', 'next_timer_dt'], unique=False)


def downgrade():
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.drop_index('ix_procedures_status_next_timer')
