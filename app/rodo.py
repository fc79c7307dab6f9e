"""Residents' rights under RODO (GDPR): access and portability (art. 15, 20) and erasure (art. 17).

Erasure anonymises rather than deletes: the person's row stays with only what statistics need
(centre, osiedle, age group, dates), every free text and contact detail about them is cleared in
every table, text copied from their records into findings is redacted, the search index is purged,
and the audit trail keeps who erased whom and when, never the values. Reports therefore count the
same before and after. On SQLite the write-ahead log is then truncated (`app.database`), and
`secure_delete` has zeroed what was overwritten: no byte of the values stays in the files.
"""
import dataclasses
import json
import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, or_, select, text, update

from app.database import truncate_wal_after_commit
from models import (AuditEvent, Attendance, Centre, Commitment, Consent, Finding, Interaction, Meeting, Membership,
                    Resident, db, finding_interaction, record_audit)
from models.base import utcnow
from models.text import words

ERASED = "[usunięto]"

# Other areas that keep free text about a resident add a function (resident_id) -> None here.
EXTRA_ERASERS: list = []


def anonymise(resident: Resident, user_id: int | None, ip: str | None, reason: str) -> None:
    """Clear everything that identifies the person, keep what the statistics count."""
    rid = resident.id
    traces = _traces_of(resident)  # read before clearing: what to look for in copies elsewhere
    for field in ("first_name", "last_name", "phone", "email", "street", "building", "notes"):
        setattr(resident, field, None)
    resident.description = None
    resident.anonymised_at = utcnow()
    resident.updated_by_id = user_id
    resident.tags = []
    resident.search_text = ""
    resident.sort_name = ""
    db.session.flush()
    db.session.execute(delete(Consent).where(Consent.resident_id == rid))
    db.session.execute(update(Interaction).where(Interaction.resident_id == rid)
                       .values(concerns=None, note=None, next_step=None))
    db.session.execute(update(Commitment).where(Commitment.resident_id == rid).values(what=ERASED))
    redacted = redact_findings(resident.centre_id, traces)
    for eraser in EXTRA_ERASERS:
        eraser(rid)
    _scrub_audit_searches()
    # The row keeps search_text = "": the FTS triggers replaced its index entry; merge the
    # index so no segment keeps the old words (secure_delete zeroes the segments merged away).
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO resident_fts(resident_fts) VALUES('optimize')"))
        truncate_wal_after_commit(db.session)
    record_audit("resident_erased", user_id=user_id, object_type="resident", object_id=rid, ip=ip, reason=reason,
                 findings_redacted=redacted)


# --- copies of the person's text elsewhere --------------------------------------------------------
# A finding made from a contact starts with the contact's "what matters" as its title (the animator
# usually rewrites it), and keeps the link to the contact. Erasure redacts, in the findings of the
# person's centre, what is still the person's: their name, phone, e-mail and any run of their text.
# The finding itself stays (kind, tags, osiedle, date, links): the diagnosis keeps counting it.

SHINGLE = 4  # this many words in a row, the same as in the person's text, are a copy of it
_TOKEN = re.compile(r"\w+")


@dataclasses.dataclass
class _Traces:
    names: list[tuple[str, ...]] = dataclasses.field(default_factory=list)  # anywhere in the centre
    near_names: list[tuple[str, ...]] = dataclasses.field(default_factory=list)  # in findings linked to the person
    texts: list[tuple[str, ...]] = dataclasses.field(default_factory=list)  # the person's free texts, as folded words
    patterns: list[re.Pattern] = dataclasses.field(default_factory=list)  # phone and e-mail, as written anywhere
    stems: list[str] = dataclasses.field(default_factory=list)  # surname stems: Kowalska -> Kowalskiej
    interaction_ids: list[int] = dataclasses.field(default_factory=list)

    def shingles(self) -> set[tuple[str, ...]]:
        return {t[i:i + SHINGLE] for t in self.texts for i in range(len(t) - SHINGLE + 1)}


def _words(value: str | None) -> tuple[str, ...]:
    return tuple(words(value))


def _traces_of(resident: Resident) -> _Traces:
    tr = _Traces()
    first, last = _words(resident.first_name), _words(resident.last_name)
    if first and last:
        tr.names += [first + last, last + first]
    if last:
        tr.names.append(last)
        tr.names += [(w,) for w in last if len(w) > 2]  # each part of a double-barrelled surname
        tr.stems = [w[:-1] if w[-1] in "aeiouy" else w for w in last]
        tr.stems = [w for w in tr.stems if len(w) >= 5]
    if first:
        tr.near_names.append(first)
    described = _words(resident.description)
    if described:
        (tr.names if len(described) > 1 else tr.near_names).append(described)
    address = _words(" ".join(p for p in (resident.street, resident.building) if p))
    if address:
        tr.near_names.append(address)
    rows = db.session.execute(select(Interaction.id, Interaction.concerns, Interaction.note, Interaction.next_step)
                              .where(Interaction.resident_id == resident.id)).all()
    tr.interaction_ids = [r.id for r in rows]
    sources = [resident.notes, *(t for r in rows for t in (r.concerns, r.note, r.next_step))]
    sources += db.session.scalars(select(Commitment.what).where(Commitment.resident_id == resident.id)).all()
    tr.texts = [w for w in (_words(t) for t in sources) if w]
    digits = re.sub(r"\D", "", resident.phone or "")
    if len(digits) >= 6:
        # +48 601 234 567, 601-234-567, 601234567: the number however it was typed
        local = digits[2:] if (resident.phone or "").startswith("+48") else digits
        country = digits[:len(digits) - len(local)]
        tr.patterns.append(re.compile(r"(?<!\d)(?:\+?\s*" + country + r"[\s.-]*)?" + r"[\s.-]*".join(local)
                                      + r"(?!\d)"))
    if resident.email:
        tr.patterns.append(re.compile(re.escape(resident.email), re.IGNORECASE))
    return tr


def redact(value: str | None, phrases: list[tuple[str, ...]], shingles: set, patterns: list[re.Pattern],
           whole: list[tuple[str, ...]] = (), stems: list[str] = ()) -> str | None:
    """`value` with every run of words that is one of `phrases` (or a declined form of one of
    `stems`), or SHINGLE words of the person's text, or a match of `patterns` replaced by ERASED;
    a value that is all the person's own text (one of `whole`, or a piece of it of at least three
    words) becomes ERASED. Words compare folded: case, diacritics and punctuation do not hide a copy."""
    if not value:
        return value
    # (start, end, folded word) for every word; a token like "x_y" gives two words with one span
    tokens = [(m.start(), m.end(), w) for m in _TOKEN.finditer(value) for w in words(m.group())]
    folded = [w for _s, _e, w in tokens]
    joined = " ".join(folded)
    for text_words in whole:
        source = " ".join(text_words)
        # all of it, or a prefix cut anywhere (the prefill stops at 200 characters, mid-word)
        if folded and (joined == source or (len(folded) >= 3 and f" {joined}" in f" {source}")):
            return ERASED
    spans = [m.span() for p in patterns for m in p.finditer(value)]
    marked = [False] * len(tokens)
    for phrase in phrases:
        n = len(phrase)
        for i in range(len(folded) - n + 1):
            if tuple(folded[i:i + n]) == phrase:
                marked[i:i + n] = [True] * n
    for i, w in enumerate(folded):
        if any(w.startswith(stem) and len(w) <= len(stem) + 4 for stem in stems):
            marked[i] = True
    for i in range(len(folded) - SHINGLE + 1):
        if tuple(folded[i:i + SHINGLE]) in shingles:
            marked[i:i + SHINGLE] = [True] * SHINGLE
    spans += [(s, e) for (s, e, _w), hit in zip(tokens, marked) if hit]
    if not spans:
        return value
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        # overlapping, or apart by spaces and punctuation only: one redaction
        if merged and (start <= merged[-1][1] or not _TOKEN.search(value, merged[-1][1], start)):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out += [value[pos:start], ERASED]
        pos = end
    out.append(value[pos:])
    return "".join(out)


def redact_findings(centre_id: int, traces: _Traces) -> int:
    """Redact the person's name, contact details and copied text in the findings of their centre
    (those made from their contacts also lose the first name, the address and a short copied text).
    Through the ORM, so each changed finding's version moves on. Returns how many changed."""
    linked = set()
    if traces.interaction_ids:
        linked = set(db.session.scalars(select(finding_interaction.c.finding_id)
                                        .where(finding_interaction.c.interaction_id.in_(traces.interaction_ids))))
    shingles = traces.shingles()
    short = [t for t in traces.texts if len(t) < SHINGLE]
    changed = 0
    for finding in db.session.scalars(select(Finding).where(or_(Finding.centre_id == centre_id,
                                                                Finding.id.in_(linked or [0])))):
        near = finding.id in linked
        phrases = traces.names + (traces.near_names + short if near else [])
        whole = traces.texts if near else []
        title = redact(finding.title, phrases, shingles, traces.patterns, whole, traces.stems)
        description = redact(finding.description, phrases, shingles, traces.patterns, whole, traces.stems)
        if (title, description) != (finding.title, finding.description):
            finding.title, finding.description = title[:200], description
            changed += 1
    db.session.flush()
    return changed


def _scrub_audit_searches() -> None:
    """Audit rows of exports written before the search text was kept out of them held what was
    typed into the search box (often a surname): keep that a search was made, not its words."""
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.detail).where(
        AuditEvent.object_type == "resident_list", AuditEvent.detail.like('%"query": "%'))).all()
    for event_id, detail in rows:
        data = json.loads(detail)
        if isinstance(data.get("filters", {}).get("query"), str):
            data["filters"]["query"] = True
            db.session.execute(update(AuditEvent).where(AuditEvent.id == event_id)
                               .values(detail=json.dumps(data, ensure_ascii=False, sort_keys=True)))


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj, fields) -> dict:
    return {f: _iso(getattr(obj, f)) for f in fields}


def bundle(resident: Resident) -> dict:
    """Everything Animo holds about one person, as plain data (the JSON of art. 20).

    `resident` is loaded with its details (`models.people.get_resident(..., with_details=True)`)."""
    from models.group import Group
    from models.user import User

    rid = resident.id
    users = dict(db.session.execute(select(User.id, User.name)).all())
    person = _row(resident, ("id", "first_name", "last_name", "description", "phone", "email", "street", "building",
                             "age_group", "notes", "rung", "created_at", "updated_at", "anonymised_at"))
    person["osiedle"] = resident.neighbourhood.name
    person["centre"] = db.session.get(Centre, resident.centre_id).name
    person["created_by"] = users.get(resident.created_by_id)
    person["updated_by"] = users.get(resident.updated_by_id)
    # Tags and consents came with the resident (get_resident(..., with_details=True)): no query here.
    tags = sorted(resident.tags, key=lambda t: t.id)
    consents = resident.consents
    interactions = db.session.scalars(select(Interaction).where(Interaction.resident_id == rid)
                                      .order_by(Interaction.occurred_at))
    meetings = db.session.execute(
        select(Meeting.id, Meeting.title, Meeting.kind, Meeting.starts_at, Attendance.created_at)
        .join(Attendance, Attendance.meeting_id == Meeting.id).where(Attendance.resident_id == rid)
        .order_by(Meeting.starts_at))
    memberships = db.session.execute(
        select(Membership.group_id, Group.name, Membership.role, Membership.joined_on, Membership.left_on)
        .join(Group, Group.id == Membership.group_id).where(Membership.resident_id == rid)
        .order_by(Membership.joined_on))
    commitments = db.session.scalars(select(Commitment).where(Commitment.resident_id == rid)
                                     .order_by(Commitment.created_at))
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "resident",
                                                        AuditEvent.object_id == rid).order_by(AuditEvent.at))
    return {
        "format": "animo-resident-bundle/1",
        "generated_at": _iso(utcnow()),
        "person": person,
        "tags": [{"kind": t.kind, "tag": t.tag} for t in tags],
        "consents": [{**_row(c, ("purpose", "given_on", "method", "recorded_at", "withdrawn_on")),
                      "recorded_by": users.get(c.recorded_by_id)} for c in consents],
        "contacts": [{**_row(i, ("occurred_at", "channel", "concerns", "note", "next_step", "follow_up_on",
                                 "follow_up_done_at")), "animator": users.get(i.user_id)} for i in interactions],
        "meetings": [{"meeting_id": m.id, "title": m.title, "kind": m.kind, "starts_at": _iso(m.starts_at)}
                     for m in meetings],
        "groups": [{"group_id": g.group_id, "group": g.name, "role": g.role, "joined_on": _iso(g.joined_on),
                    "left_on": _iso(g.left_on)} for g in memberships],
        "commitments": [{**_row(c, ("what", "due_on", "status", "hours", "done_on", "created_at")),
                         "recorded_by": users.get(c.recorded_by_id)} for c in commitments],
        "record_history": [{"at": _iso(e.at), "who": users.get(e.user_id), "action": e.action} for e in audit],
    }
