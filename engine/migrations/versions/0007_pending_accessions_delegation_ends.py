"""requests to join wait for the applicant's confirmation; delegations record how they ended

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_accessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('created_dt', sa.DateTime(), nullable=False),
    sa.Column('expires_dt', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('pending_accessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_accessions_expires_dt'), ['expires_dt'], unique=False)
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_dt', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('end_reason', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_column('end_reason')
        batch_op.drop_column('ended_dt')
    with op.batch_alter_table('pending_accessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_accessions_expires_dt'))
    op.drop_table('pending_accessions')
