"""Timelines: everything about one resident (or one group), newest first.

Each area registers a source: a function (subject id, limit) -> list[Entry] that reads its own
table with one query. The page merges the sources and keeps the newest `limit` entries, so a
resident's page costs one query per source, however long the history.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from models.base import db
from models.resident import Interaction


@dataclass
class Entry:
    at: datetime  # UTC
    kind: str  # "interaction", "meeting", "membership", "commitment", "stage", ...
    title: str  # short, from the data (not translated); templates add the translated label for `kind`
    detail: str | None = None
    link: tuple[str, dict] | None = None  # (endpoint, url values)
    actor: str | None = None
    extra: dict = field(default_factory=dict)


RESIDENT_SOURCES: list = []
GROUP_SOURCES: list = []


def resident_source(fn):
    RESIDENT_SOURCES.append(fn)
    return fn


def group_source(fn):
    GROUP_SOURCES.append(fn)
    return fn


def _merge(sources, subject_id: int, limit: int) -> list[Entry]:
    entries: list[Entry] = []
    for source in sources:
        entries.extend(source(subject_id, limit))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def resident_timeline(resident_id: int, limit: int = 50) -> list[Entry]:
    return _merge(RESIDENT_SOURCES, resident_id, limit)


def group_timeline(group_id: int, limit: int = 50) -> list[Entry]:
    return _merge(GROUP_SOURCES, group_id, limit)


@resident_source
def _interactions(resident_id: int, limit: int) -> list[Entry]:
    from models.user import User

    rows = db.session.execute(
        select(Interaction, User.name).outerjoin(User, User.id == Interaction.user_id)
        .where(Interaction.resident_id == resident_id)
        .order_by(Interaction.occurred_at.desc()).limit(limit))
    return [Entry(at=i.occurred_at, kind="interaction", title=i.channel, detail=i.note, actor=author,
                  extra={"concerns": i.concerns, "next_step": i.next_step, "follow_up_on": i.follow_up_on,
                         "follow_up_done_at": i.follow_up_done_at, "id": i.id})
            for i, author in rows]
