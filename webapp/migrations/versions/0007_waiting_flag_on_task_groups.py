"""waiting flag on task groups

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:22:27.780372
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_human_task_group_waiting', ['waiting', 'group_code', 'human_task_id'], unique=False)
    # Tasks open and unclaimed today wait in their groups.
    op.execute("UPDATE human_task_group SET waiting = 1 WHERE human_task_id IN "
               "(SELECT id FROM human_task WHERE status = 'open' AND assignee IS NULL)")


def downgrade():
    with op.batch_alter_table('human_task_group', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_group_waiting')
        batch_op.drop_column('waiting')

