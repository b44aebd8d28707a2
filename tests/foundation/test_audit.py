import itertools
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from audit.models import AuditEvent
from audit.services import audit_chain_seal, audit_chain_verify, audit_record

pytestmark = pytest.mark.django_db


def _record_some(brand, n=5):
    events = [audit_record(action="test.action", target=brand, brand_id=brand.pk, after={"n": i}) for i in range(n)]
    audit_chain_seal()
    for event in events:
        event.refresh_from_db()
    return events


def test_events_are_written_unsealed_and_sealed_in_order(brand_a):
    event = audit_record(action="test.action", target=brand_a, brand_id=brand_a.pk)
    assert (event.seq, event.hash) == (None, None)
    assert audit_chain_seal() == 1
    event.refresh_from_db()
    assert event.seq == 1
    assert len(event.hash) == 64
    assert audit_chain_seal() == 0  # nothing left to seal


def test_events_form_an_intact_chain(brand_a, capsys):
    events = _record_some(brand_a)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    assert audit_chain_verify().ok
    call_command("audit_verify")
    assert "5 events verified" in capsys.readouterr().out


def test_verify_names_the_first_edited_event(brand_a):
    events = _record_some(brand_a)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        cursor.execute("UPDATE audit_auditevent SET after = %s WHERE id = %s", ['{"n": 99}', events[2].pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")
    report = audit_chain_verify()
    assert report.broken_at == events[2].pk
    assert "edited" in report.reason
    with pytest.raises(CommandError, match=f"broken at event {events[2].pk}"):
        call_command("audit_verify")


def test_verify_names_the_event_after_a_removed_one(brand_a):
    events = _record_some(brand_a)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")
    report = audit_chain_verify()
    assert report.broken_at == events[2].pk
    assert "removed" in report.reason


def test_event_records_actor_ip_and_before_after(brand_a, manager_a):
    event = audit_record(
        action="brand.changed",
        target=brand_a,
        actor=manager_a,
        brand_id=brand_a.pk,
        before={"name": "Old"},
        after={"name": "New"},
        ip="203.0.113.9",
    )
    event.refresh_from_db()
    assert (event.actor_id, event.actor_repr, event.ip) == (manager_a.pk, manager_a.email, "203.0.113.9")
    assert (event.before, event.after) == ({"name": "Old"}, {"name": "New"})
    assert event.target_type == "brands.brand"


def test_audit_admin_is_read_only(verified_client, superuser, brand_a):
    event = _record_some(brand_a, 1)[0]
    client = verified_client(superuser)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403


@pytest.mark.postgres
def test_database_refuses_update_and_delete(brand_a):
    event = _record_some(brand_a, 1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(hash="0" * 64)  # resealing a sealed row
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.action == "test.action"


@pytest.mark.postgres
def test_database_refuses_content_changes_before_sealing(brand_a):
    event = audit_record(action="test.action", target=brand_a, brand_id=brand_a.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered", seq=99, hash="f" * 64)
    assert audit_chain_seal() == 1
    assert AuditEvent.objects.get(pk=event.pk).action == "test.action"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain(brand_a):
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for j in range(10):
                audit_record(action="concurrent", brand_id=brand_a.pk, after={"worker": i, "n": j})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditEvent.objects.filter(action="concurrent").count() == 80
    report = audit_chain_verify()
    assert report.ok, report
