"""partners: the folded name, so that the list's search ignores diacritics

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

from models.text import words

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_folded', sa.String(length=200), server_default='', nullable=False))
    partner = sa.table('partner', sa.column('id', sa.Integer), sa.column('name', sa.String),
                       sa.column('name_folded', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(partner.c.id, partner.c.name)).all()
    if rows:
        bind.execute(partner.update().where(partner.c.id == sa.bindparam('pid'))
                     .values(name_folded=sa.bindparam('folded')),
                     [{'pid': pid, 'folded': " ".join(words(name))[:200]} for pid, name in rows])


def downgrade():
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_column('name_folded')
