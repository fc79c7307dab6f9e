"""grants: links across centres are asked, not taken; reference numbers get a random part

- grant_application.reference_code: four random characters (Crockford's base32) appended to the
  reference number, MG/2026/0007-K7QX; every existing application gets one here;
- grant_link_request: a group's request to be linked to an application outside the requester's
  scope, pending until the coordinator of the centre running the call confirms or refuses it;
- grant_reference_attempt: failed reference look-ups per user, for the throttle.

Revision ID: 0008
Revises: 0007
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# As in models/grants.py (kept here so that the migration never changes with the models).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))


def upgrade():
    # NOT NULL with a server default: SQLite adds such a column in place (no copy of the table, whose
    # children would be cascaded away by the drop). An empty code never matches a typed reference.
    with op.batch_alter_table('grant_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference_code', sa.String(length=4), server_default='', nullable=False))
    application = sa.table('grant_application', sa.column('id', sa.Integer), sa.column('reference_code', sa.String))
    bind = op.get_bind()
    ids = bind.execute(sa.select(application.c.id)).scalars().all()
    if ids:
        bind.execute(application.update().where(application.c.id == sa.bindparam('aid'))
                     .values(reference_code=sa.bindparam('code')),
                     [{'aid': aid, 'code': _code()} for aid in ids])

    op.create_table('grant_link_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['grant_application.id'],
                            name=op.f('fk_grant_link_request_application_id_grant_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['community_group.id'],
                            name=op.f('fk_grant_link_request_group_id_community_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'],
                            name=op.f('fk_grant_link_request_requested_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'],
                            name=op.f('fk_grant_link_request_decided_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_link_request')),
    sa.UniqueConstraint('application_id', 'group_id', name='uq_grant_link_request_application_group')
    )
    with op.batch_alter_table('grant_link_request', schema=None) as batch_op:
        batch_op.create_index('ix_grant_link_request_group', ['group_id', 'status'], unique=False)

    op.create_table('grant_reference_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                            name=op.f('fk_grant_reference_attempt_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_reference_attempt'))
    )
    with op.batch_alter_table('grant_reference_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_reference_attempt_at'), ['at'], unique=False)
        batch_op.create_index('ix_grant_reference_attempt_user_at', ['user_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('grant_reference_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_grant_reference_attempt_user_at')
        batch_op.drop_index(batch_op.f('ix_grant_reference_attempt_at'))
    op.drop_table('grant_reference_attempt')
    with op.batch_alter_table('grant_link_request', schema=None) as batch_op:
        batch_op.drop_index('ix_grant_link_request_group')
    op.drop_table('grant_link_request')
    with op.batch_alter_table('grant_application', schema=None) as batch_op:
        batch_op.drop_column('reference_code')
