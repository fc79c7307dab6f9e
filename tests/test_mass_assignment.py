"""Mass assignment: a save that carries fields its form does not offer (owner, centre, osiedle, role,
rung, stage, version counters) changes nothing but what the form offers.

Each case submits the real edit form as a browser would (every field with its current value), one
offered field changed, plus the extra fields; then reads the record back from the database.
"""
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from models import Group, Meeting, Partner, Resident, User, db
from tests.test_routes_matrix import _client_for, ids_for, own_ids


class _Forms(HTMLParser):
    """Every form of a page (or fragment): its action and the values a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._fields = None
        self._select = None
        self._first_option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._fields = {}
            self.forms.append((a.get("action") or a.get("hx-post") or "", self._fields))
            return
        if self._fields is None:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._fields[name] = a.get("value", "y")
            else:
                self._fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select and self._fields is not None:
            self._fields.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._fields = None

    def handle_data(self, data):
        if self._textarea and self._fields is not None:
            self._fields[self._textarea] += data


def form_of(html: str, action: str) -> dict[str, str]:
    """The fields of the form that posts to `action` (the page's own URL when it has no action)."""
    parser = _Forms()
    parser.feed(html)
    matching = [fields for act, fields in parser.forms if act.split("?")[0] in (action, "")]
    return max(matching, key=len) if matching else {}


def _submit(client, form_url, post_url, change, extra, headers=None):
    r = client.get(form_url, headers=headers or {})
    assert r.status_code == 200, form_url
    data = form_of(r.get_data(as_text=True), post_url)
    assert data, f"no form posting to {post_url} on {form_url}"
    for name in change:
        assert name in data, f"{name} is not offered by {form_url}: {sorted(data)}"
    data.update(change)
    for name in extra:
        assert name not in data, f"{name} is offered by the form: not an extra field"
    data.update(extra)
    return client.post(post_url, data=data, headers=headers or {})


def _other_centre(app):
    return app.world.centres["rataje"]


def test_resident_edit_ignores_owner_centre_and_ladder_fields(app):
    ids = ids_for(app, own_ids)
    rid = ids["resident_id"]
    with app.app_context():
        before = db.session.get(Resident, rid)
        centre, rung, created_by = before.centre_id, before.rung, before.created_by_id
    client = _client_for(app, "animator@wilda")
    r = _submit(client, f"/residents/{rid}/edit", f"/residents/{rid}", {"notes": "Zmienione przez test"},
                {"centre_id": str(_other_centre(app)), "rung": "leader", "created_by_id": str(app.world.users["admin"]),
                 "anonymised_at": "2020-01-01", "rung_reason": "{}", "search_text": "x"})
    assert r.status_code == 303
    with app.app_context():
        after = db.session.get(Resident, rid)
        assert after.notes == "Zmienione przez test"
        assert (after.centre_id, after.rung, after.created_by_id, after.anonymised_at) == (centre, rung, created_by, None)


def test_user_edit_by_a_coordinator_cannot_raise_a_role_or_move_centres(app):
    uid = app.world.users["animator@wilda"]
    client = _client_for(app, "coordinator@wilda")
    r = _submit(client, f"/admin/users/{uid}", f"/admin/users/{uid}", {"name": "Animatorka Testowa"},
                {"is_admin": "y", "password_hash": "x", "calendar_token_hash": "0" * 64})
    assert r.status_code in (200, 303), r.status_code
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.name == "Animatorka Testowa"
        assert user.role == "animator" and user.centre_id == app.world.centres["wilda"]
        assert user.password_hash != "x"
    # role and centre are offered to a coordinator, but only the values they may give
    for change in ({"role": "admin"}, {"centre_id": str(_other_centre(app))}):
        r = _submit(client, f"/admin/users/{uid}", f"/admin/users/{uid}", change, {})
        assert r.status_code == 422, change
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.role == "animator" and user.centre_id == app.world.centres["wilda"]
        assert user.calendar_token_hash is None


def test_group_edit_ignores_centre_stage_and_owner(app):
    ids = ids_for(app, own_ids)
    gid = ids["group_id"]
    with app.app_context():
        before = db.session.get(Group, gid)
        stage, centre, created_by = before.stage, before.centre_id, before.created_by_id
    client = _client_for(app, "animator@wilda")
    r = _submit(client, f"/groups/{gid}/edit", f"/groups/{gid}", {"matter": "Zmienione przez test"},
                {"centre_id": str(_other_centre(app)), "stage": "independence" if stage != "independence" else "idea",
                 "created_by_id": str(app.world.users["admin"]), "stage_changed_at": "2000-01-01 00:00:00"})
    assert r.status_code in (200, 303), r.status_code
    with app.app_context():
        after = db.session.get(Group, gid)
        assert after.matter == "Zmienione przez test"
        assert (after.stage, after.centre_id, after.created_by_id) == (stage, centre, created_by)


def test_meeting_edit_ignores_centre_and_owner(app):
    ids = ids_for(app, own_ids)
    mid = ids["meeting_id"]
    with app.app_context():
        before = db.session.get(Meeting, mid)
        centre, created_by = before.centre_id, before.created_by_id
    client = _client_for(app, "coordinator@wilda")
    r = _submit(client, f"/meetings/{mid}/edit", f"/meetings/{mid}/edit", {"place": "Sala testowa"},
                {"centre_id": str(_other_centre(app)), "created_by_id": str(app.world.users["admin"])})
    assert r.status_code in (200, 303), r.status_code
    with app.app_context():
        after = db.session.get(Meeting, mid)
        assert after.place == "Sala testowa"
        assert (after.centre_id, after.created_by_id) == (centre, created_by)


def test_partner_edit_ignores_centre_and_owner(app):
    ids = ids_for(app, own_ids)
    pid = ids["partner_id"]
    with app.app_context():
        before = db.session.get(Partner, pid)
        centre, created_by = before.centre_id, before.created_by_id
    client = _client_for(app, "coordinator@wilda")
    r = _submit(client, f"/partners/{pid}/edit", f"/partners/{pid}", {"notes": "Zmienione przez test"},
                {"centre_id": str(_other_centre(app)), "created_by_id": str(app.world.users["admin"])})
    assert r.status_code in (200, 303), r.status_code
    with app.app_context():
        after = db.session.get(Partner, pid)
        assert after.notes == "Zmienione przez test"
        assert (after.centre_id, after.created_by_id) == (centre, created_by)
