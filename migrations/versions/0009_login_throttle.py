"""login attempts: successes (the usual address), the device cookie, and whether a failure came from
the usual address, so that others' failures slow guessing but never lock the owner out

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('succeeded', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('device', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('usual_address', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_login_attempt_device_at', ['device', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_device_at')
        batch_op.drop_column('usual_address')
        batch_op.drop_column('device')
        batch_op.drop_column('succeeded')
