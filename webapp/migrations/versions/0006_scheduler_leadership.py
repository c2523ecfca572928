"""scheduler leadership

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:35:56.417127
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    lease = op.create_table('scheduler_lease',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=True),
    sa.Column('term', sa.Integer(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease'))
    )
    # The scheduler's lease row exists from the start: taking it is a single UPDATE.
    op.bulk_insert(lease, [{"name": "scheduler", "holder": None, "term": 0}])


def downgrade():
    op.drop_table('scheduler_lease')
