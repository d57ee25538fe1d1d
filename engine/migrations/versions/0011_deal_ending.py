"""a deal that can end before its term: the day it ended and why (issue 11, point 6)

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01 21:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deals') as batch:
        batch.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('ended_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('deals') as batch:
        batch.drop_column('ended_reason')
        batch.drop_column('ended_on')
