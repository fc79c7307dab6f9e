"""Administration: accounts (admins: all; coordinators: their centre's team), centres, the audit trail."""
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import submissions, writes
from app.forms import choices
from app.forms.admin import ROLE_LABELS, CentreForm, NewUserForm, PasswordResetForm, UserForm
from app.htmx import render
from app.params import int_arg
from app.sessions import client_ip, roles_required
from models import Centre, CentreKind, Neighbourhood, Role, User, UserSession, db, record_audit
from app.exports import csv_response, xlsx_response
from models import AuditEvent
from models.queries import audit_events, audit_filter_choices, audit_page, get_team_member, team_members

bp = Blueprint("admin", __name__, url_prefix="/admin")

STAFF_MANAGERS = (Role.admin.value, Role.coordinator.value)


# --- accounts -------------------------------------------------------------------------------

def _is_admin() -> bool:
    return current_user.role == Role.admin.value


def _fill_user_choices(form: UserForm) -> None:
    """Offer only what the editor may grant: a coordinator stays inside their own centre."""
    neighbourhoods = Neighbourhood.all_by_name()
    if _is_admin():
        form.role.choices = choices(ROLE_LABELS)
        form.centre_id.choices = choices([(0, _("— brak —"))] + [(c.id, c.name) for c in Centre.all_by_name()])
        form.neighbourhood_ids.choices = choices((n.id, n.name) for n in neighbourhoods)
        return
    centre = current_user.centre
    allowed = {Role.animator.value, Role.coordinator.value}
    if centre.is_regranting:
        allowed.add(Role.reviewer.value)
    form.role.choices = choices((v, label) for v, label in ROLE_LABELS if v in allowed)
    form.centre_id.choices = choices([(centre.id, centre.name)])
    if centre.kind == CentreKind.neighbourhood.value:
        neighbourhoods = [n for n in neighbourhoods if n.id == centre.neighbourhood_id]
    form.neighbourhood_ids.choices = choices((n.id, n.name) for n in neighbourhoods)


def _apply_user_form(form: UserForm, user: User) -> None:
    user.email = form.email.data.strip().lower()
    user.name = form.name.data.strip()
    user.role = form.role.data
    # Coordinators cannot move anyone out of their centre, whatever the request says.
    user.centre_id = (form.centre_id.data or None) if _is_admin() else current_user.centre_id
    ids = set(form.neighbourhood_ids.data or []) if user.role == Role.animator.value else set()
    user.neighbourhoods = db.session.scalars(select(Neighbourhood).where(Neighbourhood.id.in_(ids))).all() if ids else []


def _email_taken(email: str, except_id: int | None = None) -> bool:
    other = User.by_email(email)
    return other is not None and other.id != except_id


@bp.route("/users")
@roles_required(*STAFF_MANAGERS)
def users():
    """Accounts the signed-in user may manage."""
    return render("admin/users.html", users=team_members(current_user))


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*STAFF_MANAGERS)
@submissions.keyed()
def user_new():
    """Create an account with a starting password to hand over in person."""
    form = NewUserForm()
    _fill_user_choices(form)
    if request.method == "GET" and not _is_admin():
        form.centre_id.data = current_user.centre_id
        form.role.data = Role.animator.value
    if request.method == "POST":
        if form.validate():
            if _email_taken(form.email.data):
                form.email.errors.append(_("Konto z tym adresem e-mail już istnieje."))
            else:
                user = User(password_hash="")
                _apply_user_form(form, user)
                user.active = form.active.data
                user.set_password(form.password.data, current_app.config["PASSWORD_HASH_METHOD"])
                db.session.add(user)
                db.session.flush()
                record_audit("user_created", user_id=current_user.id, object_type="user", object_id=user.id,
                             ip=client_ip(), role=user.role)
                submissions.made(user, url_for("admin.users"))
                db.session.commit()
                flash(_("Konto utworzone."), "success")
                return redirect(url_for("admin.users"), 303)
        return render("admin/user_form.html", form=form, user=None, status=422)
    return render("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(*STAFF_MANAGERS)
def user_edit(user_id: int):
    """Edit an account: name, role, osiedla, active. Deactivation ends its sessions."""
    user = get_team_member(current_user, user_id)
    if user is None:
        abort(404)
    form = UserForm(obj=user if request.method == "GET" else None)
    _fill_user_choices(form)
    if request.method == "GET":
        form.centre_id.data = user.centre_id or 0
        form.neighbourhood_ids.data = list(user.neighbourhood_ids)
        writes.stamp(form, user)
        return render("admin/user_form.html", form=form, user=user, reset_form=PasswordResetForm())
    if not form.validate():
        return render("admin/user_form.html", form=form, user=user, reset_form=PasswordResetForm(), status=422)
    if writes.stale(form, user):
        return _user_conflict(form, user)
    if _email_taken(form.email.data, user.id):
        form.email.errors.append(_("Konto z tym adresem e-mail już istnieje."))
        return render("admin/user_form.html", form=form, user=user, reset_form=PasswordResetForm(), status=422)
    if user.id == current_user.id and (not form.active.data or form.role.data != user.role):
        form.form_errors.append(_("Nie możesz zmienić roli ani zablokować własnego konta."))
        return render("admin/user_form.html", form=form, user=user, reset_form=PasswordResetForm(), status=422)
    was_active = user.active
    _apply_user_form(form, user)
    user.active = form.active.data
    if was_active and not user.active:
        UserSession.revoke_all(user.id)
    record_audit("user_updated", user_id=current_user.id, object_type="user", object_id=user.id, ip=client_ip(),
                 fields=sorted(f.name for f in form if f.name not in ("csrf_token", "version")),
                 deactivated=was_active and not user.active)
    if not writes.save():
        return _user_conflict(form, get_team_member(current_user, user_id) or abort(404))
    flash(_("Zmiany zapisane."), "success")
    return redirect(url_for("admin.users"), 303)


def _user_conflict(form: UserForm, current: User):
    """409: somebody saved first. Show their values, keep this user's input on screen."""
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany w tym koncie, zanim zapisałeś/aś swoje. "
                                           "Poniżej są aktualne wartości; Twoje zmiany są nadal w formularzu."))
    return render("admin/user_form.html", form=form, user=current, reset_form=PasswordResetForm(), **ctx)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(*STAFF_MANAGERS)
def user_password(user_id: int):
    """Set a new password for someone who lost theirs; their sessions end."""
    user = get_team_member(current_user, user_id)
    if user is None:
        abort(404)
    reset_form = PasswordResetForm()
    if not reset_form.validate():
        form = UserForm(obj=user)
        _fill_user_choices(form)
        writes.stamp(form, user)
        return render("admin/user_form.html", form=form, user=user, reset_form=reset_form, status=422)
    user.set_password(reset_form.password.data, current_app.config["PASSWORD_HASH_METHOD"])
    UserSession.revoke_all(user.id)
    record_audit("password_reset", user_id=current_user.id, object_type="user", object_id=user.id, ip=client_ip())
    db.session.commit()
    flash(_("Hasło ustawione. Wszystkie sesje tego konta zostały zakończone."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id), 303)


# --- centres --------------------------------------------------------------------------------

def _fill_centre_choices(form: CentreForm) -> None:
    form.neighbourhood_id.choices = choices([(0, _("— całe miasto —"))] + [(n.id, n.name) for n in Neighbourhood.all_by_name()])


@bp.route("/centres")
@roles_required(Role.admin.value)
def centres():
    """Every centre (CIL), its kind, osiedle and operator."""
    return render("admin/centres.html", centres=Centre.all_by_name())


@bp.route("/centres/new", methods=["GET", "POST"])
@roles_required(Role.admin.value)
@submissions.keyed()
def centre_new():
    """Register a centre."""
    form = CentreForm()
    _fill_centre_choices(form)
    if request.method == "POST":
        if form.validate():
            if db.session.scalar(select(Centre).where(Centre.slug == form.slug.data)):
                form.slug.errors.append(_("Ten skrót jest już zajęty."))
            else:
                centre = Centre()
                _apply_centre_form(form, centre)
                db.session.add(centre)
                db.session.flush()
                record_audit("centre_created", user_id=current_user.id, object_type="centre", object_id=centre.id,
                             ip=client_ip())
                submissions.made(centre, url_for("admin.centres"))
                db.session.commit()
                flash(_("Centrum dodane."), "success")
                return redirect(url_for("admin.centres"), 303)
        return render("admin/centre_form.html", form=form, centre=None, status=422)
    return render("admin/centre_form.html", form=form, centre=None)


def _apply_centre_form(form: CentreForm, centre: Centre) -> None:
    centre.name = form.name.data.strip()
    centre.slug = form.slug.data
    centre.kind = form.kind.data
    centre.operator = form.operator.data.strip()
    centre.neighbourhood_id = form.neighbourhood_id.data or None
    centre.active = form.active.data


@bp.route("/centres/<int:centre_id>", methods=["GET", "POST"])
@roles_required(Role.admin.value)
def centre_edit(centre_id: int):
    """Edit a centre."""
    centre = db.session.get(Centre, centre_id) or abort(404)
    form = CentreForm(obj=centre if request.method == "GET" else None)
    _fill_centre_choices(form)
    if request.method == "GET":
        form.neighbourhood_id.data = centre.neighbourhood_id or 0
        writes.stamp(form, centre)
        return render("admin/centre_form.html", form=form, centre=centre)
    if not form.validate():
        return render("admin/centre_form.html", form=form, centre=centre, status=422)
    clash = db.session.scalar(select(Centre).where(Centre.slug == form.slug.data, Centre.id != centre.id))
    if clash:
        form.slug.errors.append(_("Ten skrót jest już zajęty."))
        return render("admin/centre_form.html", form=form, centre=centre, status=422)
    if writes.stale(form, centre):
        return _centre_conflict(form, centre)
    _apply_centre_form(form, centre)
    record_audit("centre_updated", user_id=current_user.id, object_type="centre", object_id=centre.id, ip=client_ip())
    if not writes.save():
        return _centre_conflict(form, db.session.get(Centre, centre_id) or abort(404))
    flash(_("Zmiany zapisane."), "success")
    return redirect(url_for("admin.centres"), 303)


def _centre_conflict(form: CentreForm, current: Centre):
    """409: somebody saved the centre first. Show their values, keep this user's input on screen."""
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany w tym centrum, zanim zapisałeś/aś swoje. "
                                           "Poniżej są aktualne wartości; Twoje zmiany są nadal w formularzu."))
    return render("admin/centre_form.html", form=form, centre=current, **ctx)


# --- audit ----------------------------------------------------------------------------------

@bp.route("/audit")
@roles_required(Role.admin.value, Role.coordinator.value)
def audit():
    """The audit trail, newest first, filtered by who, what, record and period; with downloads."""
    filters, stmt = _audit_filters()
    page = int_arg("page", 1)
    events, has_next = audit_page(stmt, page, current_app.config["PER_PAGE"])
    people, actions = audit_filter_choices(current_user)
    return render("admin/audit.html", events=events, page=page, has_next=has_next, filters=filters, people=people,
                  actions=actions)


@bp.route("/audit/export.<fmt>")
@roles_required(Role.admin.value, Role.coordinator.value)
def audit_export(fmt: str):
    """The filtered audit trail as CSV or XLSX (the export itself is audited)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters, stmt = _audit_filters()
    names = dict(db.session.execute(select(User.id, User.name)).all())
    record_audit("export", user_id=current_user.id, object_type="audit_event", ip=client_ip(), format=fmt,
                 filters={k: str(v) for k, v in filters.items() if v})
    db.session.commit()
    columns = stmt.with_only_columns(AuditEvent.at, AuditEvent.user_id, AuditEvent.action, AuditEvent.object_type,
                                     AuditEvent.object_id, AuditEvent.ip, AuditEvent.detail)

    def rows():
        # Runs while the response streams (a server-side cursor on PostgreSQL lives inside it).
        for e in db.session.execute(columns.order_by(AuditEvent.id.desc()).execution_options(yield_per=1000)):
            yield e.at, names.get(e.user_id, ""), e.action, e.object_type, e.object_id, e.ip, e.detail
    header = [_("kiedy"), _("kto"), _("co"), _("rodzaj rekordu"), _("id rekordu"), _("adres"), _("szczegóły")]
    if fmt == "csv":
        return csv_response("dziennik-zdarzen.csv", header, rows())
    return xlsx_response("dziennik-zdarzen.xlsx", header, rows(), title=_("Dziennik zdarzeń"))


def _audit_filters():
    from app.params import date_arg
    from app.timeutil import local_day_bounds_utc

    filters = {
        "user": int_arg("user", 0, minimum=0),
        "action": (request.args.get("action") or "").strip()[:60],
        "object_type": (request.args.get("object_type") or "").strip()[:40],
        "object_id": int_arg("object_id", 0, minimum=0),
        "from": date_arg("from"),
        "to": date_arg("to"),
    }
    since = local_day_bounds_utc(filters["from"])[0] if filters["from"] else None
    until = local_day_bounds_utc(filters["to"])[1] if filters["to"] else None
    stmt = audit_events(current_user, user_id=filters["user"] or None, action=filters["action"] or None,
                        object_type=filters["object_type"] or None, object_id=filters["object_id"] or None,
                        since=since, until=until)
    return filters, stmt
