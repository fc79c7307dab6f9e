"""Informal groups: the list, the coordinator's board, one group's page and the htmx actions on it.

Animators reach the groups of their osiedla, coordinators every group of their centre; other roles
get 403 and a group outside the scope is a 404. Handlers stay thin: queries, flags, health signals
and stage moves live in `models/groups_queries.py`.
"""
from urllib.parse import urlencode

from babel.dates import get_month_names
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import submissions, writes
from app.forms import choices
from app.forms.groups import (GOAL_STATUS_LABELS, MEMBER_ROLE_LABELS, STAGE_LABELS, STATUS_FILTER_LABELS,
                              STATUS_LABELS, GoalForm, GoalStatusForm, GroupForm, MemberAddForm, MemberRoleForm,
                              NewGroupForm, StageMoveForm, join_tags)
from app.forms.residents import parse_tags
from app.htmx import is_htmx, render, wants_fragment
from app.params import int_arg
from app.people import neighbourhood_choices
from app.sessions import client_ip, roles_required
from app.timeutil import today_local
from models import STAGE_ORDER, Goal, Group, Role, db, ladder, record_audit, utcnow
from models import groups_queries as q

bp = Blueprint("groups", __name__, url_prefix="/groups")

STAFF = (Role.animator.value, Role.coordinator.value)
CHANGED_EVENT = "group-changed"  # htmx event: the group page reloads its health signals and timeline
STAGE_COLOURS = {"idea": "#b7c6d8", "core_group": "#7ea6c8", "planning": "#3c78a8", "action": "#0b6e4f",
                 "reflection": "#79b35f", "independent": "#d99a1b"}
DETAIL_FIELDS = ("name", "matter", "description", "tags", "neighbourhood_id", "animator_id", "started_on", "status",
                 "formalised_on", "formal_name")


def _texts() -> dict:
    """Strings that templates repeat for every card, member or entry, translated once per page:
    a template formats them with `|format(...)` instead of calling gettext in a loop."""
    return {
        "card_members": _("członkowie: %(n)d, aktywni: %(a)d"),
        "move": _("Zmień etap"),
        "move_named": _("Zmień etap: %(name)s"),
        "no_meeting": _("Utknęła: bez spotkania od %(days)d dni"),
        "no_meeting_yet": _("Utknęła: brak spotkań od powstania (%(days)d dni)"),
        "stage_unchanged": _("Utknęła: ten sam etap od %(days)d dni"),
        "at_risk": _("Zagrożona: mniej niż 3 aktywne osoby (jest %(n)d)"),
        "since": _("od %(day)s"),
        "change": _("Zmień"),
        "change_member": _("Zmień rolę lub usuń: %(name)s"),
        "stage_change": _("Zmiana etapu"),
        "back": _("powrót"),
        "start": _("Początek w Animo"),
        "stage": _("etap"),
        "joined": _("dołącza do grupy (%(role)s)"),
        "left": _("odchodzi z grupy"),
        "role_changed": _("zmienia rolę: %(old)s → %(new)s"),
        "meeting": _("Spotkanie"),
        "present": _("obecnych: %(n)d"),
        "commitment": _("Zobowiązanie"),
        "done": _("zrobione"),
        "dropped": _("porzucone"),
        "promised": _("obiecane"),
        "due": _("termin %(day)s"),
        "last_meeting": _("ostatnie spotkanie: %(day)s"),
        "no_meetings": _("bez spotkań"),
        "goal_status": _("Status celu"),
        "save": _("Zapisz"),
    }


@bp.context_processor
def _labels():
    # Plain strings, translated once per page (a lazy string would be translated at every use).
    stage_labels = {k: str(v) for k, v in STAGE_LABELS}
    status_labels = {k: str(v) for k, v in STATUS_LABELS}
    role_labels = {k: str(v) for k, v in MEMBER_ROLE_LABELS}
    goal_labels = [(k, str(v)) for k, v in GOAL_STATUS_LABELS]
    return {
        "T": _texts(),
        "stages": list(stage_labels.items()),
        "stage_label": lambda s: stage_labels.get(s, s),
        "stage_index": lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else -1,
        "status_label": lambda s: status_labels.get(s, s),
        "member_role_label": lambda r: role_labels.get(r, r),
        "goal_statuses": goal_labels,
        "stage_colours": STAGE_COLOURS,
        "min_adults": q.MIN_ADULTS,
        "active_days": q.ACTIVE_DAYS,
        "groups_url": url_for("groups.index"),
    }


# --- helpers ----------------------------------------------------------------------------------

def _group_or_404(group_id: int) -> Group:
    group = q.get_group(current_user, group_id)
    if group is None:
        abort(404)
    return group


def _filters() -> q.GroupFilters:
    status = request.args.get("status") or "current"
    stage = request.args.get("stage") or None
    tags = parse_tags(request.args.get("tag"))
    return q.GroupFilters(
        neighbourhood_id=int_arg("neighbourhood", 0, minimum=0) or None,
        animator_id=int_arg("animator", 0, minimum=0) or None,
        status=status if status in q.STATUS_FILTERS else "current",
        stage=stage if stage in STAGE_ORDER else None,
        tag=tags[0] if tags else None,
    )


def _filter_choices() -> dict:
    return {"hood_choices": neighbourhood_choices(current_user), "animator_choices": q.team_animators(current_user),
            "status_choices": STATUS_FILTER_LABELS}


def _board_query(filters: q.GroupFilters) -> str:
    """The query string a card's move link carries, so that the move answers for this board."""
    return "?" + urlencode({"board": 1, **filters.as_args()})


CHART_W, CHART_H, CHART_LEFT, CHART_TOP, CHART_BOTTOM = 480, 220, 30, 10, 40


def _chart(months: list) -> dict:
    """The stacked bars of the chart, as SVG geometry (drawn by the template, no script)."""
    top = max([m.total for m in months] + [1])
    step = (CHART_W - CHART_LEFT) / max(1, len(months))
    bar = step * 0.7
    scale = (CHART_H - CHART_TOP - CHART_BOTTOM) / top
    base = CHART_H - CHART_BOTTOM
    stage_labels = {k: str(v) for k, v in STAGE_LABELS}
    month_names = get_month_names("abbreviated", context="stand-alone", locale=get_locale())
    bars, labels, rows = [], [], []
    for i, m in enumerate(months):
        name = month_names[m.month.month]
        x, y = CHART_LEFT + i * step + (step - bar) / 2, base
        for stage in STAGE_ORDER:
            n = m.counts.get(stage, 0)
            if n:
                y -= n * scale
                bars.append({"x": f"{x:.1f}", "y": f"{y:.1f}", "w": f"{bar:.1f}", "h": f"{n * scale:.1f}",
                             "fill": STAGE_COLOURS[stage], "title": f"{name} {m.month.year}: {stage_labels[stage]} {n}"})
        labels.append({"x": f"{x + bar / 2:.1f}", "month": name,
                       "year": m.month.year if i == 0 or m.month.month == 1 else None})
        rows.append({"month": f"{name} {m.month.year}", "counts": [m.counts.get(s, 0) for s in STAGE_ORDER],
                     "total": m.total})
    marks = (0, top // 2, top) if top >= 4 else (0, top)
    ticks = [{"y": f"{base - v * scale:.1f}", "label": str(v)} for v in marks]
    return {"w": CHART_W, "h": CHART_H, "left": CHART_LEFT, "axis": base, "bars": bars, "labels": labels,
            "ticks": ticks, "rows": rows}


def _unique_ids(form, prefix: str):
    """Give a form's fields ids of their own, so that several forms can share a page."""
    for f in form:
        f.id = f"{prefix}-{f.name}"
        f.label.field_id = f.id
    return form


def _next_stage(stage: str) -> str:
    """The stage a move form offers first: the next one (from the last stage, the one before)."""
    i = STAGE_ORDER.index(stage) if stage in STAGE_ORDER else 0
    return STAGE_ORDER[i + 1] if i + 1 < len(STAGE_ORDER) else STAGE_ORDER[i - 1]


def _move_form(group: Group, form: StageMoveForm | None = None) -> StageMoveForm:
    if form is None:
        form = StageMoveForm(formdata=None)
        form.to_stage.data = _next_stage(group.stage)
        writes.stamp(form, group)
    return _unique_ids(form, f"move{group.id}")


def _member_form(form: MemberAddForm | None = None) -> MemberAddForm:
    return _unique_ids(form or MemberAddForm(formdata=None), "member")


def _goal_form(form: GoalForm | None = None) -> GoalForm:
    return _unique_ids(form or GoalForm(formdata=None), "goal")


def _health_context(group: Group) -> dict:
    health = q.health(group.id)
    row = q.flag(q.GroupRow(group, "", None, health.last_meeting_at, health.active_members, health.members),
                 health.now)
    return {"health": health, "flags_row": row}


def _block_context(block: str, group: Group) -> dict:
    """What one named block of groups/detail.html reads, and nothing more."""
    if block == "members":
        members = q.current_members(group.id)
        return {"members": members, "adults": q.adult_count(members), "member_form": _member_form(), "results": None}
    if block == "goals":
        return {"goals": q.group_goals(group.id), "goal_form": _goal_form(), "goal_errors": {}}
    if block == "stage":
        return {"move_form": _move_form(group), "stage_history": q.stage_history(group.id)}
    if block == "health":
        return _health_context(group)
    if block == "timeline":
        return {"timeline": q.group_history(group.id)}
    return {}


def _page_context(group: Group) -> dict:
    ctx = {"group": group}
    for block in ("members", "goals", "stage", "health", "timeline"):
        ctx.update(_block_context(block, group))
    return ctx


def _respond(group: Group, block: str, status: int = 200, **overrides):
    """The group page, or only `block` of it for htmx; `overrides` replace parts of the context."""
    ctx = {"group": group, **(_block_context(block, group) if wants_fragment() else _page_context(group))}
    ctx.update(overrides)
    return render("groups/detail.html", block=block, status=status, **ctx)


def _written(template: str, blocks: list[str], message: str, **ctx):
    """After a write, for htmx: the named blocks, an out-of-band status message, and the event
    that makes the group page refresh its health signals and timeline."""
    body = "".join(render_block(template, b, **ctx) for b in blocks)
    body += render_template("groups/_status.html", message=message)
    resp = make_response(body)
    resp.headers["Vary"] = "HX-Request"
    resp.headers["HX-Trigger"] = CHANGED_EVENT
    return resp


def _done(message: str, target: str):
    """After a write, for a full page: the message for the next page, and 303 to `target`."""
    flash(message, "success")
    return redirect(target, 303)


def _audit(action: str, group_id: int, **detail) -> None:
    record_audit(action, user_id=current_user.id, object_type="group", object_id=group_id, ip=client_ip(), **detail)


# --- the list and the board ---------------------------------------------------------------------

@bp.route("")
@roles_required(*STAFF)
def index():
    """Groups in the user's scope, filtered by osiedle, animator, status, stage and tag."""
    filters = _filters()
    page = int_arg("page", 1)
    rows, has_next = q.group_list(current_user, filters, page, current_app.config["PER_PAGE"])
    return render("groups/list.html", rows=rows, page=page, has_next=has_next, filters=filters, **_filter_choices())


@bp.route("/board")
@roles_required(*STAFF)
def board():
    """The coordinator's board: every group in columns by stage, flagged when stalled or at risk."""
    filters = _filters()
    now = utcnow()
    columns, truncated = q.board(current_user, filters, now)
    rows = [row for column in columns.values() for row in column]
    chart = _chart(q.stage_chart(current_user, filters, rows, today_local()))
    summary = {"groups": len(rows), "stalled": sum(1 for r in rows if r.stalled),
               "at_risk": sum(1 for r in rows if r.at_risk)}
    return render("groups/board.html", columns=columns, truncated=truncated, chart=chart, summary=summary,
                  filters=filters, board_query=_board_query(filters), **_filter_choices())


# --- a group's details ----------------------------------------------------------------------------

def _fill_group_choices(form: GroupForm, group: Group | None = None) -> None:
    hoods = neighbourhood_choices(current_user)
    animators = q.team_animators(current_user)
    if group is not None and group.animator_id and group.animator_id not in {a for a, _n in animators}:
        animators.append((group.animator_id, group.animator.name))  # keep an animator who has left the team
    form.neighbourhood_id.choices = choices(hoods)
    form.animator_id.choices = choices([(0, _("— nikt —"))] + animators)


def _apply_group_form(form: GroupForm, group: Group) -> list[str]:
    """Copy the form into the group; returns the names of the fields that changed (for the audit)."""
    before = {f: getattr(group, f) for f in DETAIL_FIELDS}
    group.name = form.name.data.strip()
    group.matter = (form.matter.data or "").strip() or None
    group.description = (form.description.data or "").strip() or None
    group.tags = join_tags(form.tags.data)
    group.neighbourhood_id = form.neighbourhood_id.data
    group.animator_id = form.animator_id.data or None
    group.started_on = form.started_on.data
    group.status = form.status.data
    group.formalised_on = form.formalised_on.data
    group.formal_name = (form.formal_name.data or "").strip() or None
    return sorted(f for f in DETAIL_FIELDS if before[f] != getattr(group, f))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
@submissions.keyed()
def new():
    """Add a group: its details and the stage it starts at (the first entry of its history)."""
    form = _unique_ids(NewGroupForm(), "group")
    _fill_group_choices(form)
    if request.method == "GET":
        if current_user.role == Role.animator.value:
            form.animator_id.data = current_user.id
        if len(form.neighbourhood_id.choices) == 1:
            form.neighbourhood_id.data = form.neighbourhood_id.choices[0].value
        return render("groups/form.html", form=form, group=None)
    if not form.validate():
        return render("groups/form.html", block="group_form", form=form, group=None, status=422)
    now = utcnow()
    group = Group(centre_id=current_user.centre_id, created_by_id=current_user.id, stage=form.stage.data,
                  stage_changed_at=now, created_at=now)
    _apply_group_form(form, group)
    db.session.add(group)
    db.session.flush()
    q.record_start(group, current_user.id, (form.note.data or "").strip(), now, today_local())
    _audit("group_created", group.id, stage=group.stage)
    message = _("Grupa „%(name)s” dodana. Dodaj teraz jej członków.", name=group.name)
    target = url_for("groups.show", group_id=group.id)
    if is_htmx():
        flash(message, "success")
        resp = make_response("", 200)
        resp.headers["HX-Redirect"] = target
    else:
        resp = _done(message, target)
    submissions.made(group, resp)
    db.session.commit()
    return resp


@bp.route("/<int:group_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def show(group_id: int):
    """One group: stage and history, health signals, members, goals, timeline. POST saves its details."""
    group = _group_or_404(group_id)
    if request.method == "POST":
        return _save_details(group)
    return render("groups/detail.html", **_page_context(group))


@bp.route("/<int:group_id>/edit")
@roles_required(*STAFF)
def edit(group_id: int):
    """The details form (on the group page, it replaces the details section)."""
    group = _group_or_404(group_id)
    form = _unique_ids(GroupForm(obj=group, formdata=None), "group")
    _fill_group_choices(form, group)
    form.animator_id.data = group.animator_id or 0
    form.tags.data = ", ".join(parse_tags(group.tags))
    writes.stamp(form, group)
    return render("groups/form.html", block="group_form", form=form, group=group, inline=wants_fragment())


def _save_details(group: Group):
    form = _unique_ids(GroupForm(), "group")
    _fill_group_choices(form, group)
    inline = wants_fragment()
    if not form.validate():
        return render("groups/form.html", block="group_form", form=form, group=group, inline=inline, status=422)
    if writes.stale(form, group):
        return _details_conflict(form, group, inline)
    changed = _apply_group_form(form, group)
    _audit("group_updated", group.id, fields=changed)
    if not writes.save():
        return _details_conflict(form, _group_or_404(group.id), inline)
    message = _("Zmiany zapisane.")
    if inline:
        return _written("groups/detail.html", ["details", "head"], message, group=_group_or_404(group.id), oob=True)
    return _done(message, url_for("groups.show", group_id=group.id))


def _details_conflict(form: GroupForm, current: Group, inline: bool):
    """409: somebody saved first. Show their values, keep this user's input in the form."""
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany w tej grupie, zanim zapisałeś/aś swoje. "
                                           "Poniżej są aktualne wartości; Twoje zmiany są nadal w formularzu."),
                          skip=("tags",),
                          extra=[(_("Tagi"), ", ".join(parse_tags(current.tags)) or None),
                                 (_("Etap"), dict(STAGE_LABELS).get(current.stage, current.stage))])
    return render("groups/form.html", block="group_form", form=form, group=current, inline=inline, **ctx)


# --- stage moves ------------------------------------------------------------------------------------

def _move_target(group: Group, on_board: bool, filters: q.GroupFilters | None) -> str:
    if on_board:
        return url_for("groups.stage", group_id=group.id, board=1, **filters.as_args())
    return url_for("groups.stage", group_id=group.id)


def _move_form_response(group: Group, form: StageMoveForm, on_board: bool, filters, status: int):
    form = _move_form(group, form)
    if on_board or not wants_fragment():
        # On its own page, or opened in a card of the board: the keyboard starts at the stage select.
        form.to_stage.render_kw = {**(form.to_stage.render_kw or {}), "autofocus": True}
        return render("groups/move.html", block="move_form", group=group, form=form, on_board=on_board,
                      action=_move_target(group, on_board, filters), filters=filters, inline=wants_fragment(),
                      status=status)
    return render("groups/detail.html", block="stage", group=group, move_form=form,
                  stage_history=q.stage_history(group.id), status=status)


@bp.route("/<int:group_id>/stage", methods=["GET", "POST"])
@roles_required(*STAFF)
def stage(group_id: int):
    """Move the group to another stage, forward or back, with a note. `?board=1` (and the board's
    filters) when the move is made from the board, which then gets its card in the new column."""
    group = _group_or_404(group_id)
    on_board = request.args.get("board") == "1"
    filters = _filters() if on_board else None
    if request.method == "GET":
        return _move_form_response(group, _move_form(group), on_board, filters, 200)
    form = StageMoveForm()
    if not form.validate():
        return _move_form_response(group, form, on_board, filters, 422)
    # A form shown before someone else's move is a conflict first, whatever it asks for.
    version = writes.submitted_version(form)  # None (not a plain number) is never current: 409
    if version == group.version and form.to_stage.data == group.stage:
        form.to_stage.errors.append(_("Grupa już jest na tym etapie. Wybierz inny."))
        return _move_form_response(group, form, on_board, filters, 422)
    note = form.note.data.strip()
    try:
        change = q.move_stage(group, form.to_stage.data, note, current_user.id, version, on=today_local())
        _audit("group_stage_changed", group.id, from_stage=change.from_stage, to_stage=change.to_stage,
               from_version=change.from_version)
        db.session.commit()
        from_stage = change.from_stage
    except (q.StaleGroup, StaleDataError, IntegrityError):
        db.session.rollback()
        current = _group_or_404(group_id)
        if q.is_repeat(group_id, version, current_user.id, form.to_stage.data, note):
            return _moved(current, None, on_board, filters)  # the same form sent twice: already done
        writes.stamp(form, current)
        form.form_errors.append(_("Ktoś właśnie zmienił tę grupę: jest teraz na etapie „%(stage)s”. "
                                  "Twoja notatka jest nadal w formularzu: sprawdź etap i zapisz ponownie.",
                                  stage=dict(STAGE_LABELS)[current.stage]))
        return _move_form_response(current, form, on_board, filters, 409)
    return _moved(group, from_stage, on_board, filters)


def _moved(group: Group, from_stage: str | None, on_board: bool, filters):
    """After a move (`from_stage` None: a repeated form, the move was already recorded)."""
    message = _("„%(name)s”: etap zmieniony na „%(stage)s”.", name=group.name, stage=dict(STAGE_LABELS)[group.stage])
    if wants_fragment():
        if on_board:
            return _moved_on_board(group, from_stage, filters, message)
        return _written("groups/detail.html", ["stage"], message, group=group, **_block_context("stage", group))
    if on_board:
        return _done(message, url_for("groups.board", **filters.as_args()))
    return _done(message, url_for("groups.show", group_id=group.id))


def _moved_on_board(group: Group, from_stage: str | None, filters: q.GroupFilters, message: str):
    """The board after a move: the old card goes, the new one joins its column, the counts follow.
    A repeated form (`from_stage` None) has nothing left to move: only the message."""
    if from_stage is None:
        resp = make_response(render_template("groups/_status.html", message=message))
        resp.headers["HX-Reswap"] = "none"
    else:
        row = q.board_row(current_user, group.id)
        counts = q.stage_counts(current_user, filters)
        body = render_block("groups/board.html", "moved", row=row, counts=counts, board_query=_board_query(filters))
        resp = make_response(body + render_template("groups/_status.html", message=message))
        resp.headers["HX-Retarget"] = f"#card-{group.id}-{from_stage}"
        resp.headers["HX-Reswap"] = "delete"
    resp.headers["Vary"] = "HX-Request"
    return resp


# --- members ------------------------------------------------------------------------------------------

@bp.route("/<int:group_id>/member-search")
@roles_required(*STAFF)
def member_search(group_id: int):
    """Search-as-you-type for residents who may join: the group's osiedle, within the user's scope."""
    group = _group_or_404(group_id)
    query = (request.args.get("q") or "").strip()[:100]
    results = q.member_candidates(current_user, group, query)
    form = _member_form(MemberAddForm(request.args, meta={"csrf": False}))
    return _respond(group, "member_results", results=results, query=query, member_form=form)


def _member_replay(row, group_id: int):
    group = _group_or_404(group_id)
    return _written("groups/detail.html", ["members"], _("Ta osoba już dołączyła do grupy."), group=group,
                    refocus=True, **_block_context("members", group))


@bp.route("/<int:group_id>/members", methods=["POST"])
@roles_required(*STAFF)
@submissions.keyed(replay=_member_replay)
def member_add(group_id: int):
    """Add the chosen resident with a role."""
    group = _group_or_404(group_id)
    form = _member_form(MemberAddForm())
    resident = None
    if form.validate():
        resident = q.get_candidate(current_user, group, form.resident_id.data)
        if resident is None:
            form.resident_id.errors.append(_("Tej osoby nie można dodać: grupa przyjmuje mieszkańców swojego osiedla."))
        elif q.is_member(group.id, resident.id):
            form.resident_id.errors.append(_("Ta osoba już jest w grupie."))
            resident = None
    if resident is None:
        return _respond(group, "members", 422, member_form=form, query=form.q.data or "")
    membership = q.add_member(group, resident.id, form.role.data, current_user.id, today_local())
    ladder.refresh([resident.id])
    _audit("group_member_added", group.id, membership_id=membership.id, role=membership.role)
    submissions.made(membership, url_for("groups.show", group_id=group.id, _anchor="members"))
    db.session.commit()
    message = _("%(name)s dołącza do grupy.", name=resident.display_name)
    if wants_fragment():
        return _written("groups/detail.html", ["members"], message, group=group, refocus=True,
                        **_block_context("members", group))
    return _done(message, url_for("groups.show", group_id=group.id, _anchor="members"))


def _membership_or_404(group: Group, membership_id: int):
    membership = q.get_membership(group.id, membership_id)
    if membership is None:
        abort(404)
    return membership


def _member_form_response(group, membership, form, status: int):
    resp = render("groups/member.html", block="member_form", group=group, membership=membership,
                  form=_unique_ids(form, f"m{membership.id}"), inline=wants_fragment(), status=status)
    if wants_fragment() and status != 200:
        # The form posts into the members section; its own errors replace only the form.
        resp.headers["HX-Retarget"] = f"#member-form-{membership.id}"
        resp.headers["HX-Reswap"] = "outerHTML"
    return resp


@bp.route("/<int:group_id>/members/<int:membership_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def member(group_id: int, membership_id: int):
    """A member's role: GET the form, POST a new role (a new period, so that history keeps who led)."""
    group = _group_or_404(group_id)
    membership = _membership_or_404(group, membership_id)
    if request.method == "GET":
        return _member_form_response(group, membership, MemberRoleForm(obj=membership, formdata=None), 200)
    form = MemberRoleForm()
    if not form.validate():
        return _member_form_response(group, membership, form, 422)
    message = _("Bez zmian.")
    if form.role.data != membership.role:
        previous = membership.role
        period = q.change_role(membership, form.role.data, current_user.id, today_local())
        ladder.refresh([membership.resident_id])
        _audit("group_member_role_changed", group.id, membership_id=period.id, role=period.role,
               previous_role=previous)
        db.session.commit()
        message = _("Rola zmieniona.")
    if wants_fragment():
        return _written("groups/detail.html", ["members"], message, group=group, **_block_context("members", group))
    return _done(message, url_for("groups.show", group_id=group.id, _anchor="members"))


@bp.route("/<int:group_id>/members/<int:membership_id>/leave", methods=["POST"])
@roles_required(*STAFF)
def member_leave(group_id: int, membership_id: int):
    """The member leaves the group today; the history keeps the period."""
    group = _group_or_404(group_id)
    membership = _membership_or_404(group, membership_id)
    name = membership.resident.display_name
    membership.left_on = today_local()
    ladder.refresh([membership.resident_id])
    _audit("group_member_left", group.id, membership_id=membership.id)
    db.session.commit()
    message = _("%(name)s nie jest już w grupie.", name=name)
    if wants_fragment():
        return _written("groups/detail.html", ["members"], message, group=group, **_block_context("members", group))
    return _done(message, url_for("groups.show", group_id=group.id, _anchor="members"))


# --- goals --------------------------------------------------------------------------------------------

def _goal_replay(row, group_id: int):
    group = _group_or_404(group_id)
    return _written("groups/detail.html", ["goals"], _("Cel dodany."), group=group, **_block_context("goals", group))


@bp.route("/<int:group_id>/goals", methods=["POST"])
@roles_required(*STAFF)
@submissions.keyed(replay=_goal_replay)
def goal_add(group_id: int):
    """Add a goal of the group."""
    group = _group_or_404(group_id)
    form = _goal_form(GoalForm())
    if not form.validate():
        return _respond(group, "goals", 422, goal_form=form)
    goal = Goal(group_id=group.id, title=form.title.data.strip(), due_on=form.due_on.data)
    db.session.add(goal)
    db.session.flush()
    _audit("group_goal_added", group.id, goal_id=goal.id)
    submissions.made(goal, url_for("groups.show", group_id=group.id, _anchor="goals"))
    db.session.commit()
    message = _("Cel dodany.")
    if wants_fragment():
        return _written("groups/detail.html", ["goals"], message, group=group, **_block_context("goals", group))
    return _done(message, url_for("groups.show", group_id=group.id, _anchor="goals"))


@bp.route("/<int:group_id>/goals/<int:goal_id>", methods=["POST"])
@roles_required(*STAFF)
def goal_status(group_id: int, goal_id: int):
    """Change a goal's status (planned, in progress, done, dropped). The form carries the goal's
    version: a change made on a stale page answers 409; the same status again changes nothing."""
    group = _group_or_404(group_id)
    goal = q.get_goal(group.id, goal_id)
    if goal is None:
        abort(404)
    form = GoalStatusForm()
    if not form.validate():
        return _respond(group, "goals", 422, goal_errors={goal.id: form.status.errors})
    if goal.status != form.status.data:  # the same status again (a repeated tap) is already saved
        if writes.stale(form, goal):
            return _goal_conflict(group, goal, form)
        previous = goal.status
        goal.status = form.status.data
        _audit("group_goal_updated", group.id, goal_id=goal.id, status=goal.status, previous_status=previous)
        if not writes.save():
            return _goal_conflict(group, q.get_goal(group.id, goal_id) or abort(404), form)
    message = _("Status celu zapisany.")
    if wants_fragment():
        return _written("groups/detail.html", ["goals"], message, group=group, **_block_context("goals", group))
    return _done(message, url_for("groups.show", group_id=group.id, _anchor="goals"))


def _goal_conflict(group: Group, current, form: GoalStatusForm):
    """409: someone changed the goal after this page was shown. Its status now is in the message;
    the select keeps this user's choice and the current version, so choosing again saves it."""
    ctx = writes.conflict(form, current, _("Ktoś inny zmienił ten cel w międzyczasie: jego status to teraz "
                                           "„%(status)s”. Twój wybór jest nadal w formularzu: zapisz go ponownie, "
                                           "jeśli nadal jest aktualny.",
                                           status=dict(GOAL_STATUS_LABELS).get(current.status, current.status)))
    return _respond(group, "goals", ctx["status"], goal_errors={current.id: form.form_errors},
                    goal_kept={current.id: form})


# --- parts of the page that refresh themselves after a write --------------------------------------------

@bp.route("/<int:group_id>/health")
@roles_required(*STAFF)
def health(group_id: int):
    """The health signals (htmx reloads them after every change on the page)."""
    return _respond(_group_or_404(group_id), "health")


@bp.route("/<int:group_id>/timeline")
@roles_required(*STAFF)
def timeline(group_id: int):
    """The timeline (htmx reloads it after every change on the page)."""
    return _respond(_group_or_404(group_id), "timeline")
