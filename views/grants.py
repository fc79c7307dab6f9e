"""Regranting for staff and reviewers: calls (nabory), the ranking, applications along the pipeline,
reviews with conflict-of-interest declarations, agreements, settlements and their attachments.

Who reaches what (models/grants_queries.py does it in SQL):
- a coordinator of a regranting centre runs its calls and everything in them; a coordinator of a
  neighbourhood centre sees a polite empty list (the centre runs no calls) and 404 on any id;
- a reviewer (or a coordinator asked to review) reaches only the applications assigned to them,
  and opens one only after declaring no conflict of interest; someone who coached the group cannot;
- animators, the city and admins get 403 (the city's figures come from `call_summary`).

Writes answer 303 to the page they came from; a form with errors comes back as 422 on the same page,
a stale version as 409, with what was typed kept in the form.
"""
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import default_exceptions

from app import grants_files, submissions, writes
from app.forms import choices
from app.forms.grants import (DEFAULT_CRITERIA, AgreementForm, ApplicationForm, AssignReviewerForm, AttachmentForm,
                              CallForm, CallStatusForm, CloseForm, DecisionForm, DeclarationForm, DocumentForm,
                              EditApplicationForm, FormalCheckForm, LinkDecisionForm, LinkGroupForm, LinkReferenceForm,
                              NoteForm, ReviewForm, SettlementForm)
from app.htmx import render, wants_fragment
from app.sessions import client_ip, deny, roles_required
from app.timeutil import today_local
from models import Neighbourhood, Role, db, record_audit, utcnow
from models import grants_queries as q
from models.grants import (CALL_TRANSITIONS, FINAL_STATUSES, REVIEWABLE_STATUSES, Attachment, CallStatus,
                           Declaration, GrantApplication, GrantCall, GrantCriterion, GrantStatus, LinkStatus, Review,
                           ReviewAssignment, Settlement, SettlementDocument, money)

bp = Blueprint("grants", __name__, url_prefix="/grants")

PEOPLE = (Role.coordinator.value, Role.reviewer.value)  # reviewers, and coordinators (who may review too)
STAFF = (Role.animator.value, Role.coordinator.value)
MAX_ATTACHMENTS = 30
SETTLEMENT_STATUSES = (GrantStatus.in_progress.value, GrantStatus.report_submitted.value,
                       GrantStatus.settled.value, GrantStatus.returned.value)


# --- for every template ---------------------------------------------------------------------------

_SYMBOLS: dict[str, tuple[str, str]] = {}


def _symbols() -> tuple[str, str]:
    """(group, decimal) symbols of the current locale, looked up once per locale."""
    locale = get_locale()
    key = str(locale)
    if key not in _SYMBOLS:
        _SYMBOLS[key] = (get_group_symbol(locale), get_decimal_symbol(locale))
    return _SYMBOLS[key]


@bp.app_template_filter("money")
def fmt_money(value) -> str:
    """4000 -> '4 000,00 zł' (Polish grouping and decimal comma; English: '4,000.00 zł').

    A ranking of 70 lines formats 300 sums: this avoids Babel's pattern parsing on each one."""
    if value is None:
        return ""
    group, decimal = _symbols()
    amount = money(value)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    parts = []
    while len(whole) > 3:
        parts.insert(0, whole[-3:])
        whole = whole[:-3]
    parts.insert(0, whole)
    return f"{sign}{group.join(parts)}{decimal}{cents}\xa0zł"


@bp.app_template_filter("pct")
def fmt_pct(value) -> str:
    """10.00 -> '10', 12.50 -> '12,5'."""
    return "" if value is None else format_decimal(money(value), format="#,##0.##")


@bp.app_template_filter("points")
def fmt_points(value) -> str:
    return "" if value is None else format_decimal(round(value, 1), format="#,##0.0")


# --- helpers ----------------------------------------------------------------------------------------

def _runs_calls() -> bool:
    centre = current_user.centre
    return current_user.role == Role.coordinator.value and centre is not None and centre.is_regranting


def _audit(action: str, object_type: str, object_id: int, **detail) -> None:
    record_audit(action, user_id=current_user.id, object_type=object_type, object_id=object_id, ip=client_ip(),
                 **detail)


def _done(message: str, target: str):
    flash(message, "success")
    return redirect(target, 303)


def _hoods_of(call: GrantCall):
    return Neighbourhood.all_by_name() if call.all_neighbourhoods else call.neighbourhoods


# --- calls ------------------------------------------------------------------------------------------

@bp.route("/calls")
@roles_required(*PEOPLE)
def calls():
    """The calls of the coordinator's regranting centre, and the applications assigned to me for review."""
    managed = q.manages_calls(current_user)
    rows = q.calls_overview(current_user) if managed else []
    tasks = q.my_assignments(current_user)
    return render("grants/calls.html", rows=rows, tasks=tasks, runs_calls=_runs_calls())


def _call_form_choices(form: CallForm) -> None:
    form.neighbourhood_ids.choices = choices([(n.id, n.name) for n in Neighbourhood.all_by_name()])


@bp.route("/calls/new", methods=["GET", "POST"])
@roles_required(Role.coordinator.value)
@submissions.keyed()
def call_new():
    """A new call (szkic): money, dates, osiedla, criteria. Only a regranting centre runs calls."""
    if not _runs_calls():
        deny()
    form = CallForm()
    _call_form_choices(form)
    if request.method == "GET":
        form.criteria.pop_entry()
        for name, points in DEFAULT_CRITERIA:
            form.criteria.append_entry({"name": name, "max_points": points})
        return render("grants/call_form.html", form=form, call=None)
    if "add_criterion" in request.form:
        form.criteria.append_entry()
        return render("grants/call_form.html", form=form, call=None)
    if not form.validate():
        return render("grants/call_form.html", form=form, call=None, status=422)
    call = GrantCall(centre_id=current_user.centre_id, created_by_id=current_user.id, status=CallStatus.draft.value,
                     slug=q.unique_slug(form.title.data, form.opens_on.data.year), granted_total=money(0))
    _apply_call_form(call, form, hoods={n.id: n for n in Neighbourhood.all_by_name()})
    call.criteria = [GrantCriterion(position=i, name=n, max_points=p) for i, (n, p) in enumerate(form.criteria_rows())]
    db.session.add(call)
    db.session.flush()
    _audit("grant_call_created", "grant_call", call.id)
    target = url_for("grants.call", call_id=call.id)
    submissions.made(call, target)
    db.session.commit()
    return _done(_("Nabór zapisany jako szkic. Otwórz go, gdy będzie gotowy."), target)


def _apply_call_form(call: GrantCall, form: CallForm, hoods: dict) -> None:
    call.title = " ".join(form.title.data.split())
    call.description = (form.description.data or "").strip() or None
    call.budget = money(form.budget.data)
    call.max_grant = money(form.max_grant.data)
    call.min_own_percent = money(form.min_own_percent.data)
    call.all_neighbourhoods = bool(form.all_neighbourhoods.data)
    call.neighbourhoods = [] if call.all_neighbourhoods else [hoods[i] for i in form.neighbourhood_ids.data
                                                               if i in hoods]
    call.opens_on = form.opens_on.data
    call.closes_on = form.closes_on.data
    call.activities_from = form.activities_from.data
    call.activities_to = form.activities_to.data


@bp.route("/calls/<int:call_id>")
@roles_required(*PEOPLE)
def call(call_id: int):
    """A call: its rules, the ranking by mean score with the budget left after each granted line.
    A reviewer sees the rules and only the applications assigned to them."""
    got = q.get_call(current_user, call_id)
    if got is None:
        abort(404)
    call, managed = got
    if not managed:
        return render("grants/call.html", call=call, managed=False, rows=[],
                      tasks=q.my_assignments_in(current_user, call.id))
    rows = q.ranking(call)
    status_form = CallStatusForm(formdata=None)
    writes.stamp(status_form, call)
    return _call_page(call, rows, status_form)


def _call_page(call, rows, status_form, status: int = 200):
    status_form.to_status.choices = choices([(s, s) for s in CALL_TRANSITIONS.get(call.status, ())])
    counts = {"all": len(rows), "pending": sum(1 for r in rows if r.application.status in REVIEWABLE_STATUSES),
              "granted": sum(1 for r in rows if r.application.is_granted)}
    return render("grants/call.html", call=call, managed=True, rows=rows, tasks=[], counts=counts,
                  link_requests=q.pending_link_counts(call.id),
                  status_form=status_form, next_statuses=CALL_TRANSITIONS.get(call.status, ()), status=status,
                  public_url=url_for("apply.form", slug=call.slug, _external=True))


def _managed_call_or_404(call_id: int) -> GrantCall:
    """A call the user manages; a reviewer who may see it (but not change it) gets 403, anyone else 404."""
    call = q.get_call_for_update(current_user, call_id)
    if call is None:
        if q.get_call(current_user, call_id) is not None:
            deny()
        abort(404)
    return call


def _reviews_exist(call_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Review.assignment_id == ReviewAssignment.id, ReviewAssignment.application_id == GrantApplication.id,
        GrantApplication.call_id == call_id))))


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
@roles_required(*PEOPLE)
def call_edit(call_id: int):
    """Change a call's rules; criteria stay as they are once anyone has scored."""
    call = _managed_call_or_404(call_id)
    form = CallForm(formdata=request.form if request.method == "POST" else None)
    _call_form_choices(form)
    if request.method == "GET":
        _fill_call_form(form, call)
        return render("grants/call_form.html", form=form, call=call)
    if "add_criterion" in request.form:
        form.criteria.append_entry()
        return render("grants/call_form.html", form=form, call=call)
    valid = form.validate()
    if valid and writes.stale(form, call):
        return _call_conflict(form, call)
    if valid and form.budget.data < money(call.granted_total):
        form.budget.errors.append(_("Przyznano już %(sum)s: pula nie może być mniejsza.",
                                    sum=fmt_money(call.granted_total)))
        valid = False
    new_criteria = form.criteria_rows() if valid else []
    old_criteria = [(c.name, c.max_points) for c in call.criteria]
    if valid and new_criteria != old_criteria and _reviews_exist(call.id):
        form.criteria_errors = [_("Wnioski są już oceniane: kryteriów nie można już zmienić.")]
        valid = False
    if not valid:
        return render("grants/call_form.html", form=form, call=call, status=422)
    _apply_call_form(call, form, hoods={n.id: n for n in Neighbourhood.all_by_name()})
    if new_criteria != old_criteria:
        call.criteria = [GrantCriterion(position=i, name=n, max_points=p) for i, (n, p) in enumerate(new_criteria)]
    _audit("grant_call_updated", "grant_call", call.id)
    if new_criteria != old_criteria:
        writes.bump(call)  # criteria are rows of their own: the call's version still moves
    if not writes.save():
        return _call_conflict(form, q.get_call_for_update(current_user, call_id))
    return _done(_("Zapisano zmiany naboru."), url_for("grants.call", call_id=call_id))


def _fill_call_form(form: CallForm, call: GrantCall) -> None:
    for name in ("title", "description", "budget", "max_grant", "min_own_percent", "all_neighbourhoods",
                 "opens_on", "closes_on", "activities_from", "activities_to"):
        getattr(form, name).data = getattr(call, name)
    form.budget.data, form.max_grant.data = money(call.budget), money(call.max_grant)
    form.min_own_percent.data = money(call.min_own_percent).normalize()
    form.neighbourhood_ids.data = [n.id for n in call.neighbourhoods]
    while form.criteria.entries:
        form.criteria.pop_entry()
    for c in call.criteria:
        form.criteria.append_entry({"name": c.name, "max_points": c.max_points})
    writes.stamp(form, call)


def _call_conflict(form: CallForm, current: GrantCall):
    ctx = writes.conflict(form, current, _("Ktoś inny zmienił ten nabór (albo przyznał grant), zanim zapisałeś/aś "
                                           "swoje zmiany. Sprawdź aktualne wartości poniżej i zapisz ponownie."),
                          extra=[(_("Kryteria oceny"), "; ".join(f"{c.name} ({c.max_points})"
                                                                 for c in current.criteria))])
    return render("grants/call_form.html", form=form, call=current, current=current, **ctx)


@bp.route("/calls/<int:call_id>/status", methods=["POST"])
@roles_required(*PEOPLE)
def call_status(call_id: int):
    """Open, close, reopen or settle a call."""
    call = _managed_call_or_404(call_id)
    form = CallStatusForm()
    allowed = CALL_TRANSITIONS.get(call.status, ())
    form.to_status.choices = choices([(s, s) for s in allowed])
    if not form.validate():
        return _call_page(call, q.ranking(call), form, status=422)
    if writes.stale(form, call):
        return _call_status_conflict(call, form)
    target = form.to_status.data
    if target == CallStatus.settled.value:
        open_left = db.session.scalar(select(exists().where(GrantApplication.call_id == call.id,
                                                            GrantApplication.status.not_in(FINAL_STATUSES))))
        if open_left:
            form.form_errors.append(_("Nabór można rozliczyć, gdy każdy wniosek jest rozliczony albo odrzucony."))
            return _call_page(call, q.ranking(call), form, status=422)
    before = call.status
    call.status = target
    _audit("grant_call_status", "grant_call", call.id, from_status=before, to_status=target)
    if not writes.save():
        return _call_status_conflict(_managed_call_or_404(call_id), form)
    return _done(_("Status naboru zmieniony."), url_for("grants.call", call_id=call_id))


def _call_status_conflict(call: GrantCall, form: CallStatusForm):
    form.to_status.choices = choices([(s, s) for s in CALL_TRANSITIONS.get(call.status, ())]) or form.to_status.choices
    ctx = writes.conflict(form, call, _("Nabór zmienił się w międzyczasie. Sprawdź jego stan i spróbuj ponownie."))
    return _call_page(call, q.ranking(call), form, status=ctx["status"])


@bp.route("/calls/<int:call_id>/applications/new", methods=["GET", "POST"])
@roles_required(*PEOPLE)
@submissions.keyed()
def application_new(call_id: int):
    """Staff enter an application received on paper or by e-mail (the same checks as the public form)."""
    call = _managed_call_or_404(call_id)
    if call.status in (CallStatus.draft.value, CallStatus.settled.value):
        flash(_("Do tego naboru nie można teraz dodawać wniosków (szkic albo rozliczony)."), "error")
        return redirect(url_for("grants.call", call_id=call.id), 303)
    form = ApplicationForm()
    form.bind(call, q.patrons(call.centre_id), _hoods_of(call), public=False, today=today_local())
    if request.method == "GET":
        return render("grants/application_form.html", form=form, call=call, application=None)
    for which in ("members", "lines"):
        if f"add_{which}" in request.form:
            form.add_row(which)
            return render("grants/application_form.html", form=form, call=call, application=None)
    if not form.validate():
        return render("grants/application_form.html", form=form, call=call, application=None, status=422)
    application = q.new_application(call, fields=form.fields(), members=form.members_rows(), lines=form.budget_rows,
                                    source="staff", user_id=current_user.id,
                                    note=_("Wniosek wprowadzony przez koordynatora."))
    _audit("grant_application_created", "grant_application", application.id, source="staff")
    message = _("Wniosek %(ref)s zapisany.", ref=application.reference)
    target = url_for("grants.application", application_id=application.id)
    submissions.made(application, target)
    db.session.commit()
    return _done(message, target)


# --- one application ----------------------------------------------------------------------------------

def _get_or_404(application_id: int):
    got = q.get_application(current_user, application_id)
    if got is None:
        abort(404)
    return got


def _managed_or_404(application_id: int):
    """An application the user manages; an assigned reviewer may open it but not move it (403)."""
    application, assignment, managed = _get_or_404(application_id)
    if not managed:
        deny()
    return application, assignment


def _page_context(a: GrantApplication, assignment, managed: bool, **forms) -> dict:
    """What templates/grants/application.html reads: the body, and for managers the history, the
    reviewers, the forms of the next steps. Statements: 2 + up to 6, whatever the sizes."""
    q.load_body(a)
    ctx = {"application": a, "call": a.call, "assignment": assignment, "managed": managed, "today": today_local()}
    review = None
    if managed:
        ctx["history"] = q.history(a.id)
        ctx["assignments"] = q.assignments(a.id)
        ctx["link_requests"] = q.link_requests_of(a.id)
        if a.status in REVIEWABLE_STATUSES:
            ctx["reviewer_choices"] = q.reviewer_choices(a)
        if a.status in SETTLEMENT_STATUSES:
            ctx["attachments"] = q.attachments(a.id)
        if assignment is not None:
            review = next((ra.review for ra in ctx["assignments"] if ra.id == assignment.id), None)
        ctx["criteria_by_id"] = {c.id: c for c in a.call.criteria}
        ctx["means"] = _means(a.call.criteria, ctx["assignments"])
        ctx.update(_step_forms(a, ctx, forms))
    elif assignment is not None and assignment.may_review:
        review = q.own_review(assignment)
    if assignment is not None and assignment.may_review:
        form = forms.get("review_form")
        if form is None:
            form = ReviewForm(formdata=None)
            by_criterion = {s.criterion_id: s.points for s in review.scores} if review else {}
            for c in a.call.criteria:
                form.scores.append_entry(by_criterion.get(c.id))
            form.comment.data = review.comment if review else ""
            form.version.data = str(review.version) if review else ""  # no review yet: nothing to be stale
        ctx["review_form"] = form
        ctx["review"] = review
    ctx["declaration_form"] = forms.get("declaration_form") or DeclarationForm(formdata=None)
    return ctx


def _means(criteria, assignments) -> dict:
    """Mean points per criterion over the submitted reviews, and the mean total."""
    reviews = [ra.review for ra in assignments if ra.review is not None]
    if not reviews:
        return {}
    out = {}
    for c in criteria:
        pts = [s.points for r in reviews for s in r.scores if s.criterion_id == c.id]
        out[c.id] = sum(pts) / len(pts) if pts else None
    out["total"] = sum(r.total for r in reviews) / len(reviews)
    return out


def _step_forms(a: GrantApplication, ctx: dict, forms: dict) -> dict:
    """The forms of the steps open from the current status (a failed one keeps its input)."""
    out = {}

    def make(name, cls):
        form = forms.get(name)
        if form is None:
            form = cls(formdata=None)
            if hasattr(form, "version"):
                writes.stamp(form, a)
        out[name] = form
        return form

    if a.status in (GrantStatus.submitted.value, GrantStatus.formal_failed.value):
        make("formal_form", FormalCheckForm)
    if a.status in (GrantStatus.merit_review.value, GrantStatus.formal_failed.value):
        form = make("decision_form", DecisionForm)
        if form.amount.data is None and "decision_form" not in forms:
            form.amount.data = money(a.requested_amount)
    if a.status == GrantStatus.granted.value:
        make("agreement_form", AgreementForm)
    if a.status == GrantStatus.agreement.value:
        make("start_form", NoteForm)
    if a.status == GrantStatus.report_submitted.value:
        form = make("close_form", CloseForm)
        if "close_form" not in forms:
            figures = q.settlement_figures(a, [])
            if figures.unspent > 0:
                form.returned_amount.data = figures.unspent
    if a.status in REVIEWABLE_STATUSES:
        form = make("assign_form", AssignReviewerForm)
        form.reviewer_id.choices = choices([(0, _("— wybierz —"))] + [
            (uid, name) for uid, name, role, coached in ctx.get("reviewer_choices", []) if not coached])
    return out


def _page(a, assignment, managed=True, status=200, message=None, current_values=None, **forms):
    return render("grants/application.html", status=status, message=message, current_values=current_values,
                  **_page_context(a, assignment, managed, **forms))


@bp.route("/applications/<int:application_id>")
@roles_required(*PEOPLE)
def application(application_id: int):
    """One application. A reviewer first declares whether there is a conflict of interest; only
    then does the application open for them."""
    a, assignment, managed = _get_or_404(application_id)
    if not managed and not (assignment and assignment.may_review):
        q.load_body(a)
        return render("grants/declaration.html", application=a, assignment=assignment,
                      form=DeclarationForm(formdata=None))
    return _page(a, assignment, managed)


def _move_done(a: GrantApplication, before: str, message: str, assignment=None, **forms):
    """Commit a move along the pipeline (audited); a concurrent change answers 409."""
    _audit("grant_application_moved", "grant_application", a.id, from_status=before, to_status=a.status)
    if not writes.save(also=writes.SAVE_ERRORS):
        return _conflict(a.id, forms)
    return _done(message, url_for("grants.application", application_id=a.id))


def _conflict(application_id: int, forms: dict):
    """409 on a step of the pipeline: the page shows the application as it is now (its status and
    history); the step's form keeps what was typed and carries the current version."""
    a, assignment, managed = _get_or_404(application_id)
    for form in forms.values():
        writes.conflict(form, a, _("Ktoś inny zmienił ten wniosek w międzyczasie (teraz: %(status)s). Poniżej jego "
                                   "aktualny stan; Twoje dane są nadal w formularzu — sprawdź je i zapisz ponownie.",
                                   status=_status_label(a.status)))
    return _page(a, assignment, managed, status=409, **forms)


def _wrong_step(a, assignment, name, form):
    form.form_errors.append(_("Ten krok nie pasuje do obecnego etapu wniosku (%(status)s).",
                              status=_status_label(a.status)))
    return _page(a, assignment, status=409, **{name: form})


def _status_label(code: str) -> str:
    from app.labels import label

    return label("grant_status", code)


@bp.route("/applications/<int:application_id>/formal", methods=["POST"])
@roles_required(*PEOPLE)
def formal(application_id: int):
    """The formal check: passed (to the merits assessment) or failed with reasons and a deadline."""
    a, assignment = _managed_or_404(application_id)
    form = FormalCheckForm()
    form.today = today_local()
    if not form.validate():
        return _page(a, assignment, status=422, formal_form=form)
    outcome = form.outcome.data
    allowed = {GrantStatus.submitted.value: ("passed", "failed"), GrantStatus.formal_failed.value: ("passed",)}
    if outcome not in allowed.get(a.status, ()):
        return _wrong_step(a, assignment, "formal_form", form)
    if writes.stale(form, a):
        return _conflict(a.id, {"formal_form": form})
    before = a.status
    reasons = (form.reasons.data or "").strip()
    if outcome == "passed":
        q.move(a, GrantStatus.merit_review.value, reasons or _("Ocena formalna pozytywna: wniosek kompletny i zgodny "
                                                              "z zasadami naboru."), current_user.id)
        message = _("Ocena formalna pozytywna. Wniosek przechodzi do oceny merytorycznej.")
    else:
        q.move(a, GrantStatus.formal_failed.value, reasons, current_user.id)
        a.formal_reasons = reasons
        a.correction_due = form.correction_due.data
        message = _("Zapisano negatywną ocenę formalną z terminem poprawy.")
    return _move_done(a, before, message, formal_form=form)


@bp.route("/applications/<int:application_id>/decision", methods=["POST"])
@roles_required(*PEOPLE)
def decision(application_id: int):
    """Grant (at most the amount asked, within what is left of the call's budget) or refuse; always
    with a justification. The budget is guarded in the database transaction (q.grant)."""
    a, assignment = _managed_or_404(application_id)
    form = DecisionForm()
    form.requested = money(a.requested_amount)
    if not form.validate():
        return _page(a, assignment, status=422, decision_form=form)
    granted = form.outcome.data == "granted"
    if a.status != GrantStatus.merit_review.value and not (a.status == GrantStatus.formal_failed.value and not granted):
        return _wrong_step(a, assignment, "decision_form", form)
    if writes.stale(form, a):
        return _conflict(a.id, {"decision_form": form})
    before = a.status
    note = form.justification.data.strip()
    if granted:
        try:
            q.grant(a, form.amount.data, note, current_user.id, today_local())
        except q.OverBudget:
            db.session.rollback()
            a, assignment, _m = _get_or_404(application_id)
            form.amount.errors.append(_("W puli naboru zostało tylko %(left)s: tej kwoty nie można przyznać.",
                                        left=fmt_money(a.call.budget_left)))
            return _page(a, assignment, status=422, decision_form=form)
        except (StaleDataError, IntegrityError):
            db.session.rollback()
            return _conflict(a.id, {"decision_form": form})
        message = _("Przyznano %(sum)s.", sum=fmt_money(a.granted_amount))
    else:
        q.refuse(a, note, current_user.id, today_local())
        message = _("Zapisano odmowę z uzasadnieniem.")
    return _move_done(a, before, message, decision_form=form)


@bp.route("/applications/<int:application_id>/agreement", methods=["POST"])
@roles_required(*PEOPLE)
def agreement(application_id: int):
    """The agreement with the patron (or the NGO): its number and date."""
    a, assignment = _managed_or_404(application_id)
    form = AgreementForm()
    form.today = today_local()
    if not form.validate():
        return _page(a, assignment, status=422, agreement_form=form)
    if a.status != GrantStatus.granted.value:
        return _wrong_step(a, assignment, "agreement_form", form)
    if writes.stale(form, a):
        return _conflict(a.id, {"agreement_form": form})
    before = a.status
    number = form.number.data.strip()
    q.move(a, GrantStatus.agreement.value, _("Umowa nr %(number)s z dnia %(day)s.", number=number,
                                             day=form.signed_on.data.strftime("%d.%m.%Y")), current_user.id)
    a.agreement_number = number
    a.agreement_date = form.signed_on.data
    return _move_done(a, before, _("Zapisano umowę."), agreement_form=form)


@bp.route("/applications/<int:application_id>/start", methods=["POST"])
@roles_required(*PEOPLE)
def start(application_id: int):
    """The initiative starts (realizacja)."""
    a, assignment = _managed_or_404(application_id)
    form = NoteForm()
    if not form.validate():
        return _page(a, assignment, status=422, start_form=form)
    if a.status != GrantStatus.agreement.value:
        return _wrong_step(a, assignment, "start_form", form)
    if writes.stale(form, a):
        return _conflict(a.id, {"start_form": form})
    before = a.status
    q.move(a, GrantStatus.in_progress.value, (form.note.data or "").strip() or _("Rozpoczęcie realizacji."),
           current_user.id)
    return _move_done(a, before, _("Inicjatywa w realizacji."), start_form=form)


@bp.route("/applications/<int:application_id>/close", methods=["POST"])
@roles_required(*PEOPLE)
def close(application_id: int):
    """Accept the report: settled, or settled with funds returned (amount and why)."""
    a, assignment = _managed_or_404(application_id)
    form = CloseForm()
    form.granted = money(a.granted_amount) if a.granted_amount is not None else None
    if not form.validate():
        return _page(a, assignment, status=422, close_form=form)
    if a.status != GrantStatus.report_submitted.value:
        return _wrong_step(a, assignment, "close_form", form)
    if writes.stale(form, a):
        return _conflict(a.id, {"close_form": form})
    before = a.status
    note = (form.note.data or "").strip()
    if form.outcome.data == "returned":
        a.returned_amount = money(form.returned_amount.data)
        q.move(a, GrantStatus.returned.value, note, current_user.id)
        message = _("Rozliczono ze zwrotem %(sum)s.", sum=fmt_money(a.returned_amount))
    else:
        q.move(a, GrantStatus.settled.value, note or _("Sprawozdanie przyjęte, inicjatywa rozliczona."),
               current_user.id)
        message = _("Inicjatywa rozliczona.")
    return _move_done(a, before, message, close_form=form)


@bp.route("/applications/<int:application_id>/edit", methods=["GET", "POST"])
@roles_required(*PEOPLE)
def application_edit(application_id: int):
    """Corrections (e.g. after a negative formal check), before the merits assessment starts."""
    a, assignment = _managed_or_404(application_id)
    if a.status not in (GrantStatus.submitted.value, GrantStatus.formal_failed.value):
        flash(_("Wniosek można poprawiać tylko przed oceną merytoryczną."), "error")
        return redirect(url_for("grants.application", application_id=a.id), 303)
    q.load_body(a)
    form = EditApplicationForm(formdata=request.form if request.method == "POST" else None)
    form.bind(a.call, q.patrons(a.centre_id), _hoods_of(a.call), public=False, today=today_local())
    if request.method == "GET":
        form.fill_from(a)
        writes.stamp(form, a)
        return render("grants/application_form.html", form=form, call=a.call, application=a)
    for which in ("members", "lines"):
        if f"add_{which}" in request.form:
            form.add_row(which)
            return render("grants/application_form.html", form=form, call=a.call, application=a)
    if not form.validate():
        return render("grants/application_form.html", form=form, call=a.call, application=a, status=422)
    if writes.stale(form, a):
        return _edit_conflict(form, a)
    for name, value in form.fields().items():
        setattr(a, name, value)
    q.replace_body(a, form.members_rows(), form.budget_rows)
    writes.bump(a)  # members and budget lines are rows of their own: the application's version still moves
    _audit("grant_application_updated", "grant_application", a.id)
    if not writes.save():
        a, _own = _managed_or_404(application_id)
        q.load_body(a)
        return _edit_conflict(form, a)
    return _done(_("Poprawki zapisane."), url_for("grants.application", application_id=a.id))


def _edit_conflict(form: EditApplicationForm, current: GrantApplication):
    ctx = writes.conflict(form, current, _("Ktoś inny zmienił ten wniosek w międzyczasie. Poniżej jego aktualne "
                                           "wartości; Twoje dane są nadal w formularzu: sprawdź je i zapisz "
                                           "ponownie."))
    return render("grants/application_form.html", form=form, call=current.call, application=current, **ctx)


# --- reviewers and reviews ----------------------------------------------------------------------------

@bp.route("/applications/<int:application_id>/reviewers", methods=["POST"])
@roles_required(*PEOPLE)
def assign(application_id: int):
    """Assign a reviewer: a reviewer or a coordinator of the centre who did not coach the group."""
    a, assignment = _managed_or_404(application_id)
    form = AssignReviewerForm()
    options = q.reviewer_choices(a) if a.status in REVIEWABLE_STATUSES else []
    allowed = {uid for uid, _name, _role, coached in options if not coached}
    form.reviewer_id.choices = choices([(0, "")] + [(uid, name) for uid, name, _r, _c in options])
    valid = form.validate()
    if valid and a.status not in REVIEWABLE_STATUSES:
        form.form_errors.append(_("Po decyzji nie przydziela się już oceniających."))
        valid = False
    elif valid and form.reviewer_id.data not in allowed:
        form.reviewer_id.errors.append(_("Ta osoba wspierała grupę (animator/ka, spotkania lub rozmowy z jej "
                                         "członkami), więc nie może oceniać jej wniosku."))
        valid = False
    if not valid:
        return _page(a, assignment, status=422, assign_form=form)
    q.assign(a, form.reviewer_id.data, current_user.id)
    _audit("grant_reviewer_assigned", "grant_application", a.id, reviewer_id=form.reviewer_id.data)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # assigned meanwhile by someone else: the same outcome
    return _done(_("Przydzielono osobę oceniającą."), url_for("grants.application", application_id=a.id) + "#reviewers")


@bp.route("/applications/<int:application_id>/reviewers/<int:assignment_id>/remove", methods=["POST"])
@roles_required(*PEOPLE)
def unassign(application_id: int, assignment_id: int):
    """Take a reviewer off an application (not once they have scored it)."""
    a, _own = _managed_or_404(application_id)
    ra = db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.id == assignment_id,
                                                           ReviewAssignment.application_id == a.id)).one_or_none()
    if ra is None:
        abort(404)
    has_review = db.session.scalar(select(exists().where(Review.assignment_id == ra.id)))
    if has_review:
        flash(_("Ta osoba już oceniła wniosek: jej oceny nie usuwa się."), "error")
        return redirect(url_for("grants.application", application_id=a.id) + "#reviewers", 303)
    db.session.delete(ra)
    _audit("grant_reviewer_removed", "grant_application", a.id, reviewer_id=ra.reviewer_id)
    db.session.commit()
    return _done(_("Osoba oceniająca odsunięta od wniosku."),
                 url_for("grants.application", application_id=a.id) + "#reviewers")


def _own_assignment_or_404(application_id: int):
    a, assignment, managed = _get_or_404(application_id)
    if assignment is None:
        if managed:
            deny()  # the coordinator sees it, but was not asked to review it
        abort(404)
    return a, assignment, managed


@bp.route("/applications/<int:application_id>/declaration", methods=["POST"])
@roles_required(*PEOPLE)
def declaration(application_id: int):
    """The reviewer's declaration: no conflict of interest (the application opens), or a conflict."""
    a, assignment, managed = _own_assignment_or_404(application_id)
    form = DeclarationForm()
    if not form.validate():
        q.load_body(a)
        if managed:
            return _page(a, assignment, status=422, declaration_form=form)
        return render("grants/declaration.html", application=a, assignment=assignment, form=form, status=422)
    if assignment.declaration is not None:
        flash(_("Oświadczenie w sprawie tego wniosku zostało już złożone."), "info")
        return redirect(url_for("grants.application", application_id=a.id), 303)
    choice = form.declaration.data
    coached = a.viewer_coached
    if choice == Declaration.no_conflict.value and coached:
        choice = Declaration.conflict.value
    q.declare(assignment, choice)
    _audit("grant_review_declared", "grant_application", a.id, declaration=choice, coached=coached)
    db.session.commit()
    if coached:
        flash(_("Według Animo wspierałeś/aś tę grupę (jako animator/ka, na spotkaniach albo w rozmowach z jej "
                "członkami): zapisano konflikt interesów, tego wniosku nie oceniasz."), "error")
        return redirect(url_for("grants.calls"), 303)
    if choice == Declaration.conflict.value:
        return _done(_("Zapisano konflikt interesów. Koordynator przydzieli wniosek komuś innemu."),
                     url_for("grants.calls"))
    return _done(_("Dziękujemy. Wniosek jest otwarty do oceny."),
                 url_for("grants.application", application_id=a.id) + "#review")


@bp.route("/applications/<int:application_id>/review", methods=["POST"])
@roles_required(*PEOPLE)
def review(application_id: int):
    """Save the reviewer's scores (each criterion up to its maximum) and comment; htmx swaps the review block."""
    a, assignment, managed = _own_assignment_or_404(application_id)
    if not assignment.may_review:
        deny()
    form = ReviewForm()
    existing = q.own_review(assignment)
    criteria = a.call.criteria
    if a.status != GrantStatus.merit_review.value:
        form.form_errors.append(_("Ocenia się wnioski na etapie oceny merytorycznej."))
        return _review_response(a, assignment, managed, form, 409)
    valid = form.validate()
    valid = form.check_against(criteria) and valid
    if not valid:
        return _review_response(a, assignment, managed, form, 422)
    points = [e.data for e in form.scores.entries]
    unchanged = existing is not None and existing.comment == form.comment.data.strip() and \
        {s.criterion_id: s.points for s in existing.scores} == {c.id: p for c, p in zip(criteria, points)}
    # The same scores sent again (a double tap, a retry) are simply saved already; a different save
    # made on an old version would overwrite the other window's: 409.
    if not unchanged and existing is not None and writes.stale(form, existing):
        return _review_conflict(a, assignment, managed, form, existing)
    if a.viewer_coached:
        deny()
    saved, changed = q.save_review(assignment, existing, criteria, points, form.comment.data.strip())
    if changed:
        _audit("grant_review_saved", "grant_application", a.id, total=saved.total)
    message = _("Ocena zapisana: %(points)d z %(max)d pkt.", points=saved.total, max=a.call.max_points)
    if not writes.save(also=writes.SAVE_ERRORS):
        a, assignment, managed = _get_or_404(application_id)
        return _review_conflict(a, assignment, managed, form, q.own_review(assignment))
    if wants_fragment():
        a, assignment, managed = _get_or_404(application_id)
        saved = q.own_review(assignment)
        form = ReviewForm(formdata=None)
        for c in a.call.criteria:
            form.scores.append_entry(next((s.points for s in saved.scores if s.criterion_id == c.id), None))
        form.comment.data = saved.comment
        writes.stamp(form, saved)
        return render("grants/application.html", block="review", message=message, application=a, call=a.call,
                      assignment=assignment, review=saved, review_form=form, managed=managed)
    return _done(message, url_for("grants.application", application_id=application_id) + "#review")


def _review_response(a, assignment, managed, form, status, **extra):
    if wants_fragment():
        return render("grants/application.html", block="review", status=status, application=a, call=a.call,
                      assignment=assignment, review=q.own_review(assignment), review_form=form, managed=managed,
                      **extra)
    return _page(a, assignment, managed, status=status, review_form=form, **extra)


def _review_conflict(a, assignment, managed, form, current):
    """409: the same review was saved in another window (or by a retry with other points) meanwhile."""
    message = _("Ta ocena została zapisana w innym oknie. Sprawdź punkty i zapisz ponownie.")
    if current is None:
        form.form_errors.append(message)
        return _review_response(a, assignment, managed, form, 409)
    ctx = writes.conflict(form, current, message, extra=[(_("Punkty"), current.total)])
    status = ctx.pop("status")
    return _review_response(a, assignment, managed, form, status, current_values=ctx["current_values"])


# --- linking the applicant group to its Group record --------------------------------------------------

@bp.route("/applications/<int:application_id>/group", methods=["GET", "POST"])
@roles_required(*PEOPLE)
def link_group(application_id: int):
    """Link the application to a Group of the centre (the group's page then shows its grants). A group of
    another centre asks from its own page, with the reference number; the request waits on this
    application's page for the coordinator's confirmation (`link_decision`)."""
    a, assignment = _managed_or_404(application_id)
    form = LinkGroupForm()
    options = q.group_choices(current_user)
    form.group_id.choices = choices([(0, _("— wybierz grupę —"))] + options)
    if request.method == "GET":
        return render("grants/group_link.html", application=a, form=form)
    if not form.validate() or form.group_id.data not in {gid for gid, _n in options}:
        if not form.group_id.errors:
            form.group_id.errors.append(_("Wybierz grupę."))
        return render("grants/group_link.html", application=a, form=form, status=422)
    a.group_id = form.group_id.data
    _audit("grant_group_linked", "grant_application", a.id, group_id=a.group_id)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        abort(409)
    return _done(_("Wniosek połączony z grupą."), url_for("grants.application", application_id=application_id))


@bp.route("/groups/<int:group_id>")
@roles_required(*STAFF)
def group_grants_page(group_id: int):
    """A group's micro-grant applications: loaded by htmx into the group's page (no personal data:
    numbers, titles, stages, amounts), or a page of its own without scripts. A request for a link still
    waiting for the centre running the call shows as such, with nothing of its application."""
    group = q.group_in_scope(current_user, group_id)
    if group is None:
        abort(404)
    return render("grants/group.html", block="grants", group=group, grants=q.grants_of_group(current_user, group.id),
                  requests=q.link_requests_of_group(group.id))


def _reference_throttled() -> bool:
    cfg = current_app.config
    return q.reference_failures(current_user.id, cfg["GRANT_REFERENCE_FAILURE_WINDOW"]) >= \
        cfg["GRANT_REFERENCE_FAILURE_LIMIT"]


def _throttled_page(form, group):
    """429 in Polish; no look-up is made while the user is throttled, so guessing goes no further."""
    window = current_app.config["GRANT_REFERENCE_FAILURE_WINDOW"]
    form.reference.errors = [_("Zbyt wiele błędnych numerów wniosku w ciągu ostatniej godziny. Spróbuj ponownie "
                               "później albo poproś centrum prowadzące nabór o sprawdzenie numeru.")]
    resp = render("grants/link.html", form=form, group=group, status=429)
    resp.headers["Retry-After"] = str(int(window.total_seconds()))
    return resp


@bp.route("/groups/<int:group_id>/link", methods=["GET", "POST"])
@roles_required(*STAFF)
def link_reference(group_id: int):
    """From a group's page: the group's animator or coordinator links the group's application by the full
    reference number the group was given (with its random code; the application must be for the group's
    osiedle and not yet linked). An application in the user's own scope is linked at once; any other
    becomes a request that the coordinator of the centre running the call confirms or refuses, and until
    then the group's page shows nothing of it.

    A number that matches nothing linkable (wrong, of another osiedle, already linked) answers one message
    whatever the reason, and counts as a failure: after GRANT_REFERENCE_FAILURE_LIMIT of them within the
    window the user gets 429 without any look-up (with an alert in the audit trail)."""
    group = q.group_in_scope(current_user, group_id)
    if group is None:
        abort(404)
    form = LinkReferenceForm()
    if request.method == "GET":
        return render("grants/link.html", form=form, group=group)
    if _reference_throttled():
        return _throttled_page(form, group)
    if not form.validate():
        return render("grants/link.html", form=form, group=group, status=422)
    a = q.application_by_reference(form.reference.data, group.neighbourhood_id)
    if a is None:
        form.reference.errors.append(_("Nie znaleziono wniosku o tym numerze, który można połączyć z tą grupą. "
                                       "Sprawdź cały numer razem z kodem na końcu (np. MG/2026/0007-K7QX) "
                                       "i czy wniosek dotyczy osiedla grupy."))
        resp = render("grants/link.html", form=form, group=group, status=422)
        q.record_reference_failure(current_user.id)
        db.session.flush()
        if _reference_throttled():  # this failure reached the limit: say so once, in the audit trail
            _audit("grant_reference_throttled", "community_group", group.id,
                   limit=current_app.config["GRANT_REFERENCE_FAILURE_LIMIT"])
        db.session.commit()  # after rendering, so that the commit does not expire what the page reads
        return resp
    target = url_for("groups.show", group_id=group.id) + "#grants"
    if q.in_application_scope(current_user, a.id):
        a.group_id = group.id
        _audit("grant_group_linked", "grant_application", a.id, group_id=group.id)
        try:
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            abort(409)
        return _done(_("Wniosek połączony z grupą."), target)
    existing = q.link_request_for(a.id, group.id)
    if existing is not None and existing.status == LinkStatus.refused.value:
        form.reference.errors.append(_("Centrum prowadzące nabór odrzuciło już prośbę tej grupy o to powiązanie. "
                                       "Jeśli to pomyłka, skontaktuj się z koordynatorem/ką tego centrum."))
        return render("grants/link.html", form=form, group=group, status=422)
    if existing is None:
        req = q.request_link(a, group.id, current_user.id)
        try:
            db.session.flush()
        except IntegrityError:  # the same request sent twice at once: the first one stands
            db.session.rollback()
        else:
            _audit("grant_link_requested", "grant_application", a.id, group_id=group.id, request_id=req.id)
            db.session.commit()
    return _done(_("Prośba o powiązanie wysłana, czeka na potwierdzenie koordynatora/ki centrum prowadzącego "
                   "nabór."), target)


@bp.route("/applications/<int:application_id>/link-requests/<int:request_id>", methods=["POST"])
@roles_required(*PEOPLE)
def link_decision(application_id: int, request_id: int):
    """The coordinator of the centre running the call confirms a group's request (the application is linked
    to the group, other groups' pending requests for it are refused) or refuses it. Both audited; a request
    already decided, or an application already linked, answers 409 and writes nothing."""
    a, _assignment = _managed_or_404(application_id)
    req = q.get_link_request(a.id, request_id)
    if req is None:
        abort(404)
    form = LinkDecisionForm()
    target = url_for("grants.application", application_id=a.id) + "#link-requests"
    if not form.validate():
        raise _polish(422, _("Wybierz: potwierdzić czy odrzucić prośbę."))
    if req.status != LinkStatus.pending.value:
        raise _polish(409, _("Tę prośbę już rozpatrzono."))
    if form.decision.data == "refuse":
        q.refuse_link(req, current_user.id)
        _audit("grant_link_refused", "grant_application", a.id, group_id=req.group_id, request_id=req.id)
        db.session.commit()
        return _done(_("Prośba o powiązanie odrzucona."), target)
    if a.group_id is not None:
        raise _polish(409, _("Wniosek jest już połączony z grupą."))
    group_id = req.group_id
    refused = q.confirm_link(req, a, current_user.id)
    _audit("grant_link_confirmed", "grant_application", a.id, group_id=group_id, request_id=req.id,
           others_refused=refused)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        abort(409)
    return _done(_("Powiązanie potwierdzone: wniosek połączony z grupą."), target)


def _polish(code: int, message: str):
    """An HTTPException carrying a Polish description that the error handler shows."""
    err = default_exceptions[code](message)
    err.polish = True
    return err


# --- the settlement -------------------------------------------------------------------------------------

def _settlement_context(a: GrantApplication, form=None, document_form=None, attachment_form=None) -> dict:
    q.load_body(a)
    settlement = a.settlement
    docs = q.documents(settlement.id) if settlement else []
    editable = a.status == GrantStatus.in_progress.value
    if form is None:
        form = SettlementForm(formdata=None)
        if settlement:
            form.what_happened.data = settlement.what_happened
            form.participants.data = settlement.participants
            form.volunteers.data = settlement.volunteers
            form.volunteer_hours.data = money(settlement.volunteer_hours)
            writes.stamp(form, settlement)
        for line in a.lines:
            form.spent.append_entry(money(line.spent) if line.spent is not None else None)
    if document_form is None:
        document_form = DocumentForm(formdata=None)
    document_form.budget_line_id.choices = choices([(0, _("— bez przypisania —"))] +
                                                   [(line.id, line.item) for line in a.lines])
    return {"application": a, "call": a.call, "settlement": settlement, "documents": docs, "form": form,
            "document_form": document_form, "attachment_form": attachment_form or AttachmentForm(formdata=None),
            "attachments": q.attachments(a.id), "editable": editable, "figures": q.settlement_figures(a, docs),
            "max_mb": current_app.config["GRANT_ATTACHMENT_MAX_BYTES"] // (1024 * 1024)}


@bp.route("/applications/<int:application_id>/settlement", methods=["GET", "POST"])
@roles_required(*PEOPLE)
def settlement(application_id: int):
    """The report: what happened, participants, volunteers and hours; spending per budget line;
    documents and attachments. "Złóż sprawozdanie" moves the application to "sprawozdanie złożone"."""
    a, _own = _managed_or_404(application_id)
    if a.status not in SETTLEMENT_STATUSES:
        abort(404)
    if request.method == "GET":
        return render("grants/settlement.html", **_settlement_context(a))
    form = SettlementForm()
    if a.status != GrantStatus.in_progress.value:
        form.form_errors.append(_("Sprawozdanie jest już złożone: nie można go zmieniać."))
        return render("grants/settlement.html", status=409, **_settlement_context(a, form=form))
    q.load_body(a)
    valid = form.validate()
    if valid and len(form.spent.entries) != len(a.lines):
        form.form_errors.append(_("Podaj wydatki przy każdej pozycji budżetu."))
        valid = False
    settlement = a.settlement
    if valid and settlement is not None and writes.stale(form, settlement):
        return _settlement_conflict(a, form)
    if not valid:
        return render("grants/settlement.html", status=422, **_settlement_context(a, form=form))
    if settlement is None:
        settlement = Settlement(application_id=a.id)
        db.session.add(settlement)
        a.settlement = settlement
    settlement.what_happened = form.what_happened.data.strip()
    settlement.participants = form.participants.data
    settlement.volunteers = form.volunteers.data
    settlement.volunteer_hours = money(form.volunteer_hours.data)
    settlement.updated_by_id = current_user.id
    for line, entry in zip(a.lines, form.spent.entries):
        line.spent = money(entry.data) if entry.data is not None else None
    submit = "submit_report" in request.form
    before = a.status
    if submit:
        settlement.submitted_at = utcnow()
        q.move(a, GrantStatus.report_submitted.value, _("Sprawozdanie merytoryczne i finansowe złożone."),
               current_user.id)
        _audit("grant_application_moved", "grant_application", a.id, from_status=before, to_status=a.status)
    _audit("grant_settlement_saved", "grant_application", a.id, submitted=submit)
    if not writes.save(also=writes.SAVE_ERRORS):
        a, _own = _managed_or_404(application_id)
        return _settlement_conflict(a, form)
    if submit:
        return _done(_("Sprawozdanie złożone."), url_for("grants.application", application_id=a.id))
    return _done(_("Sprawozdanie zapisane (jeszcze nie złożone)."),
                 url_for("grants.settlement", application_id=a.id))


def _settlement_conflict(a: GrantApplication, form: SettlementForm):
    """409: someone saved the report meanwhile; their text and figures are shown, this user's stay in the form."""
    message = _("Ktoś inny zapisał to sprawozdanie w międzyczasie. Sprawdź dane i zapisz ponownie.")
    q.load_body(a)
    if a.settlement is None:
        form.form_errors.append(message)
        return render("grants/settlement.html", status=409, **_settlement_context(a, form=form))
    ctx = writes.conflict(form, a.settlement, message)
    return render("grants/settlement.html", status=ctx["status"], current_values=ctx["current_values"],
                  **_settlement_context(a, form=form))


@bp.route("/applications/<int:application_id>/settlement/documents", methods=["POST"])
@roles_required(*PEOPLE)
@submissions.keyed()
def document_add(application_id: int):
    """Add an invoice or a bill to the financial report."""
    a, _own = _managed_or_404(application_id)
    if a.status not in SETTLEMENT_STATUSES:
        abort(404)
    q.load_body(a)
    form = DocumentForm()
    form.budget_line_id.choices = choices([(0, "")] + [(line.id, line.item) for line in a.lines])
    if a.status != GrantStatus.in_progress.value:
        form.form_errors.append(_("Sprawozdanie jest już złożone: nie można go zmieniać."))
        return render("grants/settlement.html", status=409, **_settlement_context(a, document_form=form))
    if not form.validate():
        return render("grants/settlement.html", status=422, **_settlement_context(a, document_form=form))
    settlement = a.settlement
    if settlement is None:
        settlement = Settlement(application_id=a.id)
        db.session.add(settlement)
        db.session.flush()
    document = SettlementDocument(settlement_id=settlement.id, number=form.number.data.strip(),
                                  issued_on=form.issued_on.data, amount=money(form.amount.data),
                                  what_for=form.what_for.data.strip(), budget_line_id=form.budget_line_id.data or None)
    db.session.add(document)
    _audit("grant_document_added", "grant_application", a.id)
    target = url_for("grants.settlement", application_id=a.id) + "#documents"
    submissions.made(document, target)
    db.session.commit()
    return _done(_("Dokument dodany."), target)


@bp.route("/applications/<int:application_id>/attachments", methods=["POST"])
@roles_required(*PEOPLE)
@submissions.keyed()
def attachment_add(application_id: int):
    """Attach a photo or a scan (JPEG, PNG or PDF, checked by content, size limited)."""
    a, _own = _managed_or_404(application_id)
    if a.status not in SETTLEMENT_STATUSES:
        abort(404)
    form = AttachmentForm()
    valid = form.validate()
    if a.status not in (GrantStatus.in_progress.value, GrantStatus.report_submitted.value):
        form.file.errors = [_("Inicjatywa jest już rozliczona: nie dodaje się plików.")]
        return render("grants/settlement.html", status=409, **_settlement_context(a, attachment_form=form))
    count = len(q.attachments(a.id))
    if valid and count >= MAX_ATTACHMENTS:
        form.file.errors = [_("Najwyżej %(n)d załączników przy jednym wniosku.", n=MAX_ATTACHMENTS)]
        valid = False
    stored = None
    if valid:
        try:
            stored = grants_files.store(request.files.get("file"))
        except grants_files.Rejected as exc:
            form.file.errors = [exc.message]
            valid = False
    if not valid:
        return render("grants/settlement.html", status=422, **_settlement_context(a, attachment_form=form))
    name, mime, size, original = stored
    attachment = Attachment(application_id=a.id, stored_name=name, original_name=original, content_type=mime,
                            size=size, description=(form.description.data or "").strip() or None,
                            uploaded_by_id=current_user.id)
    db.session.add(attachment)
    try:
        db.session.flush()
        _audit("grant_attachment_added", "grant_application", a.id, attachment_id=attachment.id, type=mime, size=size)
        target = url_for("grants.settlement", application_id=a.id) + "#attachments"
        submissions.made(attachment, target)
        db.session.commit()
    except Exception:
        db.session.rollback()
        grants_files.discard(name)
        raise
    return _done(_("Plik dodany."), target)


@bp.route("/applications/<int:application_id>/attachments/<int:attachment_id>")
@roles_required(*PEOPLE)
def attachment(application_id: int, attachment_id: int):
    """Download an attachment: only for those who manage the application."""
    got = q.get_application(current_user, application_id)
    if got is None or not got[2]:
        abort(404)
    found = q.get_attachment(application_id, attachment_id)
    if found is None:
        abort(404)
    _audit("grant_attachment_downloaded", "grant_application", application_id, attachment_id=attachment_id)
    db.session.commit()
    return grants_files.send(found)

