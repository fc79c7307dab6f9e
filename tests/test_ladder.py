"""The engagement ladder is derived from facts; the cached rung always equals a fresh computation."""
import json
from datetime import date, datetime, timedelta

from sqlalchemy import select

from models import Resident, db, ladder
from tests.test_residents import add_person


def test_cached_rung_equals_fresh_computation_after_the_demo_and_contacts(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Drabina")
    client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "street"})
    client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "phone",
                                                            "occurred_at": "2026-01-05T10:00"})
    with app.app_context():
        ids = list(db.session.scalars(select(Resident.id)))
        fresh = ladder.compute(ids)
        for r in db.session.scalars(select(Resident)):
            f = fresh[r.id]
            assert (r.rung, json.loads(r.rung_reason), r.last_contact_at) == \
                   (f.rung, json.loads(f.reason_json), f.last_contact_at), r.id


def test_rungs_from_facts(app_ctx, world):
    from models import Attendance, Commitment, Group, Meeting, Membership

    wilda = world.centres["wilda"]
    r = db.session.scalars(select(Resident).where(Resident.centre_id == wilda)).first()
    hood = r.neighbourhood_id
    db.session.execute(Attendance.__table__.delete().where(Attendance.resident_id == r.id))
    db.session.execute(Commitment.__table__.delete().where(Commitment.resident_id == r.id))
    db.session.execute(Membership.__table__.delete().where(Membership.resident_id == r.id))
    db.session.commit()
    assert ladder.compute([r.id])[r.id].rung == "known"
    group = Group(centre_id=wilda, neighbourhood_id=hood, name="Test", started_on=date.today())
    db.session.add(group)
    db.session.flush()
    meetings = [Meeting(centre_id=wilda, neighbourhood_id=hood, group_id=group.id, kind="group", title=f"S{i}",
                        starts_at=datetime.now() - timedelta(days=10 * i)) for i in range(3)]
    db.session.add_all(meetings)
    db.session.flush()
    db.session.add(Attendance(meeting_id=meetings[0].id, resident_id=r.id))
    db.session.flush()
    assert ladder.compute([r.id])[r.id].rung == "participant"
    db.session.add(Commitment(centre_id=wilda, neighbourhood_id=hood, resident_id=r.id, what="Plakaty"))
    db.session.flush()
    assert ladder.compute([r.id])[r.id].rung == "volunteer"
    db.session.add_all([Attendance(meeting_id=m.id, resident_id=r.id) for m in meetings[1:]])
    db.session.flush()
    st = ladder.compute([r.id])[r.id]
    assert st.rung == "active" and st.reason["code"] == "regular_in_group"
    db.session.add(Membership(group_id=group.id, resident_id=r.id, role="leader", joined_on=date(2026, 5, 3)))
    db.session.flush()
    st = ladder.compute([r.id])[r.id]
    assert st.rung == "leader" and st.reason == {"code": "leads_group", "group_id": group.id, "group": "Test",
                                                 "since": date(2026, 5, 3)}
    db.session.rollback()


def test_recompute_ladder_command(runner):
    r = runner.invoke(args=["recompute-ladder"])
    assert r.exit_code == 0 and "Ladder recomputed for 180 residents" in r.output
