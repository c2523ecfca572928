"""identity and tamper-evident audit

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:12:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('directory_dn', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('chain_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])

    with op.batch_alter_table('register_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confidential', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('register_entry', schema=None) as batch_op:
        batch_op.drop_column('confidential')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.drop_column('chain_hash')
        batch_op.drop_column('seq')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('directory_dn')

