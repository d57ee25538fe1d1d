"""confidentiality claims (Gegevenswisseling lid 1: the geheimhouding procedure)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'confidentiality_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('procedure_id', sa.Integer(), nullable=False),
        sa.Column('statement_of', sa.String(length=80), nullable=True),
        sa.Column('requested_by', sa.String(length=80), nullable=False),
        sa.Column('grounds', sa.Text(), nullable=False),
        sa.Column('handled_by', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_dt', sa.DateTime(), nullable=False),
        sa.Column('decided_dt', sa.DateTime(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id']),
        sa.ForeignKeyConstraint(['handled_by'], ['procedures.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('confidentiality_claims') as batch_op:
        batch_op.create_index('ix_confidentiality_claims_procedure_id', ['procedure_id'], unique=False)


def downgrade():
    op.drop_table('confidentiality_claims')
