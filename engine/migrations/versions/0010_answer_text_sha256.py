"""answers record the SHA-256 of the text they answered (issue 11: consent is bound to the text)

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-01 21:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answers') as batch_op:
        batch_op.add_column(sa.Column('text_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('answers') as batch_op:
        batch_op.drop_column('text_sha256')
