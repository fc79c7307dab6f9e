"""One-time submission keys: a create form sent twice makes one record and gets the first answer again.

Every form that creates a record carries a hidden `submission_key`: made by the server when it renders
the form (`{{ submission_key() }}` from templates/_macros/forms.html), or by the client itself
(an offline outbox, a script): any 16-64 characters of [A-Za-z0-9_-], e.g. `crypto.randomUUID()`.
A double click, a retry after a lost answer, an outbox replaying its queue all send the same key.

How a create view uses it (the only two calls)::

    @bp.route("/new", methods=["GET", "POST"])
    @roles_required(...)
    @submissions.keyed(replay=_replay)          # optional: rebuilds an htmx fragment answer
    def new():
        ...validate...
        resident = create(...)
        submissions.made(resident, url_for("residents.show", resident_id=resident.id))
        db.session.commit()                     # the record and its submission row, one transaction
        return redirect(...)

- The first send with a key creates the record and, in the same transaction, a `submission` row
  (key unique; whose: the user, or for the public form the call; the endpoint and the URL's ids; the
  record's type and id; the answer's status and Location).
- A later send with the same key finds the row and is answered as the first one was: the same 303 and
  Location (or the same HX-Redirect), or for an htmx fragment the view's `replay` rebuilds the fragment
  from the record. The view does not run again: nothing is validated, written or audited twice.
- Two sends at once: both may run the view, but the submission row's unique key lets only one
  transaction commit; the other's INSERT fails (PostgreSQL waits for the winner's commit; SQLite
  serialises writing requests with BEGIN IMMEDIATE, so the second one already sees the row), rolls
  back everything it did and is answered as the winner was.
- A key already used by another user, on another form, or for another record in the URL (another
  meeting, another call) is refused with 422 and a Polish message, writing nothing.
- No key at all: the form is handled as before (old clients, scripts and tests keep working). Our
  pages always send one; only a client that sends one gets the guarantee.
- Rows older than KEEP_DAYS are purged by `flask enforce-retention`.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import flash, g, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.htmx import is_htmx, wants_fragment
from models import Submission, db, utcnow

FIELD = "submission_key"
PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEEP_DAYS = 30


def new_key() -> str:
    """A fresh key for a form being rendered: 32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


def key_input() -> Markup:
    """The hidden input of a create form. A fresh key on every rendering, also after a 422: a form
    that failed created nothing, so its next send is a new submission either way."""
    return Markup('<input type="hidden" name="%s" value="%s" autocomplete="off">') % (FIELD, new_key())


@dataclass
class _Pending:
    key: str
    user_id: int | None
    endpoint: str
    target: str
    row: Submission | None = None


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _target(view_args: dict) -> str:
    return "&".join(f"{k}={view_args[k]}" for k in sorted(view_args))[:200]


def _find(key: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.key == key))


def _refuse(message: str):
    from app.errors import render_error

    db.session.rollback()
    body, status = render_error(422, message)
    return make_response(body, status)


def keyed(replay=None, restore=None):
    """Make a create view idempotent for sends carrying a submission key.

    `replay(row, **view_args)` rebuilds the answer of a send that was answered with an htmx fragment
    (the stored Location is used otherwise); `row` holds the record's `object_type` and `object_id`.
    `restore(row, **view_args)`, before any repeat's answer, puts back what the first answer kept in
    the browser's session (the public form's reference number), for a repeat from another session."""

    def decorate(view):
        @wraps(view)
        def wrapper(**view_args):
            if request.method != "POST":
                return view(**view_args)
            key = request.form.get(FIELD, "")
            if key == "":
                return view(**view_args)
            if not PATTERN.fullmatch(key):
                return _refuse(_("Formularz ma nieprawidłowy klucz wysyłki (pole %(field)s): odśwież stronę "
                                 "i wyślij go ponownie.", field=FIELD))
            pending = _Pending(key=key, user_id=_user_id(), endpoint=request.endpoint or "",
                               target=_target(view_args))
            g.submission = pending
            earlier = _find(key)
            if earlier is None:
                try:
                    return view(**view_args)
                except IntegrityError:
                    # Sent twice at once: the other send committed the same key first.
                    db.session.rollback()
                    earlier = _find(key)
                    if earlier is None:
                        raise
            return _answer(earlier, pending, replay, restore, view_args)

        wrapper.submission_keyed = True
        return wrapper

    return decorate


def made(record, answer=None, *, call_id: int | None = None) -> None:
    """Note that this send created `record`; call it before the commit that saves the record.

    `answer`: the full-page answer: a Location string (answered with 303) or the response itself (a
    redirect, or an htmx answer with HX-Redirect). A fragment answer is rebuilt by the view's `replay`.
    Without a key in the request this does nothing."""
    pending: _Pending | None = g.get("submission")
    if pending is None or pending.row is not None:
        return
    db.session.flush()
    status, location = None, None
    if isinstance(answer, str):
        status, location = 303, answer
    elif answer is not None:
        status = answer.status_code
        location = answer.headers.get("Location") if 300 <= status < 400 else answer.headers.get("HX-Redirect")
    row = Submission(key=pending.key, user_id=pending.user_id, call_id=call_id, endpoint=pending.endpoint,
                     target=pending.target, object_type=getattr(record, "__tablename__", None),
                     object_id=getattr(record, "id", None), status=status, location=location,
                     created_at=utcnow())
    db.session.add(row)
    db.session.flush()  # a concurrent send of the same key fails here (IntegrityError), before its commit
    pending.row = row


def _answer(row: Submission, pending: _Pending, replay, restore, view_args: dict):
    """The answer of the send that created the record, for another send of its key."""
    if (row.user_id, row.endpoint, row.target) != (pending.user_id, pending.endpoint, pending.target):
        return _refuse(_("Ten formularz ma klucz wysyłki użyty już przy innym zapisie. Odśwież stronę "
                         "i wyślij formularz ponownie."))
    if restore is not None:
        restore(row, **view_args)
    if replay is not None and (row.location is None or wants_fragment()):
        return replay(row, **view_args)
    message = _("Ten formularz został już wysłany: zapisano go tylko raz.")
    if row.location and row.status and 300 <= row.status < 400:
        flash(message, "success")
        return redirect(row.location, row.status)
    if row.location and is_htmx():
        flash(message, "success")
        resp = make_response("", row.status or 200)
        resp.headers["HX-Redirect"] = row.location
        return resp
    if row.location:
        flash(message, "success")
        return redirect(row.location, 303)
    # No Location and no replay: say that it was saved.
    resp = make_response(render_template("_macros/status_oob.html", message=message), 200)
    resp.headers["Vary"] = "HX-Request"
    return resp


def purge(now=None) -> int:
    """Delete submission rows older than KEEP_DAYS; the number deleted. The caller commits."""
    cutoff = (now or utcnow()) - timedelta(days=KEEP_DAYS)
    return db.session.execute(delete(Submission).where(Submission.created_at < cutoff)).rowcount or 0


def init_app(app) -> None:
    app.jinja_env.globals["submission_key_input"] = key_input
