"""Regranting: micro-grant calls (nabór), applications (wniosek) and their path from submission to
settlement, reviews with conflict-of-interest declarations, agreements, settlements and attachments.

Money is Decimal in Numeric(10, 2) columns. The call keeps `granted_total` in step with every grant
inside the granting transaction (see `models/grants_queries.grant`), and a CHECK constraint holds it
within the budget, so that two coordinators deciding at the same moment can never overspend.
"""
import enum
import secrets
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (Boolean, CheckConstraint, Column, ForeignKey, Index, Numeric, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.geo import Centre, Neighbourhood

CENT = Decimal("0.01")


def money(value) -> Decimal:
    """A Decimal rounded to grosze (SQLite hands floats back for NUMERIC columns)."""
    if value is None:
        return Decimal("0.00")
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class CallStatus(str, enum.Enum):
    draft = "draft"  # szkic
    open = "open"  # otwarty
    closed = "closed"  # zamknięty
    settled = "settled"  # rozliczony


CALL_TRANSITIONS = {
    CallStatus.draft.value: (CallStatus.open.value,),
    CallStatus.open.value: (CallStatus.closed.value,),
    CallStatus.closed.value: (CallStatus.open.value, CallStatus.settled.value),
    CallStatus.settled.value: (),
}


class ApplicantKind(str, enum.Enum):
    informal = "informal"  # grupa nieformalna (co najmniej 3 dorosłe osoby, z patronem)
    ngo = "ngo"  # organizacja pozarządowa


class GrantStatus(str, enum.Enum):
    """The pipeline of an application, in order."""
    submitted = "submitted"  # złożony
    formal_failed = "formal_failed"  # ocena formalna negatywna: do poprawy w terminie
    merit_review = "merit_review"  # ocena formalna pozytywna: ocena merytoryczna
    granted = "granted"  # decyzja: przyznano
    refused = "refused"  # decyzja: odmowa
    agreement = "agreement"  # umowa podpisana
    in_progress = "in_progress"  # realizacja
    report_submitted = "report_submitted"  # sprawozdanie złożone
    settled = "settled"  # rozliczony
    returned = "returned"  # rozliczony ze zwrotem środków


GRANT_PIPELINE = [s.value for s in GrantStatus]
# Where each status may go next. Every move is recorded in GrantStatusChange.
TRANSITIONS = {
    GrantStatus.submitted.value: (GrantStatus.merit_review.value, GrantStatus.formal_failed.value),
    GrantStatus.formal_failed.value: (GrantStatus.merit_review.value, GrantStatus.refused.value),
    GrantStatus.merit_review.value: (GrantStatus.granted.value, GrantStatus.refused.value),
    GrantStatus.granted.value: (GrantStatus.agreement.value,),
    GrantStatus.agreement.value: (GrantStatus.in_progress.value,),
    GrantStatus.in_progress.value: (GrantStatus.report_submitted.value,),
    GrantStatus.report_submitted.value: (GrantStatus.settled.value, GrantStatus.returned.value),
    GrantStatus.refused.value: (),
    GrantStatus.settled.value: (),
    GrantStatus.returned.value: (),
}
# Statuses in which the granted amount counts against the call's budget.
GRANTED_STATUSES = (GrantStatus.granted.value, GrantStatus.agreement.value, GrantStatus.in_progress.value,
                    GrantStatus.report_submitted.value, GrantStatus.settled.value, GrantStatus.returned.value)
FINAL_STATUSES = (GrantStatus.refused.value, GrantStatus.settled.value, GrantStatus.returned.value)
# Before the decision: reviewers may be assigned and may score.
REVIEWABLE_STATUSES = (GrantStatus.submitted.value, GrantStatus.formal_failed.value, GrantStatus.merit_review.value)


class BudgetSource(str, enum.Enum):
    grant = "grant"  # z dotacji
    own = "own"  # wkład własny finansowy lub rzeczowy (liczy się tylko u organizacji)
    volunteer = "volunteer"  # praca wolontariuszy, wyceniona (liczy się zawsze)


# The random part of a reference number: Crockford's base32 (no I, L, O, U), four characters, so that
# "MG/2026/0007-K7QX" is read out on the phone without doubt and cannot be guessed from the sequence
# (32**4 = 1,048,576 codes per number; failed look-ups are throttled per user, see grants_queries).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 4
# What people mishear or mistype, read as the code's own characters.
CODE_READS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_reference_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_reference(application_id: int, submitted_at: datetime, code: str) -> str:
    """The number the applicants are given: MG/<year of submission>/<id>-<random code>."""
    return f"MG/{submitted_at.year}/{application_id:04d}-{code}"


class Declaration(str, enum.Enum):
    no_conflict = "no_conflict"  # brak konfliktu interesów: wniosek się otwiera
    conflict = "conflict"  # konflikt interesów: oceniający nie ocenia tego wniosku


grant_call_neighbourhood = Table(
    "grant_call_neighbourhood", db.metadata,
    Column("call_id", ForeignKey("grant_call.id", ondelete="CASCADE"), primary_key=True),
    Column("neighbourhood_id", ForeignKey("neighbourhood.id"), primary_key=True),
)


class GrantCall(db.Model):
    """A call for micro-grants (nabór) run by a regranting centre."""

    __tablename__ = "grant_call"
    __table_args__ = (
        CheckConstraint("granted_total >= 0 AND granted_total <= budget", name="within_budget"),
        CheckConstraint("max_grant > 0 AND max_grant <= budget", name="max_grant"),
        CheckConstraint("min_own_percent >= 0 AND min_own_percent <= 100", name="own_percent"),
        Index("ix_grant_call_centre", "centre_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    budget: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    max_grant: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    min_own_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("10.00"))
    all_neighbourhoods: Mapped[bool] = mapped_column(Boolean, default=True)
    opens_on: Mapped[date]
    closes_on: Mapped[date | None]  # None: rolling, open until the budget is spent
    activities_from: Mapped[date]  # initiatives run within these dates
    activities_to: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default=CallStatus.draft.value)
    # Kept in step by every grant, in the granting transaction; CHECK: never above the budget.
    granted_total: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    centre: Mapped[Centre] = relationship(lazy="raise")
    criteria: Mapped[list["GrantCriterion"]] = relationship(
        back_populates="call", lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by="GrantCriterion.position")
    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(secondary=grant_call_neighbourhood, lazy="raise",
                                                               order_by=Neighbourhood.name)

    __mapper_args__ = {"version_id_col": version}

    @property
    def rolling(self) -> bool:
        return self.closes_on is None

    @property
    def budget_left(self) -> Decimal:
        return money(self.budget) - money(self.granted_total)

    @property
    def max_points(self) -> int:
        return sum(c.max_points for c in self.criteria)

    def accepts_applications(self, today: date) -> bool:
        """Open, within its dates, and (rolling calls) money left."""
        if self.status != CallStatus.open.value or today < self.opens_on:
            return False
        if self.closes_on is not None:
            return today <= self.closes_on
        return self.budget_left > 0

    def eligible(self, neighbourhood_id: int) -> bool:
        return self.all_neighbourhoods or neighbourhood_id in {n.id for n in self.neighbourhoods}


class GrantCriterion(db.Model):
    """One criterion of the merits assessment, with its maximum points."""

    __tablename__ = "grant_criterion"
    __table_args__ = (CheckConstraint("max_points > 0", name="max_points"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("grant_call.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    max_points: Mapped[int]

    call: Mapped[GrantCall] = relationship(back_populates="criteria", lazy="raise")


class GrantApplication(db.Model):
    """An application (wniosek): an informal group with a patron NGO, or an NGO."""

    __tablename__ = "grant_application"
    __table_args__ = (
        CheckConstraint("granted_amount IS NULL OR (granted_amount > 0 AND granted_amount <= requested_amount)",
                        name="granted_within_request"),
        Index("ix_grant_application_call", "call_id", "status"),
        Index("ix_grant_application_centre", "centre_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("grant_call.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))  # the call's centre: what scoping reads
    applicant_kind: Mapped[str] = mapped_column(String(10), default=ApplicantKind.informal.value)
    applicant_name: Mapped[str] = mapped_column(String(200))  # the group's or the NGO's name
    applicant_krs: Mapped[str | None] = mapped_column(String(10))
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("community_group.id", ondelete="SET NULL"), index=True)
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood.id"))
    title: Mapped[str] = mapped_column(String(200))
    need: Mapped[str] = mapped_column(Text)  # the need
    diagnosis: Mapped[str] = mapped_column(Text)  # how the need was diagnosed
    goals: Mapped[str] = mapped_column(Text)
    activities: Mapped[str] = mapped_column(Text)  # activities and schedule
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    expected_participants: Mapped[int] = mapped_column(default=0)
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    # Totals of the budget lines, kept with them: the grant asked for, and the own contribution that counts.
    requested_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    own_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    volunteer_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    granted_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    status: Mapped[str] = mapped_column(String(20), default=GrantStatus.submitted.value)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    formal_reasons: Mapped[str | None] = mapped_column(Text)
    correction_due: Mapped[date | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None]
    agreement_number: Mapped[str | None] = mapped_column(String(40))
    agreement_date: Mapped[date | None]
    returned_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    source: Mapped[str] = mapped_column(String(10), default="staff")  # "public" (the form) or "staff"
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The random part of the reference number (see CODE_ALPHABET): knowing the number is what lets a
    # group ask for a link to its application.
    reference_code: Mapped[str] = mapped_column(String(CODE_LENGTH), default=new_reference_code)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    call: Mapped[GrantCall] = relationship(lazy="raise")
    centre: Mapped[Centre] = relationship(lazy="raise")
    patron = relationship("Partner", lazy="raise")
    group = relationship("Group", lazy="raise")
    neighbourhood: Mapped[Neighbourhood] = relationship(lazy="raise")
    members: Mapped[list["GrantMember"]] = relationship(
        back_populates="application", lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by="GrantMember.position")
    lines: Mapped[list["GrantBudgetLine"]] = relationship(
        back_populates="application", lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by="GrantBudgetLine.position")
    changes: Mapped[list["GrantStatusChange"]] = relationship(
        back_populates="application", lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by="GrantStatusChange.id")
    settlement: Mapped["Settlement | None"] = relationship(back_populates="application", lazy="raise",
                                                           cascade="all, delete-orphan", passive_deletes=True)

    __mapper_args__ = {"version_id_col": version}

    viewer_coached = False  # set by grants_queries.get_application for the signed-in user (not a column)

    @property
    def own_total(self) -> Decimal:
        """The own contribution that counts toward the call's minimum."""
        return money(self.own_amount) + money(self.volunteer_amount)

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS.get(self.status, ())

    @property
    def is_granted(self) -> bool:
        return self.status in GRANTED_STATUSES

    @property
    def reference(self) -> str:
        """The number the applicants are given, e.g. MG/2026/0007-K7QX (year of submission, id, random code)."""
        return format_reference(self.id, self.submitted_at, self.reference_code)


class GrantMember(db.Model):
    """A person of the applicant informal group, as listed in the application."""

    __tablename__ = "grant_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_application.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    adult: Mapped[bool] = mapped_column(Boolean, default=False)  # adulthood confirmed by the applicants
    contact: Mapped[bool] = mapped_column(Boolean, default=False)  # the contact person

    application: Mapped[GrantApplication] = relationship(back_populates="members", lazy="raise")


class GrantBudgetLine(db.Model):
    """A line of the budget: item, quantity, unit cost, where the money comes from; `spent` in the settlement."""

    __tablename__ = "grant_budget_line"
    __table_args__ = (
        CheckConstraint("quantity > 0 AND unit_cost >= 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_application.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    item: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    source: Mapped[str] = mapped_column(String(10), default=BudgetSource.grant.value)
    spent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # the financial report, per line

    application: Mapped[GrantApplication] = relationship(back_populates="lines", lazy="raise")

    @property
    def total(self) -> Decimal:
        return money(money(self.quantity) * money(self.unit_cost))


class GrantStatusChange(db.Model):
    """A move of an application along the pipeline: who, when and why. Never edited, never deleted."""

    __tablename__ = "grant_status_change"
    __table_args__ = (
        # Two people moving the same application at once cannot both record a move from the same state.
        UniqueConstraint("application_id", "from_version", name="uq_grant_status_change_application_from_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_application.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    from_version: Mapped[int]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text)

    application: Mapped[GrantApplication] = relationship(back_populates="changes", lazy="raise")
    user = relationship("User", lazy="raise")


class ReviewAssignment(db.Model):
    """A reviewer assigned to an application, and their conflict-of-interest declaration."""

    __tablename__ = "grant_review_assignment"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id", name="uq_grant_review_assignment_application_reviewer"),
        Index("ix_grant_review_assignment_reviewer", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_application.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    declaration: Mapped[str | None] = mapped_column(String(12))  # None until declared
    declared_at: Mapped[datetime | None]

    application: Mapped[GrantApplication] = relationship(lazy="raise")
    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="raise")
    review: Mapped["Review | None"] = relationship(back_populates="assignment", lazy="raise",
                                                   cascade="all, delete-orphan", passive_deletes=True)

    @property
    def may_review(self) -> bool:
        return self.declaration == Declaration.no_conflict.value


class Review(db.Model):
    """One reviewer's scores of one application, per criterion, with a comment."""

    __tablename__ = "grant_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("grant_review_assignment.id", ondelete="CASCADE"),
                                               unique=True)
    total: Mapped[int] = mapped_column(default=0)  # the sum of the scores, for the ranking
    comment: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="review", lazy="raise")
    scores: Mapped[list["ReviewScore"]] = relationship(back_populates="review", lazy="raise",
                                                       cascade="all, delete-orphan", passive_deletes=True)

    __mapper_args__ = {"version_id_col": version}


class ReviewScore(db.Model):
    __tablename__ = "grant_review_score"
    __table_args__ = (CheckConstraint("points >= 0", name="points"),)

    review_id: Mapped[int] = mapped_column(ForeignKey("grant_review.id", ondelete="CASCADE"), primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("grant_criterion.id", ondelete="CASCADE"), primary_key=True)
    points: Mapped[int]

    review: Mapped[Review] = relationship(back_populates="scores", lazy="raise")


class Settlement(db.Model):
    """The report closing an initiative: the narrative here, spending on the budget lines and documents."""

    __tablename__ = "grant_settlement"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_application.id", ondelete="CASCADE"),
                                                unique=True)
    what_happened: Mapped[str] = mapped_column(Text, default="")
    participants: Mapped[int] = mapped_column(default=0)
    volunteers: Mapped[int] = mapped_column(default=0)
    volunteer_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("0.00"))
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    application: Mapped[GrantApplication] = relationship(back_populates="settlement", lazy="raise")
    documents: Mapped[list["SettlementDocument"]] = relationship(
        back_populates="settlement", lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SettlementDocument.issued_on, SettlementDocument.id")

    __mapper_args__ = {"version_id_col": version}


class SettlementDocument(db.Model):
    """An invoice or a bill in the financial report."""

    __tablename__ = "grant_settlement_document"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("grant_settlement.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    what_for: Mapped[str] = mapped_column(String(300))
    budget_line_id: Mapped[int | None] = mapped_column(ForeignKey("grant_budget_line.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    settlement: Mapped[Settlement] = relationship(back_populates="documents", lazy="raise")


class Attachment(db.Model):
    """A photo or a scan attached to an application (usually to its settlement), stored under
    instance/uploads/ with a generated name; the original name is kept only for the download."""

    __tablename__ = "grant_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_application.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("grant_settlement_document.id", ondelete="SET NULL"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    description: Mapped[str | None] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class LinkStatus(str, enum.Enum):
    pending = "pending"  # czeka na potwierdzenie koordynatora/ki centrum prowadzącego nabór
    confirmed = "confirmed"  # potwierdzona: wniosek połączony z grupą
    refused = "refused"  # odrzucona


class GrantLinkRequest(db.Model):
    """A group's request to be linked to an application outside the requester's scope (the application of
    another centre's call). Until the coordinator of the centre running the call confirms it, nothing of
    the application reaches the group's page; confirmed, the application's `group_id` is set."""

    __tablename__ = "grant_link_request"
    __table_args__ = (
        # One request per group and application: asking again after a refusal is not a new request.
        UniqueConstraint("application_id", "group_id", name="uq_grant_link_request_application_group"),
        Index("ix_grant_link_request_group", "group_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_application.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("community_group.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default=LinkStatus.pending.value)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    application: Mapped[GrantApplication] = relationship(lazy="raise")
    group = relationship("Group", lazy="raise")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="raise")


class ReferenceAttempt(db.Model):
    """A reference number typed to link a group that matched nothing linkable, kept so that guessing is
    throttled per user across every worker. Only who and when; rows older than a day go as new ones come."""

    __tablename__ = "grant_reference_attempt"
    __table_args__ = (Index("ix_grant_reference_attempt_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ApplyAttempt(db.Model):
    """A POST of the public application form, kept so that throttling holds across every worker.
    Only the address and the time; rows older than a day are deleted as new ones come."""

    __tablename__ = "grant_apply_attempt"
    __table_args__ = (Index("ix_grant_apply_attempt_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ip: Mapped[str] = mapped_column(String(64))
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
