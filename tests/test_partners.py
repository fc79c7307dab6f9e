"""Partners and the cooperation network: the list and its filters, adding and editing (409 when
stale), contact people, the cooperation log, groups supported and meetings taken part in (full page
and htmx), the partner on the group's page, the network picture, scoping, validation in Polish and
the statement budget."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models import Cooperation, Group, Partner, PartnerContact, db, partner_group, partner_meeting
from tests.test_diagnosis import (FRAGMENT_BUDGET, HX, STATEMENT_BUDGET, audits, group_of, hood_of, meeting_of,
                                  statements)


def make_partner(app, centre="wilda", name="Szkoła Podstawowa nr 99", kind="school", hood="own", contacts=1,
                 groups=(), meetings=(), coops=0) -> int:
    with app.app_context():
        hood_id = None if hood is None else hood_of(app, centre if hood == "own" else hood)
        p = Partner(centre_id=app.world.centres[centre], neighbourhood_id=hood_id, name=name, kind=kind)
        db.session.add(p)
        db.session.flush()
        for k in range(contacts):
            db.session.add(PartnerContact(partner_id=p.id, name=f"Jolanta Testowa {k}", role="dyrektorka",
                                          phone="+48618521234"))
        for gid in groups:
            db.session.execute(partner_group.insert().values(partner_id=p.id, group_id=gid))
        for mid in meetings:
            db.session.execute(partner_meeting.insert().values(partner_id=p.id, meeting_id=mid))
        for k in range(coops):
            db.session.add(Cooperation(partner_id=p.id, happened_on=date.today() - timedelta(days=k),
                                       what=f"Wspólna akcja {k}"))
        db.session.commit()
        return p.id


def partner_links(app, table, partner_id) -> set[int]:
    column = "group_id" if table is partner_group else "meeting_id"
    with app.app_context():
        return set(db.session.scalars(select(table.c[column]).where(table.c.partner_id == partner_id)))


PARTNER_FORM = {"name": "Biblioteka Raczyńskich – filia nr 7", "kind": "library", "address": "ul. Prądzyńskiego 3",
                "phone": "61 852 12 34", "email": "Filia7@Biblioteka.example", "website": "www.filia7.example",
                "krs": "", "notes": "", "active": "y"}


# --- access and scope ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "city", "reviewer@regranting"])
def test_other_roles_may_not_open_partners(client, auth, app, role):
    pid = make_partner(app)
    auth.login(role)
    for path in ("/partners", "/partners/new", f"/partners/{pid}", f"/partners/{pid}/edit", "/partners/network"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/partners/{pid}/contacts", data={"name": "X"}).status_code == 403


@pytest.mark.parametrize("who", ["animator@wilda", "coordinator@wilda"])
def test_another_centres_partner_is_not_found(client, auth, app, who):
    foreign = make_partner(app, "rataje", name="Rada Osiedla Rataje")
    with app.app_context():
        contact_id = db.session.scalar(select(PartnerContact.id).where(PartnerContact.partner_id == foreign))
    own = make_partner(app)
    auth.login(who)
    for path in (f"/partners/{foreign}", f"/partners/{foreign}/edit", "/partners/network?neighbourhood=rataje"):
        assert client.get(path).status_code == 404, path
    for path, data in ((f"/partners/{foreign}", {"name": "x"}), (f"/partners/{foreign}/contacts", {"name": "x"}),
                       (f"/partners/{foreign}/contacts/{contact_id}/delete", {}),
                       (f"/partners/{own}/contacts/{contact_id}/delete", {}),  # someone else's contact person
                       (f"/partners/{foreign}/cooperations", {"what": "x"}),
                       (f"/partners/{foreign}/groups", {"group_id": group_of(app, "wilda")}),
                       (f"/partners/{own}/groups/{group_of(app, 'rataje')}/remove", {}),
                       (f"/partners/{own}/meetings/{meeting_of(app, 'rataje')}/remove", {}),
                       (f"/partners/{foreign}/meetings", {"meeting_id": meeting_of(app, "wilda")})):
        assert client.post(path, data=data).status_code == 404, path
    html = client.get("/partners").get_data(as_text=True)
    assert "Rada Osiedla Rataje" not in html
    with app.app_context():
        assert db.session.get(PartnerContact, contact_id) is not None


def test_city_wide_partners_are_seen_by_every_animator_of_the_centre(client, auth, app):
    """A partner without an osiedle works across the centre: its animators see it; a partner in an
    osiedle the animator does not work in stays hidden."""
    with app.app_context():
        from models import User
        animator = db.session.get(User, app.world.users["animator@regranting"])
        mine = {n.slug for n in animator.neighbourhoods}
    other = next(s for s in ("wilda", "rataje", "jezyce", "debiec", "winogrady") if s not in mine and hood_of(app, s))
    patron = make_partner(app, "regranting", name="Fundacja Patronacka Testowa", kind="ngo", hood=None)
    hidden = make_partner(app, "regranting", name="Szkoła poza moimi osiedlami", hood=other)
    auth.login("animator@regranting")
    html = client.get("/partners").get_data(as_text=True)
    assert "Fundacja Patronacka Testowa" in html and "Szkoła poza moimi osiedlami" not in html
    assert client.get(f"/partners/{patron}").status_code == 200
    assert client.get(f"/partners/{hidden}").status_code == 404
    assert "całe centrum" in client.get("/partners?neighbourhood=none").get_data(as_text=True)


# --- the list ------------------------------------------------------------------------------------------

def test_the_list_filters_by_kind_osiedle_and_name(client, auth, app):
    make_partner(app, name="Parafia pw. Testowego Świętego", kind="parish", contacts=2, coops=3)
    make_partner(app, name="Fundacja Ogólnomiejska", kind="ngo", hood=None)
    auth.login("animator@wilda")
    html = client.get("/partners").get_data(as_text=True)
    assert "Parafia pw. Testowego Świętego" in html and "Fundacja Ogólnomiejska" in html
    assert "osoby do kontaktu: 2" in html and "wspólne działania: 3" in html
    html = client.get("/partners?kind=parish").get_data(as_text=True)
    assert "Parafia pw. Testowego Świętego" in html and "Fundacja Ogólnomiejska" not in html
    html = client.get("/partners?neighbourhood=none").get_data(as_text=True)
    assert "Fundacja Ogólnomiejska" in html and "Parafia pw. Testowego Świętego" not in html
    html = client.get(f"/partners?neighbourhood={hood_of(app, 'wilda')}").get_data(as_text=True)
    assert "Parafia pw. Testowego Świętego" in html and "Fundacja Ogólnomiejska" not in html
    r = client.get("/partners?q=testowego", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<div id="results">') and "<html" not in html
    assert "Parafia pw. Testowego Świętego" in html and "Fundacja Ogólnomiejska" not in html
    assert len(r.data) <= FRAGMENT_BUDGET
    # diacritics and case are ignored, every word must match, and LIKE's wildcards are plain text
    html = client.get("/partners?q=SWIETEGO+parafia", headers=HX).get_data(as_text=True)
    assert "Parafia pw. Testowego Świętego" in html and "Fundacja Ogólnomiejska" not in html
    html = client.get("/partners?q=ogolnomiejska", headers=HX).get_data(as_text=True)
    assert "Fundacja Ogólnomiejska" in html and "Parafia" not in html
    html = client.get("/partners?q=%25", headers=HX).get_data(as_text=True)
    assert "Fundacja Ogólnomiejska" in html  # no words: no name filter
    assert client.get("/partners?kind=bogus&neighbourhood=abc").status_code == 200  # unknown filters are ignored


# --- adding and editing -----------------------------------------------------------------------------------

def test_adding_a_partner(client, auth, app):
    auth.login("animator@wilda")
    html = client.get("/partners/new").get_data(as_text=True)
    assert f'<option selected value="{hood_of(app, "wilda")}">' in html
    r = client.post("/partners/new", data={**PARTNER_FORM, "neighbourhood_id": hood_of(app, "wilda")})
    assert r.status_code == 303
    pid = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        p = db.session.get(Partner, pid)
        assert (p.kind, p.phone, p.email, p.centre_id, p.neighbourhood_id, p.active) == (
            "library", "+48618521234", "filia7@biblioteka.example", app.world.centres["wilda"],
            hood_of(app, "wilda"), True)
    event = audits(app, "partner_created")[-1]
    assert event.object_id == pid and "Biblioteka" not in (event.detail or "")
    # an NGO without an osiedle, acting as a patron: the KRS number is kept with its leading zeros
    r = client.post("/partners/new", data={**PARTNER_FORM, "name": "Fundacja Testowa", "kind": "ngo",
                                           "neighbourhood_id": "0", "krs": "123456"})
    with app.app_context():
        p = db.session.get(Partner, int(r.headers["Location"].rsplit("/", 1)[1]))
        assert p.neighbourhood_id is None and p.krs == "0000123456"


def test_partner_validation_in_polish(client, auth, app):
    auth.login("animator@wilda")
    r = client.post("/partners/new", data={})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Podaj nazwę instytucji lub organizacji." in html
    assert "Wybierz osiedle z listy." in html
    r = client.post("/partners/new", data={**PARTNER_FORM, "neighbourhood_id": hood_of(app, "rataje"),
                                           "kind": "bank", "krs": "12ab", "phone": "123", "email": "nie-mail",
                                           "website": "javascript:x"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for message in ("Wybierz osiedle z listy.", "Wybierz rodzaj z listy.", "Numer KRS to do 10 cyfr",
                    "To nie jest poprawny numer telefonu", "To nie jest poprawny adres e-mail.",
                    "To nie wygląda na adres strony"):
        assert message in html, message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Partner).where(
            Partner.name == PARTNER_FORM["name"])) == 0


def test_editing_inline_and_a_stale_save_answers_409(client, auth, app):
    pid = make_partner(app, name="Stara nazwa")
    auth.login("coordinator@wilda")
    r = client.get(f"/partners/{pid}/edit", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and 'value="Stara nazwa"' in html and 'name="version"' in html
    data = {**PARTNER_FORM, "name": "Nowa nazwa", "neighbourhood_id": hood_of(app, "wilda"), "version": "1"}
    r = client.post(f"/partners/{pid}", data=data, headers=HX)
    assert r.status_code == 200 and "Zapisano." in r.get_data(as_text=True) and "Nowa nazwa" in r.get_data(as_text=True)
    assert len(r.data) <= FRAGMENT_BUDGET
    assert "name" in audits(app, "partner_updated")[-1].detail_dict["fields"]
    r = client.post(f"/partners/{pid}", data={**data, "name": "Moja nazwa z telefonu"}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "Ktoś inny zapisał zmiany tego partnera" in html
    assert 'value="Moja nazwa z telefonu"' in html and "Nowa nazwa" in html
    assert client.post(f"/partners/{pid}", data={**data, "name": "", "version": "2"}).status_code == 422
    assert client.post(f"/partners/{pid}", data={**data, "active": "", "version": "2"}).status_code == 303
    with app.app_context():
        assert db.session.get(Partner, pid).active is False


# --- one partner's page and its htmx actions ----------------------------------------------------------------

def test_the_partner_page(client, auth, app):
    gid, mid = group_of(app, "wilda"), meeting_of(app, "wilda")
    pid = make_partner(app, contacts=2, groups=(gid,), meetings=(mid,), coops=2)
    with app.app_context():
        group_name = db.session.get(Group, gid).name
    auth.login("animator@wilda")
    r = client.get(f"/partners/{pid}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Jolanta Testowa 1" in html and "618 521 234" in html
    assert "Wspólna akcja 1" in html and group_name in html and f"/meetings/{mid}" in html
    assert "Dziennik współpracy" in html and "Grupy, które wspiera" in html
    assert "Spotkania, w których brał udział" in html
    event = audits(app, "partner_viewed")[-1]
    assert event.object_id == pid and event.detail is None


def test_contact_people_add_and_remove(client, auth, app):
    pid = make_partner(app, contacts=0)
    auth.login("animator@wilda")
    r = client.post(f"/partners/{pid}/contacts", data={"name": "Halina Kowalska", "role": "pedagożka",
                                                       "phone": "601 234 567", "email": "h.k@szkola.example"},
                    headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="contacts"' in html and "Halina Kowalska" in html
    assert "Osoba do kontaktu dodana." in html and len(r.data) <= FRAGMENT_BUDGET
    with app.app_context():
        contact = db.session.scalars(select(PartnerContact).where(PartnerContact.partner_id == pid)).one()
        assert contact.phone == "+48601234567"
    event = audits(app, "partner_contact_added")[-1]
    assert event.detail_dict == {"contact_id": contact.id} and "Halina" not in event.detail
    r = client.post(f"/partners/{pid}/contacts", data={"name": "", "phone": "12"}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Podaj imię i nazwisko osoby." in html and "To nie jest poprawny numer" in html
    r = client.post(f"/partners/{pid}/contacts/{contact.id}/delete")
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get(PartnerContact, contact.id) is None
    assert audits(app, "partner_contact_removed")[-1].detail_dict == {"contact_id": contact.id}
    assert client.post(f"/partners/{pid}/contacts/{contact.id}/delete").status_code == 404


def test_the_cooperation_log(client, auth, app):
    gid, mid = group_of(app, "wilda"), meeting_of(app, "wilda")
    pid = make_partner(app, groups=(gid,))
    auth.login("animator@wilda")
    # the form: inside the partner's page (htmx) or a page of its own
    r = client.get(f"/partners/{pid}/cooperations/new", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<form id="coop-form"') and len(r.data) <= FRAGMENT_BUDGET
    assert f'<option value="{gid}">' in html  # the groups the partner supports
    assert client.get(f"/partners/{pid}/cooperations/new").get_data(as_text=True).startswith("<!doctype html>")
    r = client.post(f"/partners/{pid}/cooperations", data={"what": "Szkoła udostępniła salę",
                                                           "happened_on": date.today().isoformat()}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="cooperations"' in html and "Szkoła udostępniła salę" in html
    assert "Zapisano w dzienniku współpracy." in html and len(r.data) <= FRAGMENT_BUDGET
    # with a group and a meeting: the partner now supports the group and took part in the meeting
    r = client.post(f"/partners/{pid}/cooperations", data={"what": "Wspólny piknik", "happened_on": date.today(),
                                                           "group_id": gid, "meeting_id": mid}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="partner-groups"' in html and html.count('hx-swap-oob="true"') >= 2
    assert partner_links(app, partner_group, pid) == {gid} and partner_links(app, partner_meeting, pid) == {mid}
    r = client.post(f"/partners/{pid}/cooperations", data={"what": "Plan na przyszłość",
                                                           "happened_on": (date.today() + timedelta(days=2))},
                    headers=HX)
    assert r.status_code == 422 and "data nie może być z przyszłości" in r.get_data(as_text=True)
    assert r.headers["HX-Retarget"] == "#coop-form"  # with errors the form replaces only itself
    r = client.post(f"/partners/{pid}/cooperations", data={"what": "", "happened_on": date.today(),
                                                           "group_id": group_of(app, "rataje")})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Napisz krótko, co zrobiliście razem." in html and "Wybierz grupę z listy." in html
    assert client.post(f"/partners/{pid}/cooperations", data={"what": "Sprzątanie",
                                                              "happened_on": date.today()}).status_code == 303
    assert len(audits(app, "cooperation_logged")) == 3


def test_groups_supported_and_the_group_page(client, auth, app):
    gid = group_of(app, "wilda")
    with app.app_context():  # start from a group no demo partner supports
        db.session.execute(partner_group.delete().where(partner_group.c.group_id == gid))
        db.session.commit()
    pid = make_partner(app, name="Rada Osiedla Wilda Testowa", kind="council")
    auth.login("animator@wilda")
    # the group's page loads the block after it is shown
    page = client.get(f"/groups/{gid}").get_data(as_text=True)
    assert f'hx-get="/partners/for-group/{gid}" hx-trigger="load"' in page
    block = client.get(f"/partners/for-group/{gid}", headers=HX).get_data(as_text=True)
    assert "Żaden partner nie wspiera jeszcze tej grupy." in block
    r = client.post(f"/partners/{pid}/groups", data={"group_id": gid}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="partner-groups"' in html and "Partner wspiera teraz tę grupę." in html
    assert partner_links(app, partner_group, pid) == {gid}
    r = client.get(f"/partners/for-group/{gid}", headers=HX)
    block = r.get_data(as_text=True)
    assert r.status_code == 200 and block.lstrip().startswith('<section id="group-partners"')
    assert "Rada Osiedla Wilda Testowa" in block and f'/partners/{pid}"' in block and len(r.data) <= FRAGMENT_BUDGET
    page = client.get(f"/partners/for-group/{gid}").get_data(as_text=True)  # without scripts: a page of its own
    assert page.startswith("<!doctype html>") and "Rada Osiedla Wilda Testowa" in page
    assert client.get(f"/partners/for-group/{group_of(app, 'rataje')}").status_code == 404
    r = client.post(f"/partners/{pid}/groups", data={"group_id": group_of(app, "rataje")}, headers=HX)
    assert r.status_code == 422 and "Wybierz grupę z listy." in r.get_data(as_text=True)
    assert client.post(f"/partners/{pid}/groups/{gid}/remove").status_code == 303
    assert partner_links(app, partner_group, pid) == set()
    assert [e.action for e in audits(app, "partner_group_linked") + audits(app, "partner_group_unlinked")] == [
        "partner_group_linked", "partner_group_unlinked"]


def test_meetings_taken_part_in(client, auth, app):
    mid = meeting_of(app, "wilda")
    pid = make_partner(app)
    auth.login("animator@wilda")
    r = client.post(f"/partners/{pid}/meetings", data={"meeting_id": mid})
    assert r.status_code == 303 and partner_links(app, partner_meeting, pid) == {mid}
    r = client.post(f"/partners/{pid}/meetings/{mid}/remove", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="partner-meetings"' in html and "Spotkanie odłączone od partnera." in html
    assert partner_links(app, partner_meeting, pid) == set()
    r = client.post(f"/partners/{pid}/meetings", data={"meeting_id": meeting_of(app, "rataje")}, headers=HX)
    assert r.status_code == 422 and "Wybierz spotkanie z listy." in r.get_data(as_text=True)


# --- the network ------------------------------------------------------------------------------------------

def test_the_network_picture(client, auth, app):
    gid, mid = group_of(app, "wilda"), meeting_of(app, "wilda")
    with app.app_context():
        group_name = db.session.get(Group, gid).name
    a = make_partner(app, name="Szkoła Sieciowa", groups=(gid,), meetings=(mid,), coops=3)
    b = make_partner(app, name="Biblioteka Sieciowa", kind="library", meetings=(mid,))
    make_partner(app, name="Fundacja Bez Osiedla", kind="ngo", hood=None)
    auth.login("animator@wilda")
    r = client.get("/partners/network?neighbourhood=wilda")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Sieć współpracy: osiedle Wilda" in html
    svg = html[html.index("<svg xmlns"):html.index("</svg>", html.index("<svg xmlns")) + 6]
    assert 'role="img"' in svg and "Szkoła Sieciowa" in svg and "Biblioteka Sieciowa" in svg and group_name in svg
    assert "Fundacja Bez Osiedla" not in svg  # city-wide, and it supports no group of Wilda
    assert f'href="/partners/{a}"' in svg and f'href="/groups/{gid}"' in svg
    assert "Szkoła Sieciowa wspiera grupę" in svg and "wspólne spotkania: 1" in svg and "wpisy współpracy: 3" in svg
    assert min(int(s) for s in re.findall(r'font-size="(\d+)"', svg)) >= 12
    assert " style=" not in html and "<script" not in svg
    assert 'class="network-scroll"' in html and "js-print" in html
    assert "Kto z kim współpracuje" in html and "wspiera: " + group_name in html
    assert client.get("/partners/network?neighbourhood=wilda").get_data(as_text=True) == html  # deterministic
    whole = client.get("/partners/network").get_data(as_text=True)
    assert "Fundacja Bez Osiedla" in whole and "wszystkie moje osiedla" in whole
    assert client.get("/partners/network?neighbourhood=rataje").status_code == 404


def test_an_empty_network_says_so(client, auth, app):
    with app.app_context():
        db.session.execute(Partner.__table__.update().values(active=False))
        db.session.commit()
    auth.login("coordinator@wilda")
    html = client.get("/partners/network").get_data(as_text=True)
    assert "całe centrum" in html and ("Sieć jest jeszcze pusta" in html or "<svg xmlns" in html)


# --- cost ---------------------------------------------------------------------------------------------------

def test_pages_cost_a_constant_number_of_statements(client, auth, app):
    gid, mid = group_of(app, "wilda"), meeting_of(app, "wilda")
    pid = make_partner(app, contacts=1, coops=1)
    auth.login("coordinator@wilda")
    paths = ["/partners", f"/partners/{pid}", "/partners/network", "/partners/network?neighbourhood=wilda",
             f"/partners/for-group/{gid}"]

    def measure():
        counts = {}
        for path in paths:
            client.get(path)
            with statements(app) as sent:
                assert client.get(path).status_code == 200, path
            counts[path] = len(sent)
        return counts

    before = measure()
    for k in range(12):
        make_partner(app, name=f"Partner {k}", contacts=2, groups=(gid,), meetings=(mid,), coops=3)
    with app.app_context():
        for k in range(5):
            db.session.add(PartnerContact(partner_id=pid, name=f"Osoba {k}"))
            db.session.add(Cooperation(partner_id=pid, happened_on=date.today(), what="x", group_id=gid,
                                       meeting_id=mid))
        db.session.execute(partner_group.insert().values(partner_id=pid, group_id=gid))
        db.session.execute(partner_meeting.insert().values(partner_id=pid, meeting_id=mid))
        db.session.commit()
    after = measure()
    print("statements", after)
    assert before == after, (before, after)
    assert max(after.values()) <= STATEMENT_BUDGET, after
