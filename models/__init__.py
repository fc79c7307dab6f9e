"""Animo's data model: the `db` object, every model, and the named queries.

A leaf package: it imports nothing from `app/` or `views/`, so CLI scripts, the
benchmark and tests can use the models without building an application.
"""
from models.base import db, utcnow
from models.geo import Centre, CentreKind, Neighbourhood
from models.user import LoginAttempt, LoginLimits, Role, User, UserSession, user_neighbourhood
from models.audit import AuditEvent, record_audit
from models.scoping import Scope, personal_data_scope, team_scope
from models.resident import (AgeGroup, Channel, Consent, ConsentMethod, ConsentPurpose, Interaction, Resident,
                             ResidentTag, Rung, RUNG_ORDER, TagKind)
from models.group import Goal, GoalStatus, Group, GroupStatus, MemberRole, Membership, Stage, StageChange, STAGE_ORDER
from models.meeting import Attendance, Commitment, CommitmentStatus, Meeting, MeetingKind, meeting_animator
from models.diagnosis import (Cooperation, Finding, FindingKind, FindingSource, Partner, PartnerContact, PartnerKind,
                              finding_group, finding_interaction, finding_meeting, partner_group, partner_meeting)
from models.register import ProcessingActivity
from models.submission import Submission
from models import ladder, timeline
from models import meetings_queries  # noqa: E402,F401  registers the meeting and commitment timeline sources
from models import groups_queries  # noqa: E402,F401  registers the stage and membership timeline sources
from models import diagnosis_queries  # noqa: E402,F401  the local diagnosis and the cooperation network
from models.grants import (ApplicantKind, ApplyAttempt, Attachment, BudgetSource, CallStatus, Declaration,
                           GrantApplication, GrantBudgetLine, GrantCall, GrantCriterion, GrantLinkRequest,
                           GrantMember, GrantStatus, GrantStatusChange, LinkStatus, ReferenceAttempt, Review, ReviewAssignment, ReviewScore, Settlement, SettlementDocument,
                           grant_call_neighbourhood)
from models import grants_queries  # noqa: E402,F401

__all__ = [
    "db", "utcnow",
    "Centre", "CentreKind", "Neighbourhood",
    "LoginAttempt", "LoginLimits", "Role", "User", "UserSession", "user_neighbourhood",
    "AuditEvent", "record_audit",
    "Scope", "personal_data_scope", "team_scope",
    "AgeGroup", "Channel", "Consent", "ConsentMethod", "ConsentPurpose", "Interaction", "Resident", "ResidentTag",
    "Rung", "RUNG_ORDER", "TagKind",
    "Goal", "GoalStatus", "Group", "GroupStatus", "MemberRole", "Membership", "Stage", "StageChange", "STAGE_ORDER",
    "Attendance", "Commitment", "CommitmentStatus", "Meeting", "MeetingKind", "meeting_animator",
    "ladder", "timeline", "ProcessingActivity",
    "Cooperation", "Finding", "FindingKind", "FindingSource", "Partner", "PartnerContact", "PartnerKind",
    "finding_group", "finding_interaction", "finding_meeting", "partner_group", "partner_meeting",
    "ApplicantKind", "ApplyAttempt", "Attachment", "BudgetSource", "CallStatus", "Declaration", "GrantApplication",
    "GrantBudgetLine", "GrantCall", "GrantCriterion", "GrantLinkRequest", "GrantMember", "LinkStatus",
    "ReferenceAttempt", "GrantStatus", "GrantStatusChange", "Review",
    "ReviewAssignment", "ReviewScore", "Settlement", "SettlementDocument", "grant_call_neighbourhood",
    "grants_queries",
    "Submission",
]
