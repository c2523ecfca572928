"""registratura circuit, sla clocks, timers, absences

Columns added to existing tables get a server default so that databases with
rows upgrade in place.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:59:10.294995
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('absence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('substitute', sa.String(length=100), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_absence'))
    )
    with op.batch_alter_table('absence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_absence_substitute'), ['substitute'], unique=False)
        batch_op.create_index('ix_absence_user_period', ['username', 'starts_on', 'ends_on'], unique=False)

    op.create_table('nomenclator_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('retention_years', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nomenclator_file')),
    sa.UniqueConstraint('code', name=op.f('uq_nomenclator_file_code'))
    )
    with op.batch_alter_table('nomenclator_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nomenclator_file_department'), ['department'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=100), nullable=True),
    sa.Column('group_code', sa.String(length=100), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('message', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_group', ['group_code', 'read_at'], unique=False)
        batch_op.create_index('ix_notification_recipient', ['recipient', 'read_at'], unique=False)

    op.create_table('signing_delegation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('act_reference', sa.String(length=100), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_delegation'))
    )
    with op.batch_alter_table('signing_delegation', schema=None) as batch_op:
        batch_op.create_index('ix_signing_delegation_holder', ['holder', 'starts_on', 'ends_on'], unique=False)

    op.create_table('sla_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('profile_json', sa.Text(), nullable=False),
    sa.Column('variant', sa.String(length=50), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('extension_days', sa.Integer(), nullable=False),
    sa.Column('extensions_used', sa.Integer(), nullable=False),
    sa.Column('paused_since', sa.Date(), nullable=True),
    sa.Column('paused_days', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('stopped_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['register_entry.id'], name=op.f('fk_sla_clock_document_id_register_entry')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_sla_clock_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_clock')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_sla_clock_instance_id'))
    )
    with op.batch_alter_table('sla_clock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_clock_due_on'), ['due_on'], unique=False)

    op.create_table('timer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('payload_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('fired_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_timer_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timer')),
    sa.UniqueConstraint('instance_id', 'kind', 'due_at', name='uq_timer_instance_kind_due')
    )
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.create_index('ix_timer_due', ['fired_at', 'cancelled', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_instance_id'), ['instance_id'], unique=False)

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('escalated', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('delegated_from', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_human_task_department'), ['department'], unique=False)

    with op.batch_alter_table('register', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='in_out'))
        batch_op.add_column(sa.Column('department', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('register_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=20), nullable=False, server_default='ghiseu'))
        batch_op.add_column(sa.Column('assigned_to', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('dispatch_channel', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('archived_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('access_code', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=500), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_register_entry_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_entry_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_entry_registered_on'), ['registered_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_entry_sender_name'), ['sender_name'], unique=False)



def downgrade():
    with op.batch_alter_table('register_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_entry_sender_name'))
        batch_op.drop_index(batch_op.f('ix_register_entry_registered_on'))
        batch_op.drop_index(batch_op.f('ix_register_entry_due_on'))
        batch_op.drop_index(batch_op.f('ix_register_entry_department'))
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_by')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('access_code')
        batch_op.drop_column('archived_on')
        batch_op.drop_column('dispatch_channel')
        batch_op.drop_column('due_on')
        batch_op.drop_column('assigned_to')
        batch_op.drop_column('channel')

    with op.batch_alter_table('register', schema=None) as batch_op:
        batch_op.drop_column('active')
        batch_op.drop_column('department')
        batch_op.drop_column('kind')

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_human_task_department'))
        batch_op.drop_column('delegated_from')
        batch_op.drop_column('escalated')
        batch_op.drop_column('department')

    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_instance_id'))
        batch_op.drop_index('ix_timer_due')

    op.drop_table('timer')
    with op.batch_alter_table('sla_clock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_clock_due_on'))

    op.drop_table('sla_clock')
    with op.batch_alter_table('signing_delegation', schema=None) as batch_op:
        batch_op.drop_index('ix_signing_delegation_holder')

    op.drop_table('signing_delegation')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_recipient')
        batch_op.drop_index('ix_notification_group')

    op.drop_table('notification')
    with op.batch_alter_table('nomenclator_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nomenclator_file_department'))

    op.drop_table('nomenclator_file')
    with op.batch_alter_table('absence', schema=None) as batch_op:
        batch_op.drop_index('ix_absence_user_period')
        batch_op.drop_index(batch_op.f('ix_absence_substitute'))

    op.drop_table('absence')
