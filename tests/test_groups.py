"""Informal groups: the board, the list, a group's page and every htmx action on it, scoping,
health signals computed in SQL, and the integrity of the stage history under concurrency."""
import re
import threading
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from models import (STAGE_ORDER, Attendance, AuditEvent, Commitment, Goal, Group, Meeting, Membership, Neighbourhood,
                    Resident, StageChange, User, db, meeting_animator, utcnow)
from models import groups_queries as q
from models.timeline import resident_timeline
from tests.conftest import PASSWORD

HX = {"HX-Request": "true"}


# --- helpers ---------------------------------------------------------------------------------------

def group_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Group.id).where(Group.name == name))


def group_of(app, gid: int) -> Group:
    with app.app_context():
        g = db.session.get(Group, gid)
        db.session.expunge(g)
        return g


def hood_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == slug))


def stage_changes(app, gid: int) -> list[StageChange]:
    with app.app_context():
        rows = db.session.scalars(select(StageChange).where(StageChange.group_id == gid).order_by(StageChange.id)).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def residents_of(app, centre: str, *, adults=True, exclude_group: int | None = None) -> list[Resident]:
    """Named residents of a centre (adults or seniors by default), not in `exclude_group`."""
    with app.app_context():
        stmt = select(Resident).where(Resident.centre_id == app.world.centres[centre],
                                      Resident.first_name.is_not(None), Resident.last_name.is_not(None))
        if adults:
            stmt = stmt.where(Resident.age_group.in_(("adult", "senior")))
        if exclude_group:
            stmt = stmt.where(Resident.id.not_in(select(Membership.resident_id).where(
                Membership.group_id == exclude_group, Membership.left_on.is_(None))))
        rows = db.session.scalars(stmt.order_by(Resident.id)).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def login(app, key: str):
    client = app.test_client()
    with app.app_context():
        email = db.session.get(User, app.world.users[key]).email
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 303
    return client


def move(client, gid: int, version: int, to_stage: str, note: str = "Grupa ustaliła plan.", **kw):
    return client.post(f"/groups/{gid}/stage", data={"to_stage": to_stage, "note": note, "version": str(version)}, **kw)


@contextmanager
def counting_statements(app=None):
    if app is None:
        engine = db.engine
    else:
        with app.app_context():
            engine = db.engine
    count = [0]

    def on_execute(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def assert_fragment(body: str):
    assert "<html" not in body and "<main" not in body


def assert_no_inline_code(body: str):
    """CSP allows neither inline styles nor inline scripts."""
    assert "style=" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert not re.search(r"<[^>]+\son[a-z]+=", body)


# --- the board ---------------------------------------------------------------------------------------

def test_board_shows_stages_flags_with_reasons_and_the_chart(app, client, auth):
    auth.login("coordinator@wilda")
    r = client.get("/groups/board")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    for label in ("Pomysł", "Grupa inicjatywna", "Planowanie", "Działanie", "Podsumowanie", "Samodzielność"):
        assert label in body
    for name in ("Zielone Podwórko", "Klub Seniora przy Kościelnej", "Sąsiedzka Biblioteczka", "Rowerowa Wilda"):
        assert name in body
    assert "Ogród Społeczny" not in body  # Rataje's group: another centre
    # Why a group is stalled and at risk, in words
    assert "Utknęła: brak spotkań od powstania" in body
    assert "Utknęła: ten sam etap od 210 dni" in body
    assert "Zagrożona: mniej niż 3 aktywne osoby (jest 0)" in body
    # The chart: inline SVG drawn on the server, with its numbers in a table too
    assert '<svg viewBox="0 0 480 220" role="img"' in body and "<rect " in body and 'fill="#0b6e4f"' in body
    assert "Dane wykresu w tabeli" in body
    assert_no_inline_code(body)
    # Columns: every group card sits in its stage's list
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    column = body.split('id="cards-planning"')[1].split("</ul>")[0]
    assert f'id="card-{gid}-planning"' in column


def test_board_filters_by_status_animator_and_osiedle(app, client, auth):
    auth.login("coordinator@wilda")
    dormant = client.get("/groups/board?status=dormant").get_data(as_text=True)
    assert "Rowerowa Wilda" in dormant and "Zielone Podwórko" not in dormant
    default = client.get("/groups/board").get_data(as_text=True)
    assert "Rowerowa Wilda" in default  # dormant groups are on the board by default
    nobody = client.get(f"/groups/board?animator={app.world.users['animator@rataje']}").get_data(as_text=True)
    assert "Zielone Podwórko" not in nobody
    mine = client.get(f"/groups/board?animator={app.world.users['animator@wilda']}").get_data(as_text=True)
    assert "Zielone Podwórko" in mine
    assert client.get("/groups/board?animator=abc").status_code == 400
    # The regranting centre works in several osiedla: the osiedle filter narrows the board
    client.post("/logout")
    auth.login("animator@regranting")
    with app.app_context():
        groups = db.session.execute(select(Group.name, Group.neighbourhood_id)
                                    .where(Group.centre_id == app.world.centres["regranting"])).all()
    assert len({h for _n, h in groups}) == 2
    board = client.get("/groups/board").get_data(as_text=True)
    assert all(name in board for name, _h in groups)
    name, hood = groups[0]
    narrowed = client.get(f"/groups/board?neighbourhood={hood}").get_data(as_text=True)
    assert name in narrowed and groups[1][0] not in narrowed


def test_ended_groups_leave_the_board_unless_asked_for(app, client, auth):
    auth.login("coordinator@rataje")
    assert "Warsztat Naprawczy" not in client.get("/groups/board").get_data(as_text=True)
    ended = client.get("/groups/board?status=ended").get_data(as_text=True)
    assert "Warsztat Naprawczy" in ended
    assert "Utknęła" not in ended.split("Warsztat Naprawczy")[1].split("</li>\n")[0]  # ended: no flags


# --- the list -----------------------------------------------------------------------------------------

def test_list_filters_by_stage_and_tag(app, client, auth):
    auth.login("animator@wilda")
    body = client.get("/groups").get_data(as_text=True)
    assert "Zielone Podwórko" in body and "Sąsiedzka Biblioteczka" in body and "członkowie:" in body
    planning = client.get("/groups?stage=planning").get_data(as_text=True)
    assert "Sąsiedzka Biblioteczka" in planning and "Zielone Podwórko" not in planning
    tagged = client.get("/groups?tag=Rowery").get_data(as_text=True)
    assert "Rowerowa Wilda" in tagged and "Zielone Podwórko" not in tagged
    assert "Rowerowa Wilda" not in client.get("/groups?status=active").get_data(as_text=True)
    assert client.get("/groups?page=0").status_code == 400


# --- creating and editing -------------------------------------------------------------------------------

def new_group_data(app, **changes):
    data = {"name": "Sąsiedzi z Górnej Wildy", "matter": "ławki na skwerze", "neighbourhood_id": str(hood_id(app, "wilda")),
            "animator_id": str(app.world.users["animator@wilda"]), "started_on": date.today().isoformat(),
            "status": "active", "stage": "idea", "tags": "Zieleń, ławki", "note": "Pomysł z kawy sąsiedzkiej."}
    data.update(changes)
    return data


def test_create_group_starts_its_history(app, client, auth):
    auth.login("animator@wilda")
    form = client.get("/groups/new").get_data(as_text=True)
    assert "Nowa grupa" in form and 'name="stage"' in form
    r = client.post("/groups/new", data=new_group_data(app))
    assert r.status_code == 303
    gid = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        g = db.session.get(Group, gid)
        assert g.centre_id == app.world.centres["wilda"] and g.stage == "idea" and g.version == 1
        assert g.tags == "zieleń,ławki" and g.created_by_id == app.world.users["animator@wilda"]
        audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "group_created"))
        assert audit.object_id == gid and "Wildy" not in (audit.detail or "")
    [start] = stage_changes(app, gid)
    assert (start.from_stage, start.to_stage, start.from_version) == (None, "idea", 0)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Grupa „Sąsiedzi z Górnej Wildy” dodana" in page  # the flashed message
    assert "Początek w Animo" in page and "Pomysł z kawy sąsiedzkiej." in page


def test_create_group_with_htmx_redirects_the_browser(app, client, auth):
    auth.login("coordinator@wilda")
    r = client.post("/groups/new", data=new_group_data(app), headers=HX)
    assert r.status_code == 200 and r.headers["HX-Redirect"].startswith("/groups/")


def test_create_group_validation_is_polish_and_scoped(app, client, auth):
    auth.login("animator@wilda")
    future = (date.today() + timedelta(days=5)).isoformat()
    r = client.post("/groups/new", data=new_group_data(app, name="", started_on=future, formal_name="Stowarzyszenie"))
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    for text in ("Podaj nazwę grupy.", "Data powstania nie może być z przyszłości.", "Podaj też datę sformalizowania."):
        assert text in body
    # an osiedle outside the animator's scope is not a valid choice
    r = client.post("/groups/new", data=new_group_data(app, neighbourhood_id=str(hood_id(app, "rataje"))))
    assert r.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Group).where(Group.name == "Sąsiedzi z Górnej Wildy")) == 0
    r = client.post("/groups/new", data=new_group_data(app, name=""), headers=HX)
    assert r.status_code == 422 and "Podaj nazwę grupy." in r.get_data(as_text=True)
    assert_fragment(r.get_data(as_text=True))


def details_data(app, gid, **changes):
    g = group_of(app, gid)
    data = {"name": g.name, "matter": g.matter or "", "neighbourhood_id": str(g.neighbourhood_id),
            "animator_id": str(g.animator_id or 0), "started_on": g.started_on.isoformat(), "status": g.status,
            "tags": (g.tags or "").replace(",", ", "), "version": str(g.version)}
    data.update(changes)
    return data


def test_edit_details_page_and_fragment(app, client, auth):
    auth.login("coordinator@wilda")
    gid = group_id(app, "Zielone Podwórko")
    page = client.get(f"/groups/{gid}/edit")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    fragment = client.get(f"/groups/{gid}/edit", headers=HX).get_data(as_text=True)
    assert_fragment(fragment)
    assert 'hx-post="/groups/%d"' % gid in fragment and 'value="zieleń, podwórko"' in fragment
    r = client.post(f"/groups/{gid}", data=details_data(app, gid, matter="nowe donice"))
    assert r.status_code == 303 and r.headers["Location"] == f"/groups/{gid}"
    r = client.post(f"/groups/{gid}", data=details_data(app, gid, name="Zielone Podwórko Wildy"), headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "group-changed"
    assert '<section id="details"' in body and 'id="group-head" class="group-head" hx-swap-oob="true"' in body
    assert 'hx-swap-oob="innerHTML:#status"' in body and "Zmiany zapisane." in body
    assert_fragment(body)
    with app.app_context():
        audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "group_updated")).all()
        assert [a.detail_dict["fields"] for a in audits] == [["matter"], ["name"]]


def test_stale_details_answer_409_with_both_versions(app, client, auth):
    auth.login("coordinator@wilda")
    gid = group_id(app, "Zielone Podwórko")
    stale = details_data(app, gid, name="Moja nazwa")
    assert client.post(f"/groups/{gid}", data=details_data(app, gid, name="Pierwsza nazwa")).status_code == 303
    r = client.post(f"/groups/{gid}", data=stale)
    body = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Moja nazwa" in body and "Pierwsza nazwa" in body and "Ktoś inny zapisał zmiany" in body
    r = client.post(f"/groups/{gid}", data=stale, headers=HX)
    assert r.status_code == 409
    assert_fragment(r.get_data(as_text=True))
    assert group_of(app, gid).name == "Pierwsza nazwa"


# --- the group page -------------------------------------------------------------------------------------

def test_group_page_has_history_members_goals_and_signals(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Klub Seniora przy Kościelnej")
    r = client.get(f"/groups/{gid}")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Stowarzyszenie zwykłe „Seniorzy z Wildy”" in body
    assert 'aria-current="step">Samodzielność' in body
    for text in ("Kondycja grupy", "Dni od ostatniego spotkania", "Aktywni członkowie", "Dotrzymane zobowiązania",
                 "Spotkania bez animatora", "Osoby z rolą w grupie", "Rotacja liderów", "Członkowie", "Cele",
                 "Droga grupy", "Ostatnie wydarzenia", "→ <strong>Samodzielność</strong>", "Spotkanie",
                 "Co najmniej 3 dorosłe osoby"):
        assert text in body, text
    assert_no_inline_code(body)
    with app.app_context():
        members = q.current_members(gid)
        assert members and all(f"/residents/{m.resident_id}" in body for m in members)


def test_adult_members_indicator_counts_adults_and_seniors_only(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Potańcówka na Rynku Wildeckim")
    with app.app_context():
        members = q.current_members(gid)
        for m in members:
            db.session.get(Resident, m.resident_id).age_group = None  # unknown age: does not count
        db.session.commit()
    body = client.get(f"/groups/{gid}").get_data(as_text=True)
    assert "Dorosłych członków: 0 z 3 potrzebnych" in body
    adults = residents_of(app, "wilda", exclude_group=gid)
    with app.app_context():
        adults_seniors = [r for r in adults if r.age_group == "senior"][:1] + [r for r in adults if r.age_group == "adult"][:2]
        for r in adults_seniors:
            db.session.add(Membership(group_id=gid, resident_id=r.id, role="member", joined_on=date.today()))
        db.session.commit()
    body = client.get(f"/groups/{gid}").get_data(as_text=True)
    assert "Co najmniej 3 dorosłe osoby (jest 3)" in body


def test_health_and_timeline_fragments_reload_themselves(app, client, auth):
    auth.login("coordinator@wilda")
    gid = group_id(app, "Zielone Podwórko")
    for part, marker in (("health", '<section id="health"'), ("timeline", '<section id="timeline"')):
        r = client.get(f"/groups/{gid}/{part}", headers=HX)
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and body.lstrip().startswith(marker)
        assert 'hx-trigger="group-changed from:body"' in body and "HX-Request" in r.headers["Vary"]
        assert_fragment(body)
        assert len(r.data) <= 8000
        full = client.get(f"/groups/{gid}/{part}").get_data(as_text=True)
        assert "<html" in full and marker in full


# --- stage moves -----------------------------------------------------------------------------------------

def test_move_needs_a_note_and_another_stage(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    v = group_of(app, gid).version
    before = len(stage_changes(app, gid))
    r = move(client, gid, v, "action", note="  ")
    assert r.status_code == 422 and "Napisz krótko, dlaczego grupa zmienia etap." in r.get_data(as_text=True)
    r = move(client, gid, v, "planning")
    assert r.status_code == 422 and "Grupa już jest na tym etapie." in r.get_data(as_text=True)
    r = move(client, gid, v, "nowhere")
    assert r.status_code == 422
    r = move(client, gid, v, "action", note="", headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and body.lstrip().startswith('<section id="stage"')
    assert "<details class=\"move\" open>" in body
    r = move(client, gid, v, "action", note="", headers=HX, query_string={"board": "1"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and body.lstrip().startswith(f'<form id="move-form-{gid}"')
    assert len(stage_changes(app, gid)) == before  # nothing was written
    assert group_of(app, gid).stage == "planning" and group_of(app, gid).version == v


def test_move_forward_and_back_records_dated_noted_changes(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    before = len(stage_changes(app, gid))
    form = client.get(f"/groups/{gid}/stage").get_data(as_text=True)
    assert "<html" in form and '<option selected value="action">' in form  # the next stage is offered first
    v = group_of(app, gid).version
    r = move(client, gid, v, "action", note="Pierwsza wymiana książek za nami.")
    assert r.status_code == 303 and r.headers["Location"] == f"/groups/{gid}"
    r = move(client, gid, v + 1, "planning", note="Biblioteka zamknięta, wracamy do planowania.")
    assert r.status_code == 303
    changes = stage_changes(app, gid)[before:]
    assert [(c.from_stage, c.to_stage, c.from_version) for c in changes] == [
        ("planning", "action", v), ("action", "planning", v + 1)]
    assert all(c.user_id == app.world.users["animator@wilda"] and c.changed_on == date.today() for c in changes)
    g = group_of(app, gid)
    assert g.stage == "planning" and g.version == v + 2
    page = client.get(f"/groups/{gid}").get_data(as_text=True)
    assert "Biblioteka zamknięta, wracamy do planowania." in page and "(powrót)" in page
    with app.app_context():
        audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "group_stage_changed")).all()
        assert [(a.detail_dict["from_stage"], a.detail_dict["to_stage"]) for a in audits] == [
            ("planning", "action"), ("action", "planning")]
        assert all("Biblioteka" not in (a.detail or "") for a in audits)  # notes stay out of the audit trail


def test_move_on_the_group_page_with_htmx(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Zielone Podwórko")
    r = move(client, gid, group_of(app, gid).version, "reflection", headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "group-changed"
    assert body.lstrip().startswith('<section id="stage"') and "Etap: Podsumowanie" in body
    assert 'hx-swap-oob="innerHTML:#status"' in body and "etap zmieniony na „Podsumowanie”" in body
    assert_fragment(body)
    assert len(r.data) <= 8000


def test_move_on_the_board_with_htmx_moves_the_card(app, client, auth):
    auth.login("coordinator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    form = client.get(f"/groups/{gid}/stage?board=1&status=all", headers=HX)
    body = form.get_data(as_text=True)
    assert body.lstrip().startswith(f'<form id="move-form-{gid}"') and 'hx-target="this"' in body
    assert f'hx-post="/groups/{gid}/stage?board=1&amp;status=all"' in body
    r = move(client, gid, group_of(app, gid).version, "action", headers=HX,
             query_string={"board": "1", "status": "all"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert r.headers["HX-Retarget"] == f"#card-{gid}-planning" and r.headers["HX-Reswap"] == "delete"
    assert 'hx-swap-oob="beforeend:#cards-action"' in body and f'id="card-{gid}-action"' in body
    assert 'id="count-planning" hx-swap-oob="true">0<' in body
    assert "etap zmieniony na „Działanie”" in body
    assert len(r.data) <= 8000
    # Without htmx the board move ends back on the board, with its filters
    r = move(client, gid, group_of(app, gid).version, "reflection", query_string={"board": "1", "status": "all"})
    assert r.status_code == 303 and r.headers["Location"] == "/groups/board?status=all"


def test_two_people_moving_at_once_one_wins_the_other_sees_409(app):
    """Two people opened the same group (same version) and both move it: exactly one move is kept."""
    gid = group_id(app, "Zielone Podwórko")
    version = group_of(app, gid).version
    before = len(stage_changes(app, gid))
    coordinator, animator = login(app, "coordinator@wilda"), login(app, "animator@wilda")
    first = move(coordinator, gid, version, "reflection", note="Podsumowaliśmy sezon.")
    second = move(animator, gid, version, "planning", note="Wracamy do planowania.", headers=HX)
    assert first.status_code == 303
    body = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Ktoś właśnie zmienił tę grupę: jest teraz na etapie „Podsumowanie”" in body
    assert "Wracamy do planowania." in body  # the loser's note is still in the form
    assert f'name="version" type="hidden" value="{version + 1}"' in body
    changes = stage_changes(app, gid)
    assert len(changes) == before + 1
    assert [(c.from_version, c.to_stage) for c in changes[before:]] == [(version, "reflection")]
    assert group_of(app, gid).stage == "reflection"
    # Full page 409 too, on the board
    third = move(animator, gid, version, "planning", query_string={"board": "1"})
    assert third.status_code == 409 and "<html" in third.get_data(as_text=True)


@pytest.mark.parametrize("people", [4])
def test_concurrent_moves_are_never_lost_or_duplicated(app, people):
    """Several people press "move" at the same instant, in threads: one StageChange per accepted
    move, none for the refused ones, and the group's stage is the one of the last recorded change."""
    gid = group_id(app, "Zielone Podwórko")
    keys = ["coordinator@wilda", "animator@wilda"] * (people // 2)
    clients = [login(app, k) for k in keys]
    targets = ["reflection", "planning", "independent", "core_group"][:people]
    before = stage_changes(app, gid)
    for _round in range(3):
        version = group_of(app, gid).version
        barrier = threading.Barrier(people)
        results = [None] * people

        def worker(i):
            barrier.wait()
            results[i] = move(clients[i], gid, version, targets[i], note=f"Ruch {i}").status_code

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(people)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        wins = [i for i, s in enumerate(results) if s == 303]
        assert len(wins) == 1, results
        assert sorted(results) == [303] + [409] * (people - 1), results
        g = group_of(app, gid)
        assert g.version == version + 1 and g.stage == targets[wins[0]]
        # next round: other stages, none of them the one the group is at now
        targets = [s for s in STAGE_ORDER if s != g.stage][_round:_round + people]
        targets += [s for s in STAGE_ORDER if s != g.stage and s not in targets][:people - len(targets)]
    changes = stage_changes(app, gid)
    new = changes[len(before):]
    assert len(new) == 3
    versions = [c.from_version for c in changes]
    assert len(versions) == len(set(versions))  # unique (group, from_version): never duplicated
    assert new[-1].to_stage == group_of(app, gid).stage  # never lost: the stage is the last change
    for older, newer in zip(new, new[1:]):
        assert newer.from_stage == older.to_stage and newer.from_version == older.from_version + 1


def test_the_database_refuses_a_second_move_from_the_same_version(app_ctx, world):
    """Past the view's check, the database itself keeps one move per version: the UPDATE ... WHERE
    version = v of a second session finds no row, and the unique (group_id, from_version) refuses a
    second StageChange."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    gid = db.session.scalar(select(Group.id).where(Group.name == "Zielone Podwórko"))
    other = Session(db.engine)
    try:
        mine, theirs = db.session.get(Group, gid), other.get(Group, gid)
        version = mine.version
        assert theirs.version == version
        q.move_stage(mine, "reflection", "Pierwszy", None, version)
        db.session.commit()
        theirs.stage = "planning"
        other.add(StageChange(group_id=gid, from_stage="action", to_stage="planning", from_version=version,
                              note="Drugi", user_id=None))
        with pytest.raises((StaleDataError, IntegrityError)):
            other.commit()
        other.rollback()
        db.session.add(StageChange(group_id=gid, from_stage="action", to_stage="planning", from_version=version,
                                   note="Duplikat", user_id=None))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    finally:
        other.close()
    rows = db.session.scalars(select(StageChange).where(StageChange.group_id == gid,
                                                        StageChange.from_version == version)).all()
    assert [(r.to_stage, r.note) for r in rows] == [("reflection", "Pierwszy")]
    assert db.session.get(Group, gid).stage == "reflection"


def test_the_same_move_sent_twice_is_recorded_once(app, client, auth):
    """A double tap or a retry on a bad connection: the second copy is not a conflict with oneself."""
    auth.login("animator@wilda")
    gid = group_id(app, "Zielone Podwórko")
    v = group_of(app, gid).version
    before = len(stage_changes(app, gid))
    assert move(client, gid, v, "reflection", note="Podsumowanie sezonu.").status_code == 303
    again = move(client, gid, v, "reflection", note="Podsumowanie sezonu.", headers=HX)
    assert again.status_code == 200 and "Etap: Podsumowanie" in again.get_data(as_text=True)
    board = move(client, gid, v, "reflection", note="Podsumowanie sezonu.", headers=HX, query_string={"board": "1"})
    assert board.status_code == 200 and board.headers["HX-Reswap"] == "none"
    assert len(stage_changes(app, gid)) == before + 1 and group_of(app, gid).version == v + 1
    # the same person, but another move from the old version: that is a conflict
    assert move(client, gid, v, "planning", note="Inny ruch.").status_code == 409


def test_stale_version_from_an_old_form_is_refused(app, client, auth):
    auth.login("coordinator@wilda")
    gid = group_id(app, "Zielone Podwórko")
    v = group_of(app, gid).version
    assert client.post(f"/groups/{gid}", data=details_data(app, gid, matter="zmiana")).status_code == 303
    r = move(client, gid, v, "reflection", headers=HX)
    assert r.status_code == 409 and "Etap: Działanie" in r.get_data(as_text=True)


# --- members --------------------------------------------------------------------------------------------

def test_member_search_finds_residents_of_the_groups_osiedle(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    candidate = residents_of(app, "wilda", exclude_group=gid)[0]
    query = candidate.first_name.lower().replace("ł", "l") + " " + candidate.last_name[:3]
    r = client.get(f"/groups/{gid}/member-search", query_string={"q": query}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.lstrip().startswith('<div id="member-results"')
    assert f'name="resident_id" value="{candidate.id}"' in body
    assert_fragment(body)
    # current members are not offered again
    with app.app_context():
        member = q.current_members(gid)[0].resident
    r = client.get(f"/groups/{gid}/member-search", query_string={"q": member.first_name + " " + member.last_name},
                   headers=HX)
    assert f'value="{member.id}"' not in r.get_data(as_text=True)
    # without htmx: the whole page, with the results in place
    full = client.get(f"/groups/{gid}/member-search", query_string={"q": query}).get_data(as_text=True)
    assert "<html" in full and f'name="resident_id" value="{candidate.id}"' in full
    assert client.get(f"/groups/{gid}/member-search", query_string={"q": ""}, headers=HX).status_code == 200


def test_member_search_never_reaches_another_centre(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    wilda_names = {(r.first_name, r.last_name) for r in residents_of(app, "wilda", adults=False)}
    rataje = [r for r in residents_of(app, "rataje", adults=False) if (r.first_name, r.last_name) not in wilda_names]
    for r in rataje[:5]:
        body = client.get(f"/groups/{gid}/member-search", query_string={"q": f"{r.first_name} {r.last_name}"},
                          headers=HX).get_data(as_text=True)
        assert f'value="{r.id}"' not in body


def test_add_three_members_page_and_fragment(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Potańcówka na Rynku Wildeckim")
    people = residents_of(app, "wilda", exclude_group=gid)[:3]
    r = client.post(f"/groups/{gid}/members", data={"resident_id": str(people[0].id), "role": "leader"})
    assert r.status_code == 303 and r.headers["Location"] == f"/groups/{gid}#members"
    for person in people[1:]:
        r = client.post(f"/groups/{gid}/members", data={"resident_id": str(person.id), "role": "member"}, headers=HX)
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and r.headers["HX-Trigger"] == "group-changed"
        assert body.lstrip().startswith('<section id="members"') and "dołącza do grupy." in body
        assert 'hx-swap-oob="innerHTML:#status"' in body and "autofocus" in body
        assert_fragment(body)
        assert len(r.data) <= 8000
    with app.app_context():
        current = {m.resident_id: m.role for m in q.current_members(gid)}
        assert {p.id for p in people} <= set(current) and current[people[0].id] == "leader"
        assert db.session.get(Resident, people[0].id).rung == "leader"  # the ladder follows
        audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "group_member_added")).all()
        assert len(audits) == 3 and all(people[0].last_name not in (a.detail or "") for a in audits)
    body = client.get(f"/groups/{gid}").get_data(as_text=True)
    assert "Co najmniej 3 dorosłe osoby" in body


def test_add_member_errors(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    r = client.post(f"/groups/{gid}/members", data={"role": "member"})
    assert r.status_code == 422 and "Wyszukaj osobę i wybierz ją z listy." in r.get_data(as_text=True)
    with app.app_context():
        member_id = q.current_members(gid)[0].resident_id
    r = client.post(f"/groups/{gid}/members", data={"resident_id": str(member_id), "role": "member"}, headers=HX)
    assert r.status_code == 422 and "Ta osoba już jest w grupie." in r.get_data(as_text=True)
    assert_fragment(r.get_data(as_text=True))
    outsider = residents_of(app, "rataje")[0]
    r = client.post(f"/groups/{gid}/members", data={"resident_id": str(outsider.id), "role": "member"})
    assert r.status_code == 422 and "grupa przyjmuje mieszkańców swojego osiedla" in r.get_data(as_text=True)
    with app.app_context():
        assert not q.is_member(gid, outsider.id)


def test_role_change_keeps_leadership_history_and_leave(app, client, auth):
    auth.login("coordinator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    with app.app_context():
        members = q.current_members(gid)
        leader = next(m for m in members if m.role == "leader")
        other = next(m for m in members if m.role == "member")
        # make the periods older than today, so that a change of role is a new period
        for m in (leader, other):
            m.joined_on = date.today() - timedelta(days=100)
        db.session.commit()
        leader_id, other_id, other_resident = leader.id, other.id, other.resident_id
        leaders_before = q.health(gid).leaders_ever
    form = client.get(f"/groups/{gid}/members/{other_id}", headers=HX).get_data(as_text=True)
    assert form.lstrip().startswith(f'<form id="member-form-{other_id}"') and "Odchodzi z grupy" in form
    assert "<html" in client.get(f"/groups/{gid}/members/{other_id}").get_data(as_text=True)
    r = client.post(f"/groups/{gid}/members/{other_id}", data={"role": "leader"}, headers=HX)
    assert r.status_code == 200 and "Rola zmieniona." in r.get_data(as_text=True)
    r = client.post(f"/groups/{gid}/members/{leader_id}", data={"role": "member"})
    assert r.status_code == 303
    with app.app_context():
        periods = db.session.scalars(select(Membership).where(Membership.resident_id == other_resident,
                                                              Membership.group_id == gid).order_by(Membership.id)).all()
        assert [(p.role, p.left_on) for p in periods] == [("member", date.today()), ("leader", None)]
        h = q.health(gid)
        assert h.leaders_ever == max(leaders_before, 1) + 1 and h.leadership_rotates
        new_period = periods[-1].id
    page = client.get(f"/groups/{gid}").get_data(as_text=True)
    assert "zmienia rolę" in page
    # an invalid role: the form alone comes back, in place
    r = client.post(f"/groups/{gid}/members/{new_period}", data={"role": "boss"}, headers=HX)
    assert r.status_code == 422 and r.headers["HX-Retarget"] == f"#member-form-{new_period}"
    # leaving
    r = client.post(f"/groups/{gid}/members/{new_period}/leave", headers=HX)
    assert r.status_code == 200 and "nie jest już w grupie." in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Membership, new_period).left_on == date.today()
        assert not q.is_member(gid, other_resident)
    assert client.post(f"/groups/{gid}/members/{new_period}/leave").status_code == 404  # already left
    assert "odchodzi z grupy" in client.get(f"/groups/{gid}").get_data(as_text=True)


def test_membership_of_another_group_is_not_found(app, client, auth):
    auth.login("coordinator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    other = group_id(app, "Zielone Podwórko")
    with app.app_context():
        foreign_membership = q.current_members(other)[0].id
        foreign_goal = db.session.scalar(select(Goal.id).where(Goal.group_id == other))
    assert client.get(f"/groups/{gid}/members/{foreign_membership}").status_code == 404
    assert client.post(f"/groups/{gid}/members/{foreign_membership}/leave").status_code == 404
    assert client.post(f"/groups/{gid}/goals/{foreign_goal}", data={"status": "done"}).status_code == 404


# --- goals -------------------------------------------------------------------------------------------------

def test_goals_add_and_change_status(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Sąsiedzka Biblioteczka")
    r = client.post(f"/groups/{gid}/goals", data={"title": ""})
    assert r.status_code == 422 and "Napisz, co grupa chce osiągnąć." in r.get_data(as_text=True)
    r = client.post(f"/groups/{gid}/goals", data={"title": "x", "due_on": "jutro"}, headers=HX)
    assert r.status_code == 422 and "Podaj datę (dzień, miesiąc, rok)." in r.get_data(as_text=True)
    r = client.post(f"/groups/{gid}/goals", data={"title": "Regał w kawiarni", "due_on": "2027-03-01"})
    assert r.status_code == 303
    r = client.post(f"/groups/{gid}/goals", data={"title": "Drugi regał"}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.lstrip().startswith('<section id="goals"') and "Cel dodany." in body
    assert "Regał w kawiarni" in body and "01.03.2027" in body
    with app.app_context():
        goal = db.session.scalar(select(Goal).where(Goal.title == "Regał w kawiarni"))
    r = client.post(f"/groups/{gid}/goals/{goal.id}", data={"status": "done", "version": "1"}, headers=HX)
    assert r.status_code == 200 and "Status celu zapisany." in r.get_data(as_text=True)
    assert client.post(f"/groups/{gid}/goals/{goal.id}", data={"status": "done", "version": "1"},
                       headers=HX).status_code == 200  # the same tap again: already saved
    r = client.post(f"/groups/{gid}/goals/{goal.id}", data={"status": "in_progress", "version": "2"})
    assert r.status_code == 303
    r = client.post(f"/groups/{gid}/goals/{goal.id}", data={"status": "maybe", "version": "3"})
    assert r.status_code == 422
    # A change chosen on a page older than the last change: 409, the choice kept, nothing written.
    r = client.post(f"/groups/{gid}/goals/{goal.id}", data={"status": "dropped", "version": "2"}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and "Ktoś inny zmienił ten cel" in body and "„w toku”" in body
    assert f'<option value="dropped" selected>' in body and 'name="version" value="3"' in body
    with app.app_context():
        assert db.session.get(Goal, goal.id).status == "in_progress"


# --- scope -------------------------------------------------------------------------------------------------

def test_animator_of_wilda_cannot_see_edit_or_find_rataje_groups(app, client, auth):
    auth.login("animator@wilda")
    rataje = group_id(app, "Ogród Społeczny przy Os. Piastowskim")
    board = client.get("/groups/board?status=all").get_data(as_text=True)
    listing = client.get("/groups?status=all").get_data(as_text=True)
    for body in (board, listing):
        assert "Ogród Społeczny" not in body and "Ratajskie Potańcówki" not in body
    version = group_of(app, rataje).version
    for path in ("", "/edit", "/stage", "/health", "/timeline", "/member-search?q=a"):
        assert client.get(f"/groups/{rataje}{path}").status_code == 404, path
    assert move(client, rataje, version, "action").status_code == 404
    assert client.post(f"/groups/{rataje}", data=details_data(app, rataje, name="Przejęta")).status_code == 404
    assert client.post(f"/groups/{rataje}/goals", data={"title": "x"}).status_code == 404
    assert group_of(app, rataje).name == "Ogród Społeczny przy Os. Piastowskim"
    # filtering by the other centre's osiedle or animator finds nothing either
    hood = hood_id(app, "rataje")
    assert "Ogród Społeczny" not in client.get(f"/groups?neighbourhood={hood}&status=all").get_data(as_text=True)


def test_animator_sees_only_groups_of_their_osiedla(app, client, auth):
    """In the city-wide centre an animator works in some osiedla: groups elsewhere are out of reach."""
    with app.app_context():
        animator = db.session.get(User, app.world.users["animator@regranting"])
        own = set(animator.neighbourhood_ids)
        outside = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.id.not_in(own)).limit(1))
        centre = app.world.centres["regranting"]
        g = Group(centre_id=centre, neighbourhood_id=outside, name="Grupa spoza osiedli animatora", version=1)
        db.session.add(g)
        db.session.commit()
        gid = g.id
    auth.login("animator@regranting")
    assert "Grupa spoza osiedli animatora" not in client.get("/groups?status=all").get_data(as_text=True)
    assert client.get(f"/groups/{gid}").status_code == 404
    client.post("/logout")
    auth.login("coordinator@regranting")
    assert client.get(f"/groups/{gid}").status_code == 200


@pytest.mark.parametrize("key", ["admin", "city", "reviewer@regranting"])
def test_roles_without_personal_data_get_403(app, client, auth, key):
    auth.login(key)
    gid = group_id(app, "Zielone Podwórko")
    for path in ("/groups", "/groups/board", f"/groups/{gid}"):
        assert client.get(path).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "access_denied")) == 3


def test_htmx_request_after_the_session_expired_redirects_to_login(client, app):
    gid = group_id(app, "Zielone Podwórko")
    r = client.post(f"/groups/{gid}/stage", data={}, headers=HX)
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")


# --- health signals, flags and the chart, in SQL -------------------------------------------------------------

def _meeting(gid, centre_id, hood_id, days_ago, present=(), animator_id=None):
    m = Meeting(centre_id=centre_id, neighbourhood_id=hood_id, group_id=gid, kind="group", title="Spotkanie",
                starts_at=utcnow() - timedelta(days=days_ago))
    db.session.add(m)
    db.session.flush()
    for rid in present:
        db.session.add(Attendance(meeting_id=m.id, resident_id=rid))
    if animator_id:
        db.session.execute(meeting_animator.insert().values(meeting_id=m.id, user_id=animator_id))
    return m


def test_health_signals_are_computed_in_sql(app_ctx, world):
    people = [r.id for r in db.session.scalars(
        select(Resident).where(Resident.centre_id == world.centres["wilda"]).order_by(Resident.id).limit(6))]
    wilda = world.user("coordinator@wilda")
    hood = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == "wilda"))
    g = Group(centre_id=wilda.centre_id, neighbourhood_id=hood, name="Test", started_on=date.today() - timedelta(days=90))
    db.session.add(g)
    db.session.flush()
    today = date.today()
    roles = ["leader", "contact", "member", "member", "member"]
    for rid, role in zip(people, roles):
        db.session.add(Membership(group_id=g.id, resident_id=rid, role=role, joined_on=today - timedelta(days=80)))
    # a former leader (rotation) and someone who left
    db.session.add(Membership(group_id=g.id, resident_id=people[5], role="leader", joined_on=today - timedelta(days=80),
                              left_on=today - timedelta(days=40)))
    animator = world.users["animator@wilda"]
    m_old = _meeting(g.id, g.centre_id, hood, 90, present=people[:5], animator_id=animator)
    _meeting(g.id, g.centre_id, hood, 50, present=people[:2], animator_id=animator)
    _meeting(g.id, g.centre_id, hood, 12, present=people[1:3] + [people[5]])  # people[5] left: not a member now
    _meeting(g.id, g.centre_id, hood, -7)  # planned: not a meeting yet
    for status, due, meeting in (("done", None, m_old), ("done", None, None), ("dropped", None, None),
                                 ("promised", today - timedelta(days=3), None), ("promised", today + timedelta(days=9), None)):
        db.session.add(Commitment(centre_id=g.centre_id, neighbourhood_id=hood, resident_id=people[0], what="x",
                                  status=status, due_on=due, group_id=None if meeting else g.id,
                                  meeting_id=meeting.id if meeting else None))
    db.session.commit()

    gid = g.id
    with counting_statements() as count:
        h = q.health(gid)
    assert count[0] == 1
    assert h.days_since_meeting == 12
    assert (h.active_members, h.members) == (3, 5)  # came within 60 days: people 0, 1, 2
    assert (h.kept, h.dropped, h.overdue) == (2, 1, 1) and h.kept_share == 0.5
    assert (h.recent_meetings, h.without_animator) == (3, 1) and abs(h.independence_share - 1 / 3) < 1e-9
    assert h.role_holders == 2 and h.leaders_ever == 2 and h.leaders_now == 1 and h.leadership_rotates
    row = q.flag(q.GroupRow(g, "", None, h.last_meeting_at, h.active_members, h.members), h.now)
    assert row.stalled == [] and not row.at_risk


def test_flags_stalled_and_at_risk():
    now = utcnow()
    g = Group(name="x", status="active", stage="planning", started_on=(now - timedelta(days=200)).date(),
              stage_changed_at=now - timedelta(days=121))
    row = q.flag(q.GroupRow(g, "", None, now - timedelta(days=31), 2, 5), now)
    assert row.stalled == [("no_meeting", 31), ("stage_unchanged", 121)] and row.at_risk
    row = q.flag(q.GroupRow(g, "", None, now - timedelta(days=30), 3, 5), now)
    assert row.stalled == [("stage_unchanged", 121)] and not row.at_risk
    g.stage = "independent"  # independence is the aim, not a stall
    assert q.flag(q.GroupRow(g, "", None, now, 3, 3), now).stalled == []
    g.status = "ended"
    assert not q.flag(q.GroupRow(g, "", None, None, 0, 0), now).flagged


def test_stage_chart_counts_groups_per_stage_month_by_month(app_ctx, world):
    coordinator = world.user("coordinator@rataje")
    filters = q.GroupFilters(status="all")
    columns, _ = q.board(coordinator, filters)
    rows = [r for col in columns.values() for r in col]
    months = q.stage_chart(coordinator, filters, rows, date.today())
    assert len(months) == 12 and months[-1].month == date.today().replace(day=1)
    now_counts = {s: len(col) for s, col in columns.items()}
    assert months[-1].counts == now_counts  # this month: where every group is now
    assert [m.total for m in months] == sorted(m.total for m in months)  # groups only join the picture


def test_pages_cost_a_constant_number_of_statements(app, client, auth):
    """The board, the list and a group's page: the same statements with 5 or 30 members and meetings."""
    auth.login("coordinator@wilda")
    gid = group_id(app, "Zielone Podwórko")
    paths = ["/groups/board", "/groups", f"/groups/{gid}", f"/groups/{gid}/health", f"/groups/{gid}/timeline"]

    def measure():
        counts = {}
        for path in paths:
            client.get(path)
            with counting_statements(app) as n:
                assert client.get(path).status_code == 200
            counts[path] = n[0]
        return counts

    before = measure()
    people = residents_of(app, "wilda", adults=False, exclude_group=gid)[:25]
    with app.app_context():
        g = db.session.get(Group, gid)
        for p in people:
            db.session.add(Membership(group_id=gid, resident_id=p.id, role="member", joined_on=date.today()))
        for k in range(20):
            _meeting(gid, g.centre_id, g.neighbourhood_id, k + 1, present=[p.id for p in people[:10]])
        for k in range(10):
            db.session.add(Group(centre_id=g.centre_id, neighbourhood_id=g.neighbourhood_id, name=f"Nowa {k}"))
        db.session.commit()
    after = measure()
    assert before == after, (before, after)
    assert max(after.values()) <= 12, after


def test_fragments_stay_small(app, client, auth):
    auth.login("coordinator@wilda")
    gid = group_id(app, "Klub Seniora przy Kościelnej")
    for path in (f"/groups/{gid}/health", f"/groups/{gid}/timeline", f"/groups/{gid}/edit", f"/groups/{gid}/stage",
                 f"/groups/{gid}/member-search?q=a"):
        r = client.get(path, headers=HX)
        assert r.status_code == 200 and len(r.data) <= 8000, (path, len(r.data))


# --- the resident's page shows their groups --------------------------------------------------------------

def test_resident_timeline_shows_group_memberships(app, client, auth):
    auth.login("animator@wilda")
    gid = group_id(app, "Zielone Podwórko")
    with app.app_context():
        resident_id = q.current_members(gid)[0].resident_id
        entries = [e for e in resident_timeline(resident_id) if e.kind == "membership" and e.title == "Zielone Podwórko"]
    assert entries and entries[0].link == ("groups.show", {"group_id": gid})
    page = client.get(f"/residents/{resident_id}").get_data(as_text=True)
    assert "Zielone Podwórko" in page and f"/groups/{gid}" in page


def test_membership_events_read_role_periods():
    from models import Membership as M

    rows = [(M(id=1, resident_id=7, role="leader", joined_on=date(2026, 1, 1), left_on=date(2026, 3, 1)),),
            (M(id=2, resident_id=7, role="member", joined_on=date(2026, 3, 1), left_on=None),),
            (M(id=3, resident_id=8, role="member", joined_on=date(2026, 2, 1), left_on=date(2026, 4, 1)),)]
    events = [(day, kind, extra) for day, kind, _row, extra in q.membership_events(rows)]
    assert events == [
        (date(2026, 3, 1), "role", {"from_role": "leader", "role": "member"}),
        (date(2026, 1, 1), "joined", {"role": "leader"}),
        (date(2026, 4, 1), "left", {"role": "member"}),
        (date(2026, 2, 1), "joined", {"role": "member"}),
    ]


def test_stored_markup_comes_back_escaped(app, client, auth):
    """A group name, a note and a goal with markup are shown as text on every page and fragment."""
    auth.login("coordinator@wilda")
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    r = client.post("/groups/new", data=new_group_data(app, name="Grupa " + payload, note=payload))
    gid = int(r.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/groups/{gid}/goals", data={"title": payload})
    move(client, gid, group_of(app, gid).version, "core_group", note=payload)
    bodies = [client.get(p).get_data(as_text=True) for p in ("/groups/board", "/groups", f"/groups/{gid}")]
    bodies.append(client.get(f"/groups/{gid}/timeline", headers=HX).get_data(as_text=True))
    bodies.append(client.get(f"/groups/{gid}/stage?board=1").get_data(as_text=True))
    for body in bodies:
        assert "<script>alert(1)" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
