"""versions on every edited record: a group's goals (their status is changed from the group page)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Existing goals start at version 1, as new rows do.
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_column('version')
