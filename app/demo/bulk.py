"""Fast inserts for generated data: Core executemany in batches, with explicit ids."""
from sqlalchemy import func, select, text

from models import db

BATCH = 5000


def next_id(table) -> int:
    return (db.session.scalar(select(func.max(table.c.id))) or 0) + 1


def insert(table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with every column, ids included) and move the id sequence past them."""
    for start in range(0, len(rows), BATCH):
        db.session.execute(table.insert(), rows[start:start + BATCH])
    if rows and "id" in table.c and db.engine.dialect.name == "postgresql":
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), (SELECT max(id) FROM \"{table.name}\"))"))
