"""The iCalendar feed of a user's meetings, reached by a personal token the user can revoke.

Whose meetings: an animator's feed has the meetings they were named at and the meetings of the
groups they animate; a coordinator's has every meeting of their centre. Always within their
current scope (osiedla), so a change of assignment changes the feed too.

What it shows: title, kind, time, duration, place, osiedle and group. Never who came, never the
notes or decisions. Only sha256 of the token is stored; a new token replaces the old one, and
revoking leaves none, so an old address answers 404.
"""
import hashlib
import secrets
from datetime import timedelta, timezone

from flask import Blueprint, Response, abort, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from icalendar import Calendar, Event

from app.forms import Form
from app.htmx import render
from app.sessions import client_ip, roles_required
from models import Role, db, record_audit, utcnow
from models import meetings_queries as q

bp = Blueprint("calendar", __name__, url_prefix="/meetings/calendar")

STAFF = (Role.animator.value, Role.coordinator.value)
ONCE_KEY = "calendar_token_once"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@bp.route("")
@roles_required(*STAFF)
def settings():
    """Turn the personal calendar address on, replace it, or turn it off."""
    token = session.pop(ONCE_KEY, None)
    feed_url = url_for("calendar.feed", token=token, _external=True) if token else None
    return render("meetings/calendar.html", form=Form(), feed_url=feed_url,
                  active=current_user.calendar_token_hash is not None)


@bp.route("/token", methods=["POST"])
@roles_required(*STAFF)
def token():
    """Make a new address (the old one stops working). It is shown once, right after."""
    form = Form()
    if not form.validate():
        return render("meetings/calendar.html", form=form, feed_url=None,
                      active=current_user.calendar_token_hash is not None, status=422)
    new = secrets.token_urlsafe(32)
    replaced = current_user.calendar_token_hash is not None
    current_user.calendar_token_hash = hash_token(new)
    record_audit("calendar_token_created", user_id=current_user.id, object_type="user", object_id=current_user.id,
                 ip=client_ip(), replaced=replaced)
    db.session.commit()
    # Kept only until the next page shows it: the server stores nothing but the hash.
    session[ONCE_KEY] = new
    flash(_("Nowy adres kalendarza jest gotowy. Poprzedni (jeśli był) już nie działa."), "success")
    return redirect(url_for("calendar.settings"), 303)


@bp.route("/revoke", methods=["POST"])
@roles_required(*STAFF)
def revoke():
    """Turn the calendar address off: it answers 404 from now on."""
    form = Form()
    if not form.validate():
        return render("meetings/calendar.html", form=form, feed_url=None,
                      active=current_user.calendar_token_hash is not None, status=422)
    if current_user.calendar_token_hash is not None:
        current_user.calendar_token_hash = None
        record_audit("calendar_token_revoked", user_id=current_user.id, object_type="user",
                     object_id=current_user.id, ip=client_ip())
        db.session.commit()
    flash(_("Adres kalendarza wyłączony."), "success")
    return redirect(url_for("calendar.settings"), 303)


@bp.route("/<token>.ics")
def feed(token: str):
    """The feed itself, for calendar apps: no sign-in, only the token."""
    if len(token) > 100:
        abort(404)
    user = q.user_by_calendar_token(hash_token(token))
    if user is None or user.role not in STAFF:
        abort(404)
    from views.meetings import kind_label

    now = utcnow()
    cal = Calendar()
    cal.add("prodid", "-//Animo//Centra Inicjatyw Lokalnych Poznan//PL")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Animo: spotkania"))
    cal.add("x-wr-timezone", "Europe/Warsaw")
    stamp = now.replace(tzinfo=timezone.utc)
    for m in q.calendar_meetings(user, now):
        start = m.starts_at.replace(tzinfo=timezone.utc)
        event = Event()
        event.add("uid", f"meeting-{m.id}@animo")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=m.duration_min))
        event.add("summary", m.title)
        if m.place:
            event.add("location", m.place)
        where = m.neighbourhood.name + (f" · {m.group.name}" if m.group else "")
        event.add("description", f"{kind_label(m.kind)} · {where}")
        event.add("url", url_for("meetings.show", meeting_id=m.id, _external=True))
        cal.add_component(event)
    resp = Response(cal.to_ical(), mimetype="text/calendar")
    resp.headers["Content-Disposition"] = 'inline; filename="animo.ics"'
    return resp
