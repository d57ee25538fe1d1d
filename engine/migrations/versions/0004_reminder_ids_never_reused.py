"""reminder ids are never reused on SQLite (AUTOINCREMENT)

A fired reminder is deleted; SQLite then handed its id to the next reminder planned, and the
scheduler took the new reminder, due at the same moment, for the old one still due after firing.
PostgreSQL's sequences never reuse an id: nothing to do there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 05:00:00.000000
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _recreate(autoincrement):
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('reminders', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass


def upgrade():
    _recreate(True)


def downgrade():
    _recreate(False)
