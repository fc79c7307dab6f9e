"""record of processing activities (RODO art. 30), with a starting text the admin adapts

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DEFAULTS = [
    {
        "name": "Organizowanie społeczności lokalnej: kontakty z mieszkańcami",
        "purpose": "Nawiązywanie i utrzymywanie relacji z mieszkańcami osiedla, wspieranie grup nieformalnych i inicjatyw, "
                   "planowanie dalszych kontaktów.",
        "legal_basis": "Art. 6 ust. 1 lit. f RODO (prawnie uzasadniony interes: realizacja zadania publicznego CIL); "
                       "kontakt telefoniczny, e-mailowy, newsletter i wizerunek: art. 6 ust. 1 lit. a (zgoda).",
        "data_subjects": "Mieszkańcy osiedli objętych działaniem centrum, w tym osoby opisane pseudonimem.",
        "data_categories": "Imię i nazwisko albo opis, osiedle, ulica i numer budynku (bez numeru mieszkania), telefon, "
                           "e-mail, grupa wiekowa, zainteresowania i zasoby, notatki z rozmów, udział w spotkaniach, "
                           "zobowiązania i godziny wolontariatu, zgody. Bez numeru PESEL i danych szczególnych kategorii.",
        "recipients": "Dostawca systemu Animo (podmiot przetwarzający). Miasto Poznań otrzymuje wyłącznie dane zbiorcze.",
        "retention": "Do 24 miesięcy od ostatniej aktywności osoby (przegląd w Animo), dane objęte wycofaną zgodą: "
                     "ukryte od razu, usunięte po 30 dniach.",
        "security": "Dostęp imienny z hasłem (min. 12 znaków), zakres według centrum i osiedla, dziennik zdarzeń, "
                    "szyfrowane połączenie, kopie zapasowe z testem odtworzenia, usuwanie danych bez śladu w pliku bazy.",
        "position": 1,
    },
    {
        "name": "Regranting: nabory mikrograntów",
        "purpose": "Przyjmowanie, ocena i rozliczanie wniosków grup nieformalnych o mikrogranty.",
        "legal_basis": "Art. 6 ust. 1 lit. b i c RODO (umowa, obowiązki rozliczeniowe wobec Miasta); lit. f (ocena wniosków).",
        "data_subjects": "Członkowie grup nieformalnych, osoby kontaktowe, przedstawiciele organizacji patronackich.",
        "data_categories": "Imiona i nazwiska, dane kontaktowe osoby kontaktowej, oświadczenia o pełnoletności, "
                           "treść wniosku, budżet, dokumenty rozliczeniowe.",
        "recipients": "Członkowie komisji oceniającej (tylko przydzielone wnioski), Miasto Poznań (rozliczenie dotacji).",
        "retention": "5 lat od zakończenia roku, w którym rozliczono dotację.",
        "security": "Jak wyżej; oceniający widzą tylko przydzielone wnioski po złożeniu oświadczenia o bezstronności.",
        "position": 2,
    },
    {
        "name": "Sieć współpracy: osoby kontaktowe partnerów",
        "purpose": "Współpraca z instytucjami i organizacjami działającymi na osiedlu.",
        "legal_basis": "Art. 6 ust. 1 lit. f RODO (prawnie uzasadniony interes: współpraca instytucjonalna).",
        "data_subjects": "Osoby kontaktowe w szkołach, bibliotekach, radach osiedli, organizacjach i firmach.",
        "data_categories": "Imię i nazwisko, funkcja, służbowy telefon i e-mail.",
        "recipients": "Brak.",
        "retention": "Do zakończenia współpracy, najdłużej 24 miesiące od ostatniego kontaktu.",
        "security": "Jak wyżej.",
        "position": 3,
    },
]


def upgrade():
    table = op.create_table(
        'processing_activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('purpose', sa.Text(), nullable=False),
        sa.Column('legal_basis', sa.Text(), nullable=False),
        sa.Column('data_subjects', sa.Text(), nullable=False),
        sa.Column('data_categories', sa.Text(), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.Column('retention', sa.Text(), nullable=False),
        sa.Column('security', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_processing_activity_updated_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_processing_activity')),
    )
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(table, [{**row, "updated_at": now, "version": 1} for row in DEFAULTS])


def downgrade():
    op.drop_table('processing_activity')
