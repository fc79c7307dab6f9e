"""Named queries for the local diagnosis (findings) and the cooperation network (partners).

Everything is narrowed in SQL: findings, groups and meetings by `personal_data_scope(user)`;
partners by `partner_scope(user)`, which adds one rule to it: a partner without an osiedle
(neighbourhood_id NULL) works across the whole centre (a city-wide NGO, a patron for grant
applications), so every animator of that centre sees it, not only the coordinator.
Each function answers with one statement (or a fixed few), whatever the number of rows.

Also registers nothing in the timelines: findings are about the osiedle, not about a person.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased, joinedload, selectinload

from models.base import db, utcnow
from models.diagnosis import (Cooperation, Finding, FindingKind, Partner, PartnerContact, finding_group,
                              finding_interaction, finding_meeting, partner_group, partner_meeting)
from models.geo import Neighbourhood
from models.group import Group, GroupStatus
from models.meeting import Meeting
from models.text import words
from models.resident import Interaction, Resident
from models.scoping import personal_data_scope
from models.user import User

KIND_ORDER = [k.value for k in FindingKind]  # need, resource, problem, idea
NO_TAG = ""  # the bucket for findings without a tag
CHOICES_LIMIT = 300  # groups offered in a select
MEETING_CHOICES_LIMIT = 30
MEETING_CHOICES_DAYS = 60  # how far back the meetings offered in a select go (any meeting in scope is accepted)
PARTNER_MEETINGS_LIMIT = 50
COOPERATIONS_LIMIT = 100
GROUPS_WITHOUT_PARTNERS_LIMIT = 100


# --- scope ------------------------------------------------------------------------------------

def partner_scope(user):
    """The SQL condition for partners the user may see.

    Coordinators: their centre's partners. Animators: the partners of their osiedla and the
    centre's partners without an osiedle (city-wide ones). Everyone else: none."""
    scope = personal_data_scope(user)
    if scope.everything:
        return true()
    if scope.is_empty:
        return false()
    cond = scope.where(Partner)
    if scope.neighbourhood_ids is not None:
        cond = or_(cond, and_(Partner.centre_id == scope.centre_id, Partner.neighbourhood_id.is_(None)))
    return cond


def scoped_findings(user):
    return personal_data_scope(user).apply(select(Finding), Finding)


def _tags(raw: str | None) -> list[str]:
    return [t for t in (raw or "").split(",") if t]


# --- findings -------------------------------------------------------------------------------------

def _contacts_count():
    return (select(func.count()).select_from(finding_interaction)
            .where(finding_interaction.c.finding_id == Finding.id).correlate(Finding).scalar_subquery())


def _meetings_count():
    return (select(func.count()).select_from(finding_meeting)
            .where(finding_meeting.c.finding_id == Finding.id).correlate(Finding).scalar_subquery())


@dataclass
class LinkedGroup:
    id: int
    name: str
    status: str

    @property
    def acting(self) -> bool:
        """An ended group no longer answers the need."""
        return self.status != GroupStatus.ended.value


@dataclass
class FindingRow:
    """A finding with how often it came up and the groups that act on it."""

    finding: Finding
    contacts: int
    meetings: int
    recorded_by: str | None = None
    groups: list[LinkedGroup] = field(default_factory=list)

    @property
    def mentions(self) -> int:
        """How often it came up: the finding itself, and each contact and meeting where it was heard."""
        return 1 + self.contacts + self.meetings

    @property
    def tags(self) -> list[str]:
        return _tags(self.finding.tags)

    @property
    def acting_groups(self) -> list[LinkedGroup]:
        return [g for g in self.groups if g.acting]

    @property
    def is_gap(self) -> bool:
        """A need nobody works on yet: no group (still acting) is linked to it."""
        return self.finding.kind == FindingKind.need.value and not self.acting_groups


@dataclass
class TagSummary:
    tag: str  # NO_TAG for findings without a tag
    by_kind: dict = field(default_factory=lambda: {k: [] for k in KIND_ORDER})

    @property
    def mentions(self) -> int:
        return sum(r.mentions for rows in self.by_kind.values() for r in rows)

    def count(self, kind: str) -> int:
        return len(self.by_kind[kind])

    @property
    def gaps(self) -> int:
        return sum(1 for r in self.by_kind[FindingKind.need.value] if r.is_gap)


@dataclass
class Diagnosis:
    """The diagnosis of one osiedle: every finding, by tag, the gaps, and who works on what."""

    neighbourhood: Neighbourhood
    rows: list[FindingRow]

    @property
    def totals(self) -> dict:
        counts = {k: 0 for k in KIND_ORDER}
        for r in self.rows:
            counts[r.finding.kind] = counts.get(r.finding.kind, 0) + 1
        return counts

    @property
    def by_tag(self) -> list[TagSummary]:
        tags: dict[str, TagSummary] = {}
        for r in self.rows:
            for t in r.tags or [NO_TAG]:
                tags.setdefault(t, TagSummary(t)).by_kind.setdefault(r.finding.kind, []).append(r)
        for s in tags.values():
            for rows in s.by_kind.values():
                rows.sort(key=lambda r: (-r.mentions, r.finding.title.lower()))
        # The most talked-about matters first; findings without a tag last.
        return sorted(tags.values(), key=lambda s: (s.tag == NO_TAG, -s.mentions, s.tag))

    @property
    def gaps(self) -> list[FindingRow]:
        return sorted((r for r in self.rows if r.is_gap), key=lambda r: (-r.mentions, r.finding.title.lower()))

    @property
    def who_works_on_what(self) -> list[tuple[LinkedGroup, list[FindingRow]]]:
        """Groups of the osiedle linked to findings, each with the needs and problems (and the rest) it acts on."""
        groups: dict[int, tuple[LinkedGroup, list[FindingRow]]] = {}
        for r in self.rows:
            for g in r.groups:
                groups.setdefault(g.id, (g, []))[1].append(r)
        for _g, rows in groups.values():
            rows.sort(key=lambda r: (KIND_ORDER.index(r.finding.kind) if r.finding.kind in KIND_ORDER else 9,
                                     -r.mentions))
        return sorted(groups.values(), key=lambda item: item[0].name.lower())


def diagnosis(user, neighbourhood: Neighbourhood) -> Diagnosis:
    """Every finding of the osiedle in the user's scope with its counts and groups: two statements."""
    stmt = (scoped_findings(user).where(Finding.neighbourhood_id == neighbourhood.id)
            .add_columns(_contacts_count(), _meetings_count(), User.name)
            .outerjoin(User, User.id == Finding.recorded_by_id)
            .order_by(Finding.found_on.desc(), Finding.id.desc()))
    rows = [FindingRow(f, contacts, meetings, recorded_by)
            for f, contacts, meetings, recorded_by in db.session.execute(stmt)]
    if rows:
        by_id = {r.finding.id: r for r in rows}
        scope = personal_data_scope(user)
        links = db.session.execute(
            select(finding_group.c.finding_id, Group.id, Group.name, Group.status)
            .join(Group, Group.id == finding_group.c.group_id)
            .join(Finding, Finding.id == finding_group.c.finding_id)
            .where(scope.where(Finding), Finding.neighbourhood_id == neighbourhood.id, scope.where(Group))
            .order_by(Group.name, Group.id))
        for finding_id, gid, name, status in links:
            by_id[finding_id].groups.append(LinkedGroup(gid, name, status))
    return Diagnosis(neighbourhood, rows)


def get_finding(user, finding_id: int) -> Finding | None:
    """One finding, only if in the user's scope (None: the view answers 404)."""
    stmt = (scoped_findings(user).where(Finding.id == finding_id)
            # No raiseload on the author: it may be the signed-in user, whose osiedla the scope reads.
            .options(joinedload(Finding.neighbourhood), joinedload(Finding.recorded_by)))
    return db.session.scalars(stmt).unique().one_or_none()


def finding_contacts(user, finding_id: int) -> list[Interaction]:
    """The logged contacts where the finding came up, with the resident, newest first."""
    stmt = (select(Interaction).join(finding_interaction, finding_interaction.c.interaction_id == Interaction.id)
            .join(Resident, Resident.id == Interaction.resident_id)
            .where(finding_interaction.c.finding_id == finding_id, personal_data_scope(user).where(Resident))
            .options(joinedload(Interaction.resident))
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()))
    return db.session.scalars(stmt).unique().all()


def finding_meetings(user, finding_id: int) -> list[Meeting]:
    stmt = (personal_data_scope(user).apply(select(Meeting), Meeting)
            .join(finding_meeting, finding_meeting.c.meeting_id == Meeting.id)
            .where(finding_meeting.c.finding_id == finding_id)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))
    return db.session.scalars(stmt).all()


def finding_groups(user, finding_id: int) -> list[Group]:
    stmt = (personal_data_scope(user).apply(select(Group), Group)
            .join(finding_group, finding_group.c.group_id == Group.id)
            .where(finding_group.c.finding_id == finding_id)
            .order_by(Group.name, Group.id))
    return db.session.scalars(stmt).all()


def findings_to_join(user, neighbourhood_id: int, *, interaction_id: int | None = None,
                     meeting_id: int | None = None, limit: int = 30) -> list[Finding]:
    """Findings of the osiedle a new contact or meeting may belong to (not already linked to it)."""
    stmt = scoped_findings(user).where(Finding.neighbourhood_id == neighbourhood_id)
    if interaction_id:
        stmt = stmt.where(~exists().where(finding_interaction.c.finding_id == Finding.id,
                                          finding_interaction.c.interaction_id == interaction_id))
    if meeting_id:
        stmt = stmt.where(~exists().where(finding_meeting.c.finding_id == Finding.id,
                                          finding_meeting.c.meeting_id == meeting_id))
    stmt = stmt.order_by(case((Finding.kind == FindingKind.need.value, 0), else_=1), Finding.found_on.desc(),
                         Finding.id.desc()).limit(limit)
    return db.session.scalars(stmt).all()


def tags_in_use(user, neighbourhood_id: int | None = None, limit: int = 40) -> list[str]:
    """The tags already used in the diagnosis, most used first (to keep one word for one matter)."""
    stmt = scoped_findings(user).with_only_columns(Finding.tags).where(Finding.tags.is_not(None))
    if neighbourhood_id:
        stmt = stmt.where(Finding.neighbourhood_id == neighbourhood_id)
    counts: dict[str, int] = defaultdict(int)
    for raw in db.session.scalars(stmt.limit(2000)):
        for t in _tags(raw):
            counts[t] += 1
    return [t for t, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]


def link_exists(table, **values) -> bool:
    conds = [table.c[k] == v for k, v in values.items()]
    return db.session.scalar(select(exists().where(*conds))) is True


def link(table, **values) -> bool:
    """Insert a row of a link table unless it is there; True when something was added."""
    if link_exists(table, **values):
        return False
    db.session.execute(table.insert().values(**values))
    return True


def unlink(table, **values) -> bool:
    conds = [table.c[k] == v for k, v in values.items()]
    return db.session.execute(table.delete().where(*conds)).rowcount > 0


# --- groups and meetings to choose from --------------------------------------------------------

def group_choices(user, neighbourhood_id: int | None = None, exclude=()) -> list[tuple[int, str]]:
    """Groups in scope that still act (not ended), in one osiedle or in all the user's: (id, label)."""
    stmt = (personal_data_scope(user).apply(select(Group.id, Group.name, Neighbourhood.name), Group)
            .join(Neighbourhood, Neighbourhood.id == Group.neighbourhood_id)
            .where(Group.status != GroupStatus.ended.value))
    if neighbourhood_id:
        stmt = stmt.where(Group.neighbourhood_id == neighbourhood_id)
    if exclude:
        stmt = stmt.where(Group.id.not_in(list(exclude)))
    rows = db.session.execute(stmt.order_by(Group.name, Group.id).limit(CHOICES_LIMIT)).all()
    return [(gid, name if neighbourhood_id else f"{name} ({hood})") for gid, name, hood in rows]


def meeting_choices(user, neighbourhood_id: int | None = None, exclude=(), now: datetime | None = None):
    """Recent meetings in scope — of the last weeks and the next two — newest first: (id, title, starts_at).

    The window and the osiedle condition let the (centre, osiedle, start) index find them at once,
    also for a city-wide centre with tens of thousands of meetings."""
    now = now or utcnow()
    stmt = (personal_data_scope(user).apply(select(Meeting.id, Meeting.title, Meeting.starts_at), Meeting)
            .where(Meeting.starts_at <= now + timedelta(days=14),
                   Meeting.starts_at >= now - timedelta(days=MEETING_CHOICES_DAYS)))
    if neighbourhood_id:
        stmt = stmt.where(Meeting.neighbourhood_id == neighbourhood_id)
    else:
        stmt = stmt.where(Meeting.neighbourhood_id.in_(select(Neighbourhood.id)))
    if exclude:
        stmt = stmt.where(Meeting.id.not_in(list(exclude)))
    return db.session.execute(stmt.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
                              .limit(MEETING_CHOICES_LIMIT)).all()


def scoped_group(user, group_id: int, neighbourhood_id: int | None = None) -> Group | None:
    stmt = personal_data_scope(user).apply(select(Group).where(Group.id == group_id), Group)
    if neighbourhood_id:
        stmt = stmt.where(Group.neighbourhood_id == neighbourhood_id)
    return db.session.scalars(stmt).one_or_none()


def scoped_meeting(user, meeting_id: int) -> Meeting | None:
    stmt = (personal_data_scope(user).apply(select(Meeting).where(Meeting.id == meeting_id), Meeting)
            .options(joinedload(Meeting.neighbourhood)))
    return db.session.scalars(stmt).unique().one_or_none()


def scoped_interaction(user, interaction_id: int) -> Interaction | None:
    """A contact in scope, with its resident (and the resident's osiedle)."""
    stmt = (select(Interaction).join(Resident, Resident.id == Interaction.resident_id)
            .where(Interaction.id == interaction_id, Resident.anonymised_at.is_(None),
                   personal_data_scope(user).where(Resident))
            .options(joinedload(Interaction.resident).joinedload(Resident.neighbourhood)))
    return db.session.scalars(stmt).unique().one_or_none()


# --- partners -----------------------------------------------------------------------------------

@dataclass
class PartnerRow:
    partner: Partner
    contacts: int
    cooperations: int
    groups: int
    last_cooperation: object  # date | None


CITY_WIDE = "none"  # the osiedle filter value for partners without an osiedle


def partner_list(user, *, kind: str | None = None, neighbourhood: int | str | None = None, query: str = "",
                 page: int = 1, per_page: int = 50) -> tuple[list[PartnerRow], bool]:
    """One page of partners in scope with their counts; returns (rows, has_next). One statement."""
    contacts_n = (select(func.count()).select_from(PartnerContact)
                  .where(PartnerContact.partner_id == Partner.id).correlate(Partner).scalar_subquery())
    coops_n = (select(func.count()).select_from(Cooperation)
               .where(Cooperation.partner_id == Partner.id).correlate(Partner).scalar_subquery())
    groups_n = (select(func.count()).select_from(partner_group)
                .where(partner_group.c.partner_id == Partner.id).correlate(Partner).scalar_subquery())
    last_coop = (select(func.max(Cooperation.happened_on)).where(Cooperation.partner_id == Partner.id)
                 .correlate(Partner).scalar_subquery())
    stmt = (select(Partner, contacts_n, coops_n, groups_n, last_coop).where(partner_scope(user))
            .options(joinedload(Partner.neighbourhood)))
    if kind:
        stmt = stmt.where(Partner.kind == kind)
    if neighbourhood == CITY_WIDE:
        stmt = stmt.where(Partner.neighbourhood_id.is_(None))
    elif neighbourhood:
        stmt = stmt.where(Partner.neighbourhood_id == neighbourhood)
    for word in words(query)[:5]:  # diacritics and case ignored: "szkola" finds "Szkoła"
        stmt = stmt.where(Partner.name_folded.contains(word, autoescape=True))
    stmt = (stmt.order_by(Partner.active.desc(), Partner.name, Partner.id)
            .limit(per_page + 1).offset((page - 1) * per_page))
    rows = [PartnerRow(*r) for r in db.session.execute(stmt).unique()]
    return rows[:per_page], len(rows) > per_page


def get_partner(user, partner_id: int, *, with_contacts: bool = True) -> Partner | None:
    """One partner in scope, with its osiedle (and contact people); None: the view answers 404."""
    stmt = (select(Partner).where(Partner.id == partner_id, partner_scope(user))
            .options(joinedload(Partner.neighbourhood)))
    if with_contacts:
        stmt = stmt.options(selectinload(Partner.contacts))
    return db.session.scalars(stmt).unique().one_or_none()


@dataclass
class CooperationRow:
    cooperation: Cooperation
    group_name: str | None  # only when the group is in the user's scope
    meeting_title: str | None
    recorded_by: str | None


def partner_cooperations(user, partner_id: int, limit: int = COOPERATIONS_LIMIT) -> list[CooperationRow]:
    """The cooperation log, newest first; the group and meeting named only when in the user's scope."""
    scope = personal_data_scope(user)
    stmt = (select(Cooperation, Group.name, Meeting.title, User.name)
            .outerjoin(Group, and_(Group.id == Cooperation.group_id, scope.where(Group)))
            .outerjoin(Meeting, and_(Meeting.id == Cooperation.meeting_id, scope.where(Meeting)))
            .outerjoin(User, User.id == Cooperation.recorded_by_id)
            .where(Cooperation.partner_id == partner_id)
            .order_by(Cooperation.happened_on.desc(), Cooperation.id.desc()).limit(limit))
    return [CooperationRow(*r) for r in db.session.execute(stmt)]


def partner_groups(user, partner_id: int) -> list[Group]:
    """The groups in scope the partner supports."""
    stmt = (personal_data_scope(user).apply(select(Group), Group)
            .join(partner_group, partner_group.c.group_id == Group.id)
            .where(partner_group.c.partner_id == partner_id)
            .options(joinedload(Group.neighbourhood)).order_by(Group.name, Group.id))
    return db.session.scalars(stmt).unique().all()


def partner_meetings(user, partner_id: int, limit: int = PARTNER_MEETINGS_LIMIT) -> list[Meeting]:
    """The meetings in scope the partner took part in, newest first."""
    stmt = (personal_data_scope(user).apply(select(Meeting), Meeting)
            .join(partner_meeting, partner_meeting.c.meeting_id == Meeting.id)
            .where(partner_meeting.c.partner_id == partner_id)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit))
    return db.session.scalars(stmt).all()


def partners_of_group(user, group_id: int) -> list[tuple[int, str, str]]:
    """(id, name, kind) of the partners in scope that support a group: for the group's page."""
    stmt = (select(Partner.id, Partner.name, Partner.kind)
            .join(partner_group, partner_group.c.partner_id == Partner.id)
            .where(partner_group.c.group_id == group_id, partner_scope(user))
            .order_by(Partner.name, Partner.id))
    return db.session.execute(stmt).all()


# --- the network ------------------------------------------------------------------------------------

@dataclass
class Network:
    """Who cooperates with whom: the centre, partners and groups as nodes, cooperation as edges."""

    centre_name: str
    partners: list  # [Partner]
    groups: list  # [(id, name, stage)]
    centre_partner: dict  # partner id -> cooperation log entries
    partner_group: dict  # (partner id, group id) -> cooperation log entries with that group (0: support only)
    partner_partner: dict  # (partner id, partner id) -> meetings both took part in
    groups_without_partners: list  # [(id, name)]


def network(user, centre_name: str, neighbourhood_id: int | None = None) -> Network:
    """The cooperation network of one osiedle (its partners, and city-wide partners that support its
    groups) or of everything in the user's scope. Five statements."""
    scope = personal_data_scope(user)
    partners_stmt = select(Partner).where(partner_scope(user), Partner.active.is_(True))
    groups_cond = [scope.where(Group), Group.status != GroupStatus.ended.value]
    if neighbourhood_id:
        groups_cond.append(Group.neighbourhood_id == neighbourhood_id)
        supports_here = (select(partner_group.c.partner_id).join(Group, Group.id == partner_group.c.group_id)
                         .where(Group.neighbourhood_id == neighbourhood_id))
        partners_stmt = partners_stmt.where(or_(Partner.neighbourhood_id == neighbourhood_id,
                                                and_(Partner.neighbourhood_id.is_(None),
                                                     Partner.id.in_(supports_here))))
    partners = db.session.scalars(partners_stmt.order_by(Partner.kind, Partner.name, Partner.id)).all()
    ids = [p.id for p in partners]
    empty = Network(centre_name, partners, [], {}, {}, {}, [])
    without = db.session.execute(
        select(Group.id, Group.name).where(*groups_cond, ~exists().where(partner_group.c.group_id == Group.id))
        .order_by(Group.name, Group.id).limit(GROUPS_WITHOUT_PARTNERS_LIMIT)).all()
    empty.groups_without_partners = without
    if not ids:
        return empty
    coop_counts = dict(db.session.execute(
        select(Cooperation.partner_id, func.count()).where(Cooperation.partner_id.in_(ids))
        .group_by(Cooperation.partner_id)).all())
    coops_with_group = (select(func.count()).select_from(Cooperation)
                        .where(Cooperation.partner_id == partner_group.c.partner_id,
                               Cooperation.group_id == partner_group.c.group_id)
                        .correlate(partner_group).scalar_subquery())
    links = db.session.execute(
        select(partner_group.c.partner_id, Group.id, Group.name, Group.stage, coops_with_group)
        .join(Group, Group.id == partner_group.c.group_id)
        .where(partner_group.c.partner_id.in_(ids), *groups_cond)
        .order_by(Group.name, Group.id)).all()
    groups, edges = {}, {}
    for pid, gid, name, stage, n in links:
        groups.setdefault(gid, (gid, name, stage))
        edges[(pid, gid)] = n
    a, b = aliased(partner_meeting), aliased(partner_meeting)
    shared = db.session.execute(
        select(a.c.partner_id, b.c.partner_id, func.count())
        .join(b, and_(a.c.meeting_id == b.c.meeting_id, a.c.partner_id < b.c.partner_id))
        .where(a.c.partner_id.in_(ids), b.c.partner_id.in_(ids))
        .group_by(a.c.partner_id, b.c.partner_id)).all()
    return Network(centre_name, partners, list(groups.values()), {pid: coop_counts.get(pid, 0) for pid in ids},
                   edges, {(p, q): n for p, q, n in shared}, without)
