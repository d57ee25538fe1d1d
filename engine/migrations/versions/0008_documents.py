"""documents: files in the record, stored content-addressed by SHA-256

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('media_type', sa.String(120), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('uploaded_dt', sa.DateTime(), nullable=False),
        sa.Column('uploaded_by', sa.String(300), nullable=False),
        sa.Column('uploaded_for', sa.String(80), nullable=False),
        sa.Column('procedure_id', sa.Integer(), sa.ForeignKey('procedures.id'), nullable=True),
        sa.Column('purpose', sa.String(80), nullable=False, server_default=''),
    )
    op.create_index('ix_documents_sha256', 'documents', ['sha256'])
    op.create_index('ix_documents_procedure_id', 'documents', ['procedure_id'])


def downgrade():
    op.drop_index('ix_documents_procedure_id', 'documents')
    op.drop_index('ix_documents_sha256', 'documents')
    op.drop_table('documents')
