"""Every route, tried by every role and with ids outside the user's scope.

The table below must name every rule in `app.url_map`: a new route without a row fails
`test_every_route_is_in_the_matrix`, so nobody adds a page without deciding who may see it.
"""
import pytest

ROLES = ["anon", "animator@wilda", "coordinator@wilda", "reviewer@regranting", "city", "admin"]
SIGNED_IN = 200
LOGIN = 302  # redirect to /login

STAFF_ONLY = {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403}
STAFF_422 = {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403}
# rule -> {role: expected GET status}; ids in the rule are filled by ID_RESOLVERS ("own" scope).
GET_MATRIX = {
    "/login": {"anon": 200, "*": 302},
    "/": {"anon": LOGIN, "*": 200},
    "/healthz": {"*": 200},
    # the city's view: programme-wide figures, no personal data (views/city.py)
    "/city": {"anon": LOGIN, "city": 200, "admin": 200, "*": 403},
    "/city/export.<fmt>": {"anon": LOGIN, "city": 200, "admin": 200, "*": 403},
    "/account/password": {"anon": LOGIN, "*": 200},
    "/admin/users": {"anon": LOGIN, "coordinator@wilda": 200, "admin": 200, "*": 403},
    "/admin/users/new": {"anon": LOGIN, "coordinator@wilda": 200, "admin": 200, "*": 403},
    "/admin/users/<int:user_id>": {"anon": LOGIN, "coordinator@wilda": 200, "admin": 200, "*": 403},
    "/admin/centres": {"anon": LOGIN, "admin": 200, "*": 403},
    "/admin/centres/new": {"anon": LOGIN, "admin": 200, "*": 403},
    "/admin/centres/<int:centre_id>": {"anon": LOGIN, "admin": 200, "*": 403},
    "/admin/audit": {"anon": LOGIN, "admin": 200, "coordinator@wilda": 200, "*": 403},
    "/admin/audit/export.<fmt>": {"anon": LOGIN, "admin": 200, "coordinator@wilda": 200, "*": 403},
    "/static/<path:filename>": {"*": 200},
    # residents and contacts: animators and coordinators only
    "/residents": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/new": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/duplicates": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/search": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/<int:resident_id>": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/<int:resident_id>/edit": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/<int:resident_id>/merge": {"anon": LOGIN, "coordinator@wilda": 200, "*": 403},
    "/interactions/new": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/followups": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/followups/export.<fmt>": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    # RODO
    "/residents/<int:resident_id>/data": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/<int:resident_id>/data.json": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200,
                                               "*": 403},
    "/residents/<int:resident_id>/erase": {"anon": LOGIN, "coordinator@wilda": 200, "*": 403},
    "/residents/export.<fmt>": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/privacy/retention": {"anon": LOGIN, "coordinator@wilda": 200, "*": 403},
    "/privacy/clause": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "admin": 200, "*": 403},
    "/residents/import": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/privacy/register": {"anon": LOGIN, "city": 403, "*": 200},
    "/privacy/register/new": {"anon": LOGIN, "admin": 200, "*": 403},
    # the register is reference data kept between tests: the matrix only opens a missing entry
    "/privacy/register/<int:activity_id>": {"anon": LOGIN, "admin": 404, "*": 403},
    # an upload belongs to the user who sent it; the matrix's token is nobody's
    "/residents/import/<token>": {"anon": LOGIN, "animator@wilda": 404, "coordinator@wilda": 404, "*": 403},
    # informal groups: animators (their osiedla) and coordinators (their centre) only
    "/groups": STAFF_ONLY,
    "/groups/new": STAFF_ONLY,
    "/groups/board": STAFF_ONLY,
    "/groups/<int:group_id>": STAFF_ONLY,
    "/groups/<int:group_id>/edit": STAFF_ONLY,
    "/groups/<int:group_id>/stage": STAFF_ONLY,
    "/groups/<int:group_id>/member-search": STAFF_ONLY,
    "/groups/<int:group_id>/members/<int:membership_id>": STAFF_ONLY,
    "/groups/<int:group_id>/health": STAFF_ONLY,
    "/groups/<int:group_id>/timeline": STAFF_ONLY,
    # meetings, the after-meeting screen and commitments: animators and coordinators only
    "/meetings": STAFF_ONLY,
    "/meetings/new": STAFF_ONLY,
    "/meetings/<int:meeting_id>": STAFF_ONLY,
    "/meetings/<int:meeting_id>/edit": STAFF_ONLY,
    "/meetings/<int:meeting_id>/people": STAFF_ONLY,
    "/meetings/<int:meeting_id>/commitments/new": STAFF_ONLY,
    "/meetings/calendar": STAFF_ONLY,
    # the feed needs no sign-in, only a live token: a made-up one is not found, whoever asks
    "/meetings/calendar/<token>.ics": {"*": 404},
    "/commitments": STAFF_ONLY,
    "/commitments/new": STAFF_ONLY,
    "/commitments/<int:commitment_id>": STAFF_ONLY,
    "/commitments/timesheet/<int:resident_id>": STAFF_ONLY,
    # the local diagnosis and the cooperation network: animators and coordinators only
    "/diagnosis": {"anon": LOGIN, "animator@wilda": 302, "coordinator@wilda": 302, "*": 403},  # to the first osiedle
    "/diagnosis/<hood_slug>": STAFF_ONLY,
    "/diagnosis/<hood_slug>/export.xlsx": STAFF_ONLY,
    "/diagnosis/findings/new": STAFF_ONLY,
    "/diagnosis/findings/<int:finding_id>": STAFF_ONLY,
    "/diagnosis/findings/<int:finding_id>/edit": STAFF_ONLY,
    "/partners": STAFF_ONLY,
    "/partners/new": STAFF_ONLY,
    "/partners/network": STAFF_ONLY,
    "/partners/for-group/<int:group_id>": STAFF_ONLY,
    "/partners/<int:partner_id>": STAFF_ONLY,
    "/partners/<int:partner_id>/edit": STAFF_ONLY,
    "/partners/<int:partner_id>/cooperations/new": STAFF_ONLY,
}
# Write-only rules: POST with no body. Anonymous users are sent to /login (or get a 4xx),
# unauthorised roles 403, authorised ones a validation answer (422) or a redirect (303).
POST_MATRIX = {
    "/login": {"*": 422},
    "/logout": {"*": 303},
    "/language": {"*": 303},
    "/account/password": {"anon": LOGIN, "*": 422},
    "/admin/users/new": {"anon": LOGIN, "coordinator@wilda": 422, "admin": 422, "*": 403},
    "/admin/users/<int:user_id>": {"anon": LOGIN, "coordinator@wilda": 422, "admin": 422, "*": 403},
    "/admin/users/<int:user_id>/password": {"anon": LOGIN, "coordinator@wilda": 422, "admin": 422, "*": 403},
    "/admin/centres/new": {"anon": LOGIN, "admin": 422, "*": 403},
    "/admin/centres/<int:centre_id>": {"anon": LOGIN, "admin": 422, "*": 403},
    "/residents/new": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    "/residents/<int:resident_id>": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    "/residents/<int:resident_id>/consents": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422,
                                              "*": 403},
    "/residents/<int:resident_id>/consents/<int:consent_id>/withdraw": {
        "anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/residents/<int:resident_id>/merge": {"anon": LOGIN, "coordinator@wilda": 422, "*": 403},
    "/interactions/new": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    "/interactions/new/person": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    # a follow-up belongs to the animator who logged it
    "/followups/<int:interaction_id>/done": {"anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 404,
                                             "*": 403},
    "/residents/<int:resident_id>/erase": {"anon": LOGIN, "coordinator@wilda": 422, "*": 403},
    "/residents/import": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    "/privacy/register/new": {"anon": LOGIN, "admin": 422, "*": 403},
    "/privacy/register/<int:activity_id>": {"anon": LOGIN, "admin": 404, "*": 403},
    "/privacy/register/<int:activity_id>/delete": {"anon": LOGIN, "admin": 404, "*": 403},
    "/residents/import/<token>": {"anon": LOGIN, "animator@wilda": 404, "coordinator@wilda": 404, "*": 403},
    "/residents/import/<token>/cancel": {"anon": LOGIN, "animator@wilda": 404, "coordinator@wilda": 404, "*": 403},
    # one-step anonymisation only for someone inactive for 24 months: the demo has nobody that old
    "/privacy/retention/<int:resident_id>/erase": {"anon": LOGIN, "coordinator@wilda": 422, "*": 403},
    "/groups/new": STAFF_422,
    "/groups/<int:group_id>": STAFF_422,
    "/groups/<int:group_id>/stage": STAFF_422,
    "/groups/<int:group_id>/members": STAFF_422,
    "/groups/<int:group_id>/members/<int:membership_id>": STAFF_422,
    "/groups/<int:group_id>/goals": STAFF_422,
    "/groups/<int:group_id>/goals/<int:goal_id>": STAFF_422,
    # leaving needs nothing but the member: it is done (after the role change above)
    "/groups/<int:group_id>/members/<int:membership_id>/leave": {"anon": LOGIN, "animator@wilda": 303,
                                                                 "coordinator@wilda": 303, "*": 403},
    "/meetings/new": STAFF_422,
    "/meetings/quick": STAFF_422,
    "/meetings/<int:meeting_id>/edit": STAFF_422,
    "/meetings/<int:meeting_id>/delete": STAFF_422,  # needs an explicit confirmation
    "/meetings/<int:meeting_id>/attendance/<int:resident_id>": STAFF_422,
    "/meetings/<int:meeting_id>/people/new": STAFF_422,
    "/meetings/<int:meeting_id>/headcount": STAFF_422,
    "/meetings/<int:meeting_id>/notes": STAFF_422,
    "/meetings/<int:meeting_id>/commitments": STAFF_422,
    "/meetings/calendar/token": {"anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/meetings/calendar/revoke": {"anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/commitments/new": STAFF_422,
    "/commitments/<int:commitment_id>": STAFF_422,
    "/commitments/<int:commitment_id>/status": STAFF_422,
    "/diagnosis/findings/new": STAFF_422,
    "/diagnosis/findings/<int:finding_id>": STAFF_422,
    "/diagnosis/findings/<int:finding_id>/delete": STAFF_422,  # needs an explicit yes
    "/diagnosis/findings/<int:finding_id>/groups": STAFF_422,
    "/diagnosis/findings/<int:finding_id>/sources": STAFF_422,
    # unlinking needs nothing but the two records: it is done (idempotent)
    "/diagnosis/findings/<int:finding_id>/groups/<int:group_id>/remove": {
        "anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/diagnosis/findings/<int:finding_id>/interactions/<int:interaction_id>/remove": {
        "anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/diagnosis/findings/<int:finding_id>/meetings/<int:meeting_id>/remove": {
        "anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/partners/new": STAFF_422,
    "/partners/<int:partner_id>": STAFF_422,
    "/partners/<int:partner_id>/contacts": STAFF_422,
    "/partners/<int:partner_id>/cooperations": STAFF_422,
    "/partners/<int:partner_id>/groups": STAFF_422,
    "/partners/<int:partner_id>/meetings": STAFF_422,
    "/partners/<int:partner_id>/contacts/<int:contact_id>/delete": {
        "anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/partners/<int:partner_id>/groups/<int:group_id>/remove": {
        "anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/partners/<int:partner_id>/meetings/<int:meeting_id>/remove": {
        "anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
}
# Micro-grants (views/grants.py): coordinators run their centre's calls; coordinator@wilda's centre runs none
# (the list says so politely, every id is a 404); reviewer@regranting reaches the call and the application
# assigned to it (declared, in the merits assessment) and gets 403 on what only the centre's coordinators do.
GRANT_LIST = {"anon": LOGIN, "coordinator@wilda": 200, "reviewer@regranting": 200, "*": 403}
GRANT_SEEN = {"anon": LOGIN, "coordinator@wilda": 404, "reviewer@regranting": 200, "*": 403}
GRANT_MANAGE = {"anon": LOGIN, "coordinator@wilda": 404, "reviewer@regranting": 403, "*": 403}
GRANT_HIDDEN = {"anon": LOGIN, "coordinator@wilda": 404, "reviewer@regranting": 404, "*": 403}
GRANT_REVIEW = {"anon": LOGIN, "coordinator@wilda": 404, "reviewer@regranting": 422, "*": 403}
GET_MATRIX.update({
    "/grants/calls": GRANT_LIST,
    "/grants/calls/new": {"anon": LOGIN, "*": 403},  # only a regranting centre's coordinator
    "/grants/calls/<int:call_id>": GRANT_SEEN,
    "/grants/calls/<int:call_id>/edit": GRANT_MANAGE,
    "/grants/calls/<int:call_id>/applications/new": GRANT_MANAGE,
    "/grants/applications/<int:application_id>": GRANT_SEEN,
    "/grants/applications/<int:application_id>/edit": GRANT_MANAGE,
    "/grants/applications/<int:application_id>/group": GRANT_MANAGE,
    "/grants/applications/<int:application_id>/settlement": GRANT_MANAGE,
    "/grants/applications/<int:application_id>/attachments/<int:attachment_id>": GRANT_HIDDEN,
    "/grants/groups/<int:group_id>": STAFF_ONLY,  # a group's grants, loaded into its page
    "/grants/groups/<int:group_id>/link": STAFF_ONLY,
    # the public form of an open call: no login; the confirmation only in the applicant's session
    "/apply/<slug>": {"*": 200},
    "/apply/<slug>/submitted": {"*": 302},
})
POST_MATRIX.update({
    "/grants/calls/new": {"anon": LOGIN, "*": 403},
    "/grants/calls/<int:call_id>/edit": GRANT_MANAGE,
    "/grants/calls/<int:call_id>/status": GRANT_MANAGE,
    "/grants/calls/<int:call_id>/applications/new": GRANT_MANAGE,
    **{f"/grants/applications/<int:application_id>/{action}": GRANT_MANAGE for action in (
        "formal", "decision", "agreement", "start", "close", "edit", "reviewers", "group", "settlement",
        "settlement/documents", "attachments", "reviewers/<int:assignment_id>/remove")},
    "/grants/applications/<int:application_id>/declaration": GRANT_REVIEW,
    "/grants/applications/<int:application_id>/review": GRANT_REVIEW,
    # a group's request for a link, confirmed or refused by the coordinator of the centre running the call
    "/grants/applications/<int:application_id>/link-requests/<int:request_id>": GRANT_MANAGE,
    "/grants/groups/<int:group_id>/link": STAFF_422,
    "/apply/<slug>": {"*": 422},
})
# The report for the city (views/reports.py): staff get their own centre's (animators: their osiedla);
# the city and admins choose a centre (a download without one is a 422 asking for it); reviewers none.
REPORT_DOWNLOAD = {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "city": 422, "admin": 422,
                   "*": 403}
GET_MATRIX.update({
    "/reports": {"anon": LOGIN, "reviewer@regranting": 403, "*": 200},
    "/reports/xlsx": REPORT_DOWNLOAD,
    "/reports/csv": REPORT_DOWNLOAD,
})


# For the roles that may open a record: an id outside their scope must be a 404.
OUT_OF_SCOPE = {
    "/admin/users/<int:user_id>": {"coordinator@wilda": 404},
    "/admin/users/<int:user_id>/password": {"coordinator@wilda": 404},
    "/residents/<int:resident_id>": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/edit": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/merge": {"coordinator@wilda": 404},
    "/residents/<int:resident_id>/consents": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/consents/<int:consent_id>/withdraw": {"animator@wilda": 404,
                                                                        "coordinator@wilda": 404},
    "/followups/<int:interaction_id>/done": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/data": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/data.json": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/erase": {"coordinator@wilda": 404},
    "/privacy/retention/<int:resident_id>/erase": {"coordinator@wilda": 404},
    **{rule: {"animator@wilda": 404, "coordinator@wilda": 404} for rule in (
        "/groups/<int:group_id>", "/groups/<int:group_id>/edit", "/groups/<int:group_id>/stage",
        "/groups/<int:group_id>/member-search", "/groups/<int:group_id>/members",
        "/groups/<int:group_id>/members/<int:membership_id>",
        "/groups/<int:group_id>/members/<int:membership_id>/leave", "/groups/<int:group_id>/goals",
        "/groups/<int:group_id>/goals/<int:goal_id>", "/groups/<int:group_id>/health",
        "/groups/<int:group_id>/timeline")},
    **{rule: {"animator@wilda": 404, "coordinator@wilda": 404} for rule in (
        "/meetings/<int:meeting_id>", "/meetings/<int:meeting_id>/people",
        "/meetings/<int:meeting_id>/commitments/new", "/commitments/timesheet/<int:resident_id>",
        "/meetings/<int:meeting_id>/edit", "/meetings/<int:meeting_id>/delete",
        "/meetings/<int:meeting_id>/attendance/<int:resident_id>", "/meetings/<int:meeting_id>/people/new",
        "/meetings/<int:meeting_id>/headcount", "/meetings/<int:meeting_id>/notes",
        "/meetings/<int:meeting_id>/commitments", "/commitments/<int:commitment_id>",
        "/commitments/<int:commitment_id>/status")},
    **{rule: {"animator@wilda": 404, "coordinator@wilda": 404} for rule in (
        "/diagnosis/<hood_slug>", "/diagnosis/<hood_slug>/export.xlsx", "/diagnosis/findings/<int:finding_id>",
        "/diagnosis/findings/<int:finding_id>/edit", "/diagnosis/findings/<int:finding_id>/delete",
        "/diagnosis/findings/<int:finding_id>/groups", "/diagnosis/findings/<int:finding_id>/sources",
        "/diagnosis/findings/<int:finding_id>/groups/<int:group_id>/remove",
        "/diagnosis/findings/<int:finding_id>/interactions/<int:interaction_id>/remove",
        "/diagnosis/findings/<int:finding_id>/meetings/<int:meeting_id>/remove",
        "/partners/for-group/<int:group_id>", "/partners/<int:partner_id>", "/partners/<int:partner_id>/edit",
        "/partners/<int:partner_id>/contacts", "/partners/<int:partner_id>/cooperations",
        "/partners/<int:partner_id>/cooperations/new",
        "/partners/<int:partner_id>/groups", "/partners/<int:partner_id>/meetings",
        "/partners/<int:partner_id>/contacts/<int:contact_id>/delete",
        "/partners/<int:partner_id>/groups/<int:group_id>/remove",
        "/partners/<int:partner_id>/meetings/<int:meeting_id>/remove")},
}


OUT_OF_SCOPE.update({
    rule: {"coordinator@wilda": 404, "reviewer@regranting": 404}
    for rule in (*(r for r in GET_MATRIX if r.startswith("/grants/c") or r.startswith("/grants/a")),
                 *(r for r in POST_MATRIX if r.startswith("/grants/c") or r.startswith("/grants/a")))
    if "<" in rule
})
OUT_OF_SCOPE.update({"/grants/groups/<int:group_id>": {"animator@wilda": 404, "coordinator@wilda": 404},
                     "/grants/groups/<int:group_id>/link": {"animator@wilda": 404, "coordinator@wilda": 404}})


def _grant_records_of(world, own: bool) -> dict:
    """The regranting centre's demo call and an application: "own" is the one assigned to the demo reviewer
    (declared, in the merits assessment); "foreign" one not assigned to it, in a call with no assignment."""
    from sqlalchemy import exists, select

    from models import GrantApplication, GrantCall, ReviewAssignment, db

    reviewer = world.users["reviewer@regranting"]
    assigned = exists().where(ReviewAssignment.application_id == GrantApplication.id,
                              ReviewAssignment.reviewer_id == reviewer)
    if own:
        application_id = db.session.scalar(select(GrantApplication.id).where(
            GrantApplication.status == "merit_review", assigned).order_by(GrantApplication.id).limit(1))
        call_id = db.session.scalar(select(GrantApplication.call_id).where(GrantApplication.id == application_id))
    else:
        call_id = db.session.scalar(select(GrantCall.id).where(GrantCall.status == "open").limit(1))
        application_id = db.session.scalar(select(GrantApplication.id).where(
            GrantApplication.call_id == call_id, ~assigned).order_by(GrantApplication.id).limit(1))
    assignment_id = db.session.scalar(select(ReviewAssignment.id).order_by(ReviewAssignment.id).limit(1))
    slug = db.session.scalar(select(GrantCall.slug).where(GrantCall.status == "open").limit(1))
    return {"call_id": call_id, "application_id": application_id, "assignment_id": assignment_id,
            "attachment_id": 999999, "request_id": 999999, "slug": slug}


def _records_of(world, centre: str, animator: str) -> dict:
    """Ids of records in one centre, for filling rules (runs inside an app context)."""
    from sqlalchemy import select

    from models import Consent, Interaction, Resident, db

    centre_id = world.centres[centre]
    consent = db.session.execute(
        select(Consent.id, Consent.resident_id).join(Resident, Resident.id == Consent.resident_id)
        .where(Resident.centre_id == centre_id).order_by(Consent.id).limit(1)).one()
    interaction_id = db.session.scalar(
        select(Interaction.id).where(Interaction.user_id == world.users[animator],
                                     Interaction.follow_up_on.is_not(None)).order_by(Interaction.id).limit(1))
    return {"resident_id": consent.resident_id, "consent_id": consent.id, "interaction_id": interaction_id}


def _group_records_of(world, centre: str) -> dict:
    """A group of the centre with a current member and a goal (runs inside an app context)."""
    from sqlalchemy import select

    from models import Goal, Group, Membership, db

    row = db.session.execute(
        select(Group.id, Membership.id, Goal.id).join(Membership, Membership.group_id == Group.id)
        .join(Goal, Goal.group_id == Group.id)
        .where(Group.centre_id == world.centres[centre], Membership.left_on.is_(None))
        .order_by(Group.id, Membership.id, Goal.id).limit(1)).one()
    return {"group_id": row[0], "membership_id": row[1], "goal_id": row[2]}


def _meeting_records_of(world, centre: str) -> dict:
    """A meeting and a commitment of the centre (runs inside an app context)."""
    from sqlalchemy import select

    from models import Commitment, Meeting, db

    centre_id = world.centres[centre]
    return {
        "meeting_id": db.session.scalar(select(Meeting.id).where(Meeting.centre_id == centre_id)
                                        .order_by(Meeting.id).limit(1)),
        "commitment_id": db.session.scalar(select(Commitment.id).where(Commitment.centre_id == centre_id)
                                           .order_by(Commitment.id).limit(1)),
        "token": "nie-ma-takiego-tokenu",
    }


def _diagnosis_records_of(world, centre: str) -> dict:
    """The centre's osiedle, a finding there, and a partner of that osiedle with a contact person
    (runs inside an app context)."""
    from sqlalchemy import select

    from models import Centre, Finding, Partner, PartnerContact, db

    centre = db.session.get(Centre, world.centres[centre])
    partner = db.session.execute(
        select(Partner.id, PartnerContact.id).join(PartnerContact, PartnerContact.partner_id == Partner.id)
        .where(Partner.centre_id == centre.id, Partner.neighbourhood_id == centre.neighbourhood_id)
        .order_by(Partner.id, PartnerContact.id).limit(1)).one()
    return {
        "hood_slug": centre.neighbourhood.slug,
        "finding_id": db.session.scalar(select(Finding.id).where(Finding.centre_id == centre.id)
                                        .order_by(Finding.id).limit(1)),
        "partner_id": partner[0], "contact_id": partner[1],
    }


def own_ids(world):
    return {"user_id": world.users["animator@wilda"], "centre_id": world.centres["wilda"],
            "filename": "css/animo.css", "fmt": "csv", "token": "nieistniejacy-token-0123456789", "activity_id": 999999, **_records_of(world, "wilda", "animator@wilda"),
            **_group_records_of(world, "wilda"), **_meeting_records_of(world, "wilda"),
            **_diagnosis_records_of(world, "wilda"), **_grant_records_of(world, own=True)}


def foreign_ids(world):
    return {"user_id": world.users["animator@rataje"], "centre_id": world.centres["rataje"],
            "filename": "css/animo.css", "fmt": "csv", "token": "nieistniejacy-token-0123456789", "activity_id": 999999, **_records_of(world, "rataje", "animator@rataje"),
            **_group_records_of(world, "rataje"), **_meeting_records_of(world, "rataje"),
            **_diagnosis_records_of(world, "rataje"), **_grant_records_of(world, own=False)}


def ids_for(app, which) -> dict:
    with app.app_context():
        return which(app.world)


def build(rule: str, ids: dict) -> str:
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule)


def expected(table: dict, role: str):
    return table.get(role, table.get("*"))


def test_every_route_is_in_the_matrix(app):
    missing = []
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if "GET" in methods and rule.rule not in GET_MATRIX:
            missing.append(f"GET {rule.rule}")
        for m in methods - {"GET"}:
            if rule.rule not in POST_MATRIX:
                missing.append(f"{m} {rule.rule}")
    assert not missing, f"routes missing from the role matrix: {missing}"


def _client_for(app, role):
    from tests.conftest import PASSWORD
    from models import User, db

    client = app.test_client()
    if role != "anon":
        with app.app_context():
            email = db.session.get(User, app.world.users[role]).email
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 303
    return client


@pytest.mark.parametrize("role", ROLES)
def test_get_matrix(app, role):
    client = _client_for(app, role)
    ids = ids_for(app, own_ids)
    failures = []
    for rule, table in GET_MATRIX.items():
        path = build(rule, ids)
        status = client.get(path).status_code
        if status != expected(table, role):
            failures.append(f"GET {path}: {status}, expected {expected(table, role)}")
    assert not failures, failures


@pytest.mark.parametrize("role", ROLES)
def test_post_matrix(app, role):
    ids = ids_for(app, own_ids)
    failures = []
    for rule, table in POST_MATRIX.items():
        client = _client_for(app, role)  # fresh: /logout would end the session
        path = build(rule, ids)
        status = client.post(path, data={}).status_code
        if status != expected(table, role):
            failures.append(f"POST {path}: {status}, expected {expected(table, role)}")
    assert not failures, failures


@pytest.mark.parametrize("rule", sorted(OUT_OF_SCOPE))
def test_out_of_scope_ids_are_not_found(app, rule):
    ids = ids_for(app, foreign_ids)
    for role, status in OUT_OF_SCOPE[rule].items():
        client = _client_for(app, role)
        path = build(rule, ids)
        statuses = {client.get(path).status_code, client.post(path, data={}).status_code}
        # each rule answers at least one of GET and POST; neither may reveal the record
        assert statuses - {405} == {status}, (role, path, statuses)


def test_nonexistent_ids_are_not_found(app):
    client = _client_for(app, "admin")
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/centres/999999").status_code == 404
