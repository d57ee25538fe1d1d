"""every outgoing message keeps the audit chain's head at the moment it was queued

A party's mailbox then holds anchors (SEQ:HASH) that `citydeal audit verify --anchor` checks
the chain against, so entries cut from its end are found. Older messages have none (NULL).

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01 20:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('audit_head', sa.String(80), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('audit_head')
