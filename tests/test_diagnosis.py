"""The local diagnosis: the diagnosis of an osiedle (by tag, how often, who works on what, gaps),
adding a finding (from a contact or a meeting in one step), one finding's page and every htmx action
on it, the XLSX export, scoping, validation in Polish, the statement budget and the demo data."""
from contextlib import contextmanager
from datetime import date, timedelta
from io import BytesIO

import pytest
from sqlalchemy import event, func, select

from models import (AuditEvent, Finding, Group, Interaction, Meeting, Neighbourhood, Partner, Resident, db,
                    finding_group, finding_interaction, finding_meeting)

HX = {"HX-Request": "true"}
FRAGMENT_BUDGET = 8000
STATEMENT_BUDGET = 12


# --- helpers (test_partners.py and test_diagnosis_browser.py use them too) ---------------------------

@contextmanager
def statements(app):
    """Count the SQL statements the block sends (as make bench does)."""
    with app.app_context():
        engine = db.engine
    sent = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def hood_of(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == slug))


def audits(app, action) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def interaction_of(app, centre: str, n: int = 0) -> int:
    """A logged contact with a resident of the centre's osiedle."""
    with app.app_context():
        return db.session.scalars(
            select(Interaction.id).join(Resident, Resident.id == Interaction.resident_id)
            .where(Resident.centre_id == app.world.centres[centre]).order_by(Interaction.id)).all()[n]


def meeting_of(app, centre: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Meeting.id).where(Meeting.centre_id == app.world.centres[centre])
                                 .order_by(Meeting.id).limit(1))


def group_of(app, centre: str, n: int = 0) -> int:
    with app.app_context():
        return db.session.scalars(select(Group.id).where(Group.centre_id == app.world.centres[centre],
                                                         Group.status != "ended").order_by(Group.id)).all()[n]


def make_finding(app, centre="wilda", kind="need", title="Brak ławek przy Rynku Testowym", tags="testowe,ławki",
                 interactions=(), meetings=(), groups=()) -> int:
    with app.app_context():
        f = Finding(centre_id=app.world.centres[centre], neighbourhood_id=hood_of(app, centre), kind=kind, title=title,
                    source="conversation", found_on=date.today(), tags=tags,
                    recorded_by_id=app.world.users[f"animator@{centre}"])
        db.session.add(f)
        db.session.flush()
        for iid in interactions:
            db.session.execute(finding_interaction.insert().values(finding_id=f.id, interaction_id=iid))
        for mid in meetings:
            db.session.execute(finding_meeting.insert().values(finding_id=f.id, meeting_id=mid))
        for gid in groups:
            db.session.execute(finding_group.insert().values(finding_id=f.id, group_id=gid))
        db.session.commit()
        return f.id


def linked_groups(app, finding_id) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(finding_group.c.group_id).where(finding_group.c.finding_id == finding_id)))


def gaps_section(html: str) -> str:
    start = html.index('id="gaps"')
    return html[start:html.index("</section>", start)]


# --- access and scope ------------------------------------------------------------------------------

def test_navigation_and_the_address_without_an_osiedle(client, auth):
    auth.login("animator@wilda")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/diagnosis"' in page and 'href="/partners"' in page
    r = client.get("/diagnosis")
    assert r.status_code == 302 and r.headers["Location"].endswith("/diagnosis/wilda")
    assert client.get("/diagnosis?neighbourhood=rataje").headers["Location"].endswith("/diagnosis/wilda")


def test_the_regranting_coordinator_switches_between_osiedla(client, auth):
    auth.login("coordinator@regranting")
    page = client.get(client.get("/diagnosis").headers["Location"]).get_data(as_text=True)
    assert 'id="hood-switch"' in page
    r = client.get("/diagnosis?neighbourhood=rataje")
    assert r.headers["Location"].endswith("/diagnosis/rataje")
    assert client.get("/diagnosis/rataje").status_code == 200


@pytest.mark.parametrize("role", ["admin", "city", "reviewer@regranting"])
def test_other_roles_may_not_open_the_diagnosis(client, auth, app, role):
    fid = make_finding(app)
    auth.login(role)
    for path in ("/diagnosis", "/diagnosis/wilda", "/diagnosis/wilda/export.xlsx", "/diagnosis/findings/new",
                 f"/diagnosis/findings/{fid}"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/diagnosis/findings/{fid}/groups", data={"group_id": "1"}).status_code == 403
    assert audits(app, "access_denied")


@pytest.mark.parametrize("who", ["animator@wilda", "coordinator@wilda"])
def test_another_osiedle_and_another_centres_findings_are_not_found(client, auth, app, who):
    foreign = make_finding(app, "rataje", title="Potrzeba z Ratajów")
    foreign_interaction, foreign_meeting = interaction_of(app, "rataje"), meeting_of(app, "rataje")
    own = make_finding(app)
    auth.login(who)
    for path in ("/diagnosis/rataje", "/diagnosis/rataje/export.xlsx", "/diagnosis/nie-ma-takiego",
                 f"/diagnosis/findings/{foreign}", f"/diagnosis/findings/{foreign}/edit",
                 f"/diagnosis/findings/new?interaction={foreign_interaction}",
                 f"/diagnosis/findings/new?meeting={foreign_meeting}"):
        assert client.get(path).status_code == 404, path
    for path, data in ((f"/diagnosis/findings/{foreign}", {"title": "x"}),
                       (f"/diagnosis/findings/{foreign}/delete", {"confirm": "y"}),
                       (f"/diagnosis/findings/{foreign}/groups", {"group_id": group_of(app, "rataje")}),
                       (f"/diagnosis/findings/{own}/sources", {"interaction_id": foreign_interaction}),
                       (f"/diagnosis/findings/{own}/sources", {"meeting_id": foreign_meeting}),
                       (f"/diagnosis/findings/{own}/groups/{group_of(app, 'rataje')}/remove", {}),
                       (f"/diagnosis/findings/{own}/interactions/{foreign_interaction}/remove", {}),
                       ("/diagnosis/findings/new", {"interaction_id": foreign_interaction, "title": "x",
                                                    "kind": "need"})):
        assert client.post(path, data=data).status_code == 404, path
    page = client.get("/diagnosis/wilda").get_data(as_text=True)
    assert "Potrzeba z Ratajów" not in page


# --- the diagnosis of an osiedle -----------------------------------------------------------------------

def test_the_diagnosis_groups_by_tag_counts_mentions_and_shows_the_gaps(client, auth, app):
    i1, i2 = interaction_of(app, "wilda", 0), interaction_of(app, "wilda", 1)
    mid, gid = meeting_of(app, "wilda"), group_of(app, "wilda")
    with app.app_context():
        group_name = db.session.get(Group, gid).name
    gap = make_finding(app, title="Brak miejsca dla nastolatków", tags="nastolatki-test",
                       interactions=(i1, i2), meetings=(mid,))
    answered = make_finding(app, title="Ciemne przejście pod wiaduktem", tags="nastolatki-test", groups=(gid,))
    make_finding(app, kind="resource", title="Pan Zbyszek z warsztatem", tags="nastolatki-test")
    auth.login("animator@wilda")
    r = client.get("/diagnosis/wilda")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Diagnoza osiedla Wilda" in html
    gaps = gaps_section(html)
    assert "Brak miejsca dla nastolatków" in gaps and "×4" in gaps  # itself, two contacts, one meeting
    assert "Ciemne przejście pod wiaduktem" not in gaps
    tag = html[html.index("#nastolatki-test"):]
    tag = tag[:tag.index("</article>")]
    assert "Potrzeby (2)" in tag and "Zasoby (1)" in tag and "pojawiło się 6 razy" in tag and "luki: 1" in tag
    assert group_name in tag  # the group acting on the second need
    who = html[html.index('id="who-h"'):]
    assert group_name in who and "Ciemne przejście pod wiaduktem" in who[:who.index("</section>")]
    assert f'/diagnosis/findings/{gap}"' in html and f'/diagnosis/findings/{answered}"' in html
    # printable and downloadable
    assert "js-print" in html and "/diagnosis/wilda/export.xlsx" in html
    assert "/partners/network?neighbourhood=wilda" in html


def test_an_ended_group_no_longer_answers_a_need(client, auth, app):
    gid = group_of(app, "wilda")
    with app.app_context():
        db.session.get(Group, gid).status = "ended"
        db.session.commit()
    make_finding(app, title="Potrzeba po zakończonej grupie", groups=(gid,))
    auth.login("animator@wilda")
    assert "Potrzeba po zakończonej grupie" in gaps_section(client.get("/diagnosis/wilda").get_data(as_text=True))


def test_an_empty_diagnosis_says_where_to_start(client, auth, app):
    with app.app_context():
        for t in (finding_interaction, finding_meeting, finding_group):
            db.session.execute(t.delete())
        db.session.execute(Finding.__table__.delete())
        db.session.commit()
    auth.login("animator@wilda")
    html = client.get("/diagnosis/wilda").get_data(as_text=True)
    assert "Diagnoza tego osiedla jest jeszcze pusta" in html and "Nie ma jeszcze zapisanych potrzeb." in html


# --- adding a finding ------------------------------------------------------------------------------------

def test_from_a_contact_in_one_step(client, auth, app):
    iid = interaction_of(app, "wilda", 2)
    with app.app_context():
        i = db.session.get(Interaction, iid)
        i.concerns = "Nie ma gdzie spotkać się zimą"
        db.session.commit()
        day = i.occurred_at.date()
    auth.login("animator@wilda")
    r = client.get(f"/diagnosis/findings/new?interaction={iid}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'value="Nie ma gdzie spotkać się zimą"' in html
    assert f'name="interaction_id" type="hidden" value="{iid}"' in html
    assert "Z kontaktu:" in html
    r = client.post(f"/diagnosis/findings/new?interaction={iid}",
                    data={"kind": "need", "title": "Nie ma gdzie spotkać się zimą", "tags": "Seniorzy, miejsce spotkań",
                          "source": "conversation", "found_on": day.isoformat(), "interaction_id": iid,
                          "neighbourhood_id": hood_of(app, "rataje")})  # the osiedle comes from the contact
    assert r.status_code == 303
    fid = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        f = db.session.get(Finding, fid)
        assert (f.kind, f.source, f.tags, f.neighbourhood_id) == ("need", "conversation", "seniorzy,miejsce spotkań",
                                                                  hood_of(app, "wilda"))
        assert f.recorded_by_id == app.world.users["animator@wilda"] and f.centre_id == app.world.centres["wilda"]
        assert list(db.session.scalars(select(finding_interaction.c.interaction_id)
                                       .where(finding_interaction.c.finding_id == fid))) == [iid]
    event = audits(app, "finding_created")[-1]
    assert event.object_id == fid and event.detail_dict["interaction_id"] == iid
    assert "zimą" not in (event.detail or "")  # no content in the audit trail
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Zapisano w diagnozie: potrzeba." in page and "Luka: nikt jeszcze nie odpowiada" in page


def test_from_a_meeting_with_a_group_in_one_step(client, auth, app):
    mid, gid = meeting_of(app, "wilda"), group_of(app, "wilda")
    auth.login("animator@wilda")
    html = client.get(f"/diagnosis/findings/new?meeting={mid}").get_data(as_text=True)
    assert "Ze spotkania:" in html and 'name="meeting_id" type="hidden"' in html
    r = client.post("/diagnosis/findings/new", data={
        "kind": "idea", "title": "Kino plenerowe", "source": "meeting", "found_on": date.today().isoformat(),
        "meeting_id": mid, "group_id": gid})
    assert r.status_code == 303
    fid = int(r.headers["Location"].rsplit("/", 1)[1])
    assert linked_groups(app, fid) == {gid}
    with app.app_context():
        assert db.session.get(Finding, fid).neighbourhood_id == hood_of(app, "wilda")
        assert db.session.scalar(select(func.count()).select_from(finding_meeting)
                                 .where(finding_meeting.c.finding_id == fid)) == 1


def test_a_contact_that_came_up_again_is_counted_in(client, auth, app):
    fid = make_finding(app, title="Śmieci przy altanie testowej")
    iid = interaction_of(app, "wilda", 3)
    auth.login("animator@wilda")
    html = client.get(f"/diagnosis/findings/new?interaction={iid}").get_data(as_text=True)
    assert "A może to już jest w diagnozie?" in html and "Śmieci przy altanie testowej" in html
    r = client.post(f"/diagnosis/findings/{fid}/sources", data={"interaction_id": iid})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/diagnosis/findings/{fid}")
    page = client.get(f"/diagnosis/findings/{fid}").get_data(as_text=True)
    assert "pojawiło się 2 razy" in page
    # once is enough: the same contact is not offered again, and a second post changes nothing
    assert "Śmieci przy altanie testowej" not in client.get(f"/diagnosis/findings/new?interaction={iid}").get_data(
        as_text=True)
    client.post(f"/diagnosis/findings/{fid}/sources", data={"interaction_id": iid})
    assert len(audits(app, "finding_source_linked")) == 1


def test_validation_in_polish(client, auth, app):
    auth.login("animator@wilda")
    r = client.post("/diagnosis/findings/new", data={})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Napisz krótko, czego to dotyczy." in html and "Wybierz osiedle z listy." in html
    r = client.post("/diagnosis/findings/new", data={
        "kind": "wish", "title": "x", "source": "rumour", "neighbourhood_id": hood_of(app, "wilda"),
        "found_on": (date.today() + timedelta(days=3)).isoformat(), "group_id": group_of(app, "rataje"),
        "tags": ",".join(f"t{i}" for i in range(20)), "description": "PESEL 44051401359"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for message in ("Wybierz: potrzeba, zasób, problem czy pomysł.", "Wybierz źródło z listy.",
                    "Data nie może być z przyszłości.", "Wybierz grupę z listy.", "Najwyżej 12 tagów.",
                    "Notatka zawiera numer PESEL."):
        assert message in html, message
    assert "Not a valid choice" not in html
    # an osiedle the animator does not work in
    r = client.post("/diagnosis/findings/new", data={"kind": "need", "title": "x", "source": "survey",
                                                      "neighbourhood_id": hood_of(app, "rataje"),
                                                      "found_on": date.today().isoformat()})
    assert r.status_code == 422 and "Wybierz osiedle z listy." in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Finding).where(Finding.title == "x")) == 0


# --- one finding: its page and the htmx actions -------------------------------------------------------------

def test_the_finding_page(client, auth, app):
    iid, mid, gid = interaction_of(app, "wilda"), meeting_of(app, "wilda"), group_of(app, "wilda")
    fid = make_finding(app, title="Świetlica dla dzieci testowa", interactions=(iid,), meetings=(mid,))
    auth.login("coordinator@wilda")
    html = client.get(f"/diagnosis/findings/{fid}").get_data(as_text=True)
    assert "Świetlica dla dzieci testowa" in html and "pojawiło się 3 razy" in html
    assert f"/residents/" in html and f"/meetings/{mid}" in html
    assert "Połącz z grupą" in html and f'value="{gid}"' in html
    assert "Luka: nikt jeszcze nie odpowiada" in html


def test_linking_and_unlinking_a_group_full_page_and_htmx(client, auth, app):
    fid = make_finding(app, title="Potrzeba do połączenia")
    g1, g2 = group_of(app, "wilda", 0), group_of(app, "wilda", 1)
    auth.login("animator@wilda")
    r = client.post(f"/diagnosis/findings/{fid}/groups", data={"group_id": g1})
    assert r.status_code == 303 and linked_groups(app, fid) == {g1}
    assert "Potrzeba do połączenia" not in gaps_section(client.get("/diagnosis/wilda").get_data(as_text=True))
    r = client.post(f"/diagnosis/findings/{fid}/groups", data={"group_id": g2}, headers=HX)
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    html = r.get_data(as_text=True)
    assert "<html" not in html and 'id="groups"' in html and "Grupa połączona z wpisem." in html
    assert 'hx-swap-oob' in html and len(r.data) <= FRAGMENT_BUDGET
    assert linked_groups(app, fid) == {g1, g2}
    r = client.post(f"/diagnosis/findings/{fid}/groups/{g1}/remove", headers=HX)
    assert r.status_code == 200 and "Grupa odłączona od wpisu." in r.get_data(as_text=True)
    assert client.post(f"/diagnosis/findings/{fid}/groups/{g2}/remove").status_code == 303
    assert linked_groups(app, fid) == set()
    assert "Potrzeba do połączenia" in gaps_section(client.get("/diagnosis/wilda").get_data(as_text=True))
    assert [e.detail_dict["group_id"] for e in audits(app, "finding_group_linked")] == [g1, g2]
    assert len(audits(app, "finding_group_unlinked")) == 2
    # a group of another centre is not one of the choices: 422 in Polish, nothing linked
    r = client.post(f"/diagnosis/findings/{fid}/groups", data={"group_id": group_of(app, "rataje")}, headers=HX)
    assert r.status_code == 422 and "Wybierz grupę z listy." in r.get_data(as_text=True)
    assert linked_groups(app, fid) == set()


def test_sources_unlink_and_link_a_meeting_by_htmx(client, auth, app):
    iid, mid = interaction_of(app, "wilda"), meeting_of(app, "wilda")
    fid = make_finding(app, interactions=(iid,))
    auth.login("animator@wilda")
    r = client.post(f"/diagnosis/findings/{fid}/sources", data={"meeting_id": mid}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="sources"' in html and "pojawiło się 3 razy" in html
    assert len(r.data) <= FRAGMENT_BUDGET
    r = client.post(f"/diagnosis/findings/{fid}/interactions/{iid}/remove", headers=HX)
    assert r.status_code == 200 and "pojawiło się 2 razy" in r.get_data(as_text=True)
    assert client.post(f"/diagnosis/findings/{fid}/meetings/{mid}/remove").status_code == 303
    r = client.post(f"/diagnosis/findings/{fid}/sources", data={}, headers=HX)
    assert r.status_code == 422 and "Wskaż jeden kontakt albo jedno spotkanie." in r.get_data(as_text=True)


def test_editing_inline_and_a_stale_save_answers_409(client, auth, app):
    fid = make_finding(app, title="Stary tytuł")
    auth.login("animator@wilda")
    r = client.get(f"/diagnosis/findings/{fid}/edit", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and 'name="version"' in html and 'value="Stary tytuł"' in html
    assert client.get(f"/diagnosis/findings/{fid}/edit").get_data(as_text=True).startswith("<!doctype html>")
    data = {"kind": "problem", "title": "Nowy tytuł", "source": "walk", "found_on": date.today().isoformat(),
            "tags": "porządek", "neighbourhood_id": hood_of(app, "wilda"), "version": "1"}
    r = client.post(f"/diagnosis/findings/{fid}", data=data, headers=HX)
    assert r.status_code == 200 and "Zapisano." in r.get_data(as_text=True) and "Nowy tytuł" in r.get_data(as_text=True)
    with app.app_context():
        f = db.session.get(Finding, fid)
        assert (f.kind, f.title, f.source, f.tags, f.version) == ("problem", "Nowy tytuł", "walk", "porządek", 2)
    assert audits(app, "finding_updated")[-1].detail_dict["fields"] == ["kind", "source", "tags", "title"]
    stale = {**data, "title": "Mój tytuł z telefonu", "version": "1"}
    r = client.post(f"/diagnosis/findings/{fid}", data=stale, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "Ktoś inny zapisał zmiany tego wpisu" in html
    assert 'value="Mój tytuł z telefonu"' in html and "Nowy tytuł" in html and 'value="2"' in html
    r = client.post(f"/diagnosis/findings/{fid}", data={**data, "title": ""})
    assert r.status_code == 422 and "Napisz krótko, czego to dotyczy." in r.get_data(as_text=True)
    assert client.post(f"/diagnosis/findings/{fid}", data={**data, "version": "2"}).status_code == 303


def test_deleting_needs_a_yes(client, auth, app):
    fid = make_finding(app, interactions=(interaction_of(app, "wilda"),), groups=(group_of(app, "wilda"),))
    auth.login("animator@wilda")
    r = client.post(f"/diagnosis/findings/{fid}/delete", data={})
    assert r.status_code == 422 and "Zaznacz, że na pewno chcesz usunąć." in r.get_data(as_text=True)
    r = client.post(f"/diagnosis/findings/{fid}/delete", data={"confirm": "y"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/diagnosis/wilda")
    with app.app_context():
        assert db.session.get(Finding, fid) is None
        assert db.session.scalar(select(func.count()).select_from(finding_interaction)
                                 .where(finding_interaction.c.finding_id == fid)) == 0
    assert audits(app, "finding_deleted")[-1].object_id == fid


# --- the spreadsheet ---------------------------------------------------------------------------------------

def test_xlsx_export_reads_back_and_never_runs_a_formula(client, auth, app):
    from openpyxl import load_workbook

    evil = '=HYPERLINK("http://example.invalid","kliknij")'
    make_finding(app, title=evil, tags="@import,-minus", interactions=(interaction_of(app, "wilda"),))
    make_finding(app, title="Ławki przy szkole", tags="+plus")
    auth.login("animator@wilda")
    r = client.get("/diagnosis/wilda/export.xlsx")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in r.headers["Content-Disposition"] and "diagnoza-wilda-" in r.headers["Content-Disposition"]
    wb = load_workbook(BytesIO(r.data))
    assert wb.sheetnames == ["Diagnoza", "Tagi", "Luki", "Kto na co odpowiada"]
    rows = list(wb["Diagnoza"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Rodzaj", "Co", "Opis")
    row = next(r for r in rows if r[1] and "HYPERLINK" in r[1])
    # text cells are string cells: exactly what was typed, no apostrophe (that one is for CSV only)
    assert row[1] == evil and row[3] == "@import, -minus" and row[6] == 2 and row[10] == "tak"
    for ws in wb.worksheets:
        for cells in ws.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    tags = {r[0]: r for r in wb["Tagi"].iter_rows(values_only=True)}
    assert "+plus" in tags and tags["+plus"][1] == 1  # one need
    assert any(r[0] == evil for r in wb["Luki"].iter_rows(values_only=True))
    event = audits(app, "diagnosis_exported")[-1]
    assert event.object_type == "neighbourhood" and event.object_id == hood_of(app, "wilda")
    assert event.detail_dict["format"] == "xlsx" and event.detail_dict["rows"] >= 2


# --- links from other areas ----------------------------------------------------------------------------------

def test_the_resident_timeline_and_the_meeting_page_link_here(client, auth, app):
    iid, mid = interaction_of(app, "wilda"), meeting_of(app, "wilda")
    with app.app_context():
        rid = db.session.get(Interaction, iid).resident_id
    auth.login("animator@wilda")
    assert f'/diagnosis/findings/new?interaction={iid}"' in client.get(f"/residents/{rid}").get_data(as_text=True)
    assert f'/diagnosis/findings/new?meeting={mid}"' in client.get(f"/meetings/{mid}").get_data(as_text=True)


# --- cost ---------------------------------------------------------------------------------------------------

def test_pages_cost_a_constant_number_of_statements(client, auth, app):
    fid = make_finding(app)
    auth.login("animator@wilda")
    iid = interaction_of(app, "wilda")
    paths = ["/diagnosis/wilda", f"/diagnosis/findings/{fid}", f"/diagnosis/findings/new?interaction={iid}",
             "/diagnosis/wilda/export.xlsx"]

    def measure():
        counts = {}
        for path in paths:
            client.get(path)
            with statements(app) as sent:
                assert client.get(path).status_code == 200, path
            counts[path] = len(sent)
        return counts

    before = measure()
    ids = [interaction_of(app, "wilda", n) for n in range(6)]
    groups = [group_of(app, "wilda", n) for n in range(2)]
    for k in range(25):
        make_finding(app, title=f"Potrzeba {k}", tags=f"t{k % 4},wspólny", interactions=ids[: k % 6],
                     meetings=(meeting_of(app, "wilda"),), groups=groups[: k % 3])
    with app.app_context():
        db.session.execute(finding_interaction.insert().values(finding_id=fid, interaction_id=ids[1]))
        db.session.execute(finding_group.insert().values(finding_id=fid, group_id=groups[0]))
        db.session.commit()
    after = measure()
    print("statements", after)
    assert before == after, (before, after)
    assert max(after.values()) <= STATEMENT_BUDGET, after


# --- demo data --------------------------------------------------------------------------------------------

def test_the_demo_has_a_diagnosis_and_partners_for_every_centre(app_ctx, world):
    for centre in ("wilda", "rataje"):
        cid = world.centres[centre]
        findings = db.session.scalars(select(Finding).where(Finding.centre_id == cid)).all()
        assert 12 <= len(findings) <= 20
        assert {f.kind for f in findings} == {"need", "resource", "problem", "idea"}
        assert all(f.tags for f in findings)
        # the contacts a finding is linked to are of its own osiedle
        rows = db.session.execute(
            select(Finding.neighbourhood_id, Resident.neighbourhood_id)
            .join(finding_interaction, finding_interaction.c.finding_id == Finding.id)
            .join(Interaction, Interaction.id == finding_interaction.c.interaction_id)
            .join(Resident, Resident.id == Interaction.resident_id).where(Finding.centre_id == cid)).all()
        assert rows and all(a == b for a, b in rows)
        partners = db.session.scalars(select(Partner).where(Partner.centre_id == cid)).all()
        assert 6 <= len(partners) <= 10 and any(p.kind == "council" for p in partners)
    patrons = db.session.scalars(select(Partner).where(Partner.centre_id == world.centres["regranting"])).all()
    assert patrons and all(p.neighbourhood_id is None and p.kind == "ngo" and len(p.krs) == 10 for p in patrons)
