"""Re-applying a brand's stored orders from the back office (backoffice.services
`_reprocess_orders`): the orders that no longer match their stored VTEX document are fanned out
to the workers in chunks of one lane, each chunk reports back once, and the job finishes with
the last one; the money is not posted twice."""

import threading
import time
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import TestCase
from django.urls import reverse

import backoffice.services as backoffice_services
from audit.models import AuditEvent
from backoffice.models import OperatorJob
from backoffice.services import operator_job_chunk_done
from codes.models import Code
from commissions.models import Commission
from orders.models import Order, OrderLine
from orders.services import order_apply, orders_reprocess_plan
from payments.models import LedgerTransaction
from tests.factories import MembershipFactory
from tests.orders.conftest import influencer_balances, order_doc

pytestmark = pytest.mark.django_db

IDS = ("931-01", "932-01", "933-01")


def _run(client: Any, **data: Any) -> Any:
    # The worker picks the job up after its row commits, and each chunk after the plan
    # commits (eager in tests): here, right after.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("admin:backoffice_operatorjob_run"), data)


def _running_job(brand: Any, actor: Any, *, checked: int, orders: int, chunks: int) -> OperatorJob:
    """A job whose plan queued `chunks` chunks of `orders` differing orders in all."""
    return OperatorJob.objects.create(
        kind="reprocess_orders",
        brand=brand,
        requested_by=actor,
        status="running",
        progress_total=orders,
        params={"checked": checked, "chunks": chunks, "done_chunks": [], "reapplied": 0, "failed": 0},
    )


def _stored(setup: dict[str, Any]) -> None:
    for order_id in IDS:
        order_apply(brand=setup["brand"], data=order_doc(order_id=order_id, status="invoiced"), source="t")


def test_a_manager_reapplies_the_orders_that_changed_in_chunks_and_nothing_is_posted_twice(
    setup: dict[str, Any], verified_client: Any, manager_a: Any, monkeypatch: Any
) -> None:
    brand, influencer = setup["brand"], setup["influencer"]
    _stored(setup)
    balances = influencer_balances(brand, influencer)
    postings = LedgerTransaction.objects.filter(brand=brand).count()
    # A bug (since fixed) left two orders unlike their VTEX documents.
    Order.objects.filter(vtex_order_id="931-01").update(status="payment-approved")
    OrderLine.objects.filter(order__vtex_order_id="933-01", item_index=2).update(quantity=7)
    monkeypatch.setattr(backoffice_services, "REPROCESS_CHUNK_SIZE", 1)

    client = verified_client(manager_a)
    assert 'value="reprocess_orders"' in client.get(reverse("admin:backoffice_operatorjob_run")).content.decode()
    response = _run(client, kind="reprocess_orders", brand=brand.pk)

    job = OperatorJob.objects.get()
    assert response["Location"] == reverse("admin:backoffice_operatorjob_progress", args=[job.pk])
    assert (job.status, job.progress_done, job.progress_total, job.percent) == ("done", 2, 2, 100)
    assert (job.params["chunks"], sorted(job.params["done_chunks"])) == (2, [0, 1])
    assert (job.params["reapplied"], job.params["failed"]) == (2, 0)
    assert job.result[0]["args"] == {"checked": "3", "differing": "2", "reapplied": "2", "failed": "0"}
    page = client.get(response["Location"]).content.decode()
    assert "3 orders checked, 2 differed from their VTEX document: 2 re-applied, 0 failed." in page

    assert Order.objects.get(vtex_order_id="931-01").status == "invoiced"
    assert OrderLine.objects.get(order__vtex_order_id="933-01", item_index=2).quantity == 1
    assert Commission.objects.filter(order__brand=brand).count() == 9
    assert LedgerTransaction.objects.filter(brand=brand).count() == postings
    assert influencer_balances(brand, influencer) == balances
    jobs_audit = AuditEvent.objects.filter(target_id=str(job.pk), action__startswith="backoffice.")
    assert sorted(jobs_audit.values_list("action", flat=True)) == ["backoffice.job_finished", "backoffice.job_started"]


def test_nothing_differs_the_job_finishes_at_once(setup: dict[str, Any], verified_client: Any, manager_a: Any) -> None:
    _stored(setup)
    _run(verified_client(manager_a), kind="reprocess_orders", brand=setup["brand"].pk)
    job = OperatorJob.objects.get()
    assert (job.status, job.progress_done, job.progress_total) == ("done", 3, 3)
    assert job.result[0]["text"] == "%(checked)s orders checked: every one matches its VTEX document."


def test_a_redelivered_chunk_is_counted_once_and_the_last_chunk_finishes_the_job(brand_a: Any, manager_a: Any) -> None:
    job = _running_job(brand_a, manager_a, checked=9, orders=5, chunks=2)
    operator_job_chunk_done(job_id=job.pk, chunk=0, orders=3, reapplied=3, failed=0)
    again = operator_job_chunk_done(job_id=job.pk, chunk=0, orders=3, reapplied=3, failed=0)
    assert (again.status, again.progress_done, again.params["reapplied"]) == ("running", 3, 3)

    done = operator_job_chunk_done(job_id=job.pk, chunk=1, orders=2, reapplied=1, failed=1)
    assert (done.status, done.progress_done, done.params["reapplied"], done.params["failed"]) == ("failed", 5, 4, 1)
    assert done.finished_at is not None
    assert [line["args"].get("failed") for line in done.result][:1] == ["1"]
    # A late redelivery after the end changes nothing.
    late = operator_job_chunk_done(job_id=job.pk, chunk=1, orders=2, reapplied=2, failed=0)
    assert (late.status, late.params["failed"]) == ("failed", 1)
    assert AuditEvent.objects.filter(target_id=str(job.pk), action="backoffice.job_finished").count() == 1


def test_finance_is_not_offered_the_job(verified_client: Any, finance_a: Any) -> None:
    form = verified_client(finance_a).get(reverse("admin:backoffice_operatorjob_run")).content.decode()
    assert 'value="reprocess_orders"' not in form


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_chunks_reporting_at_once_are_both_counted(brand_a: Any, manager_a: Any) -> None:
    """The job's row lock serialises the reports: the second waits for the first to commit and
    counts on top of it (without the lock it would overwrite it, and the job never finish)."""
    job = _running_job(brand_a, manager_a, checked=4, orders=4, chunks=2)
    second_started = threading.Event()
    errors: list[BaseException] = []

    def report_second() -> None:
        try:
            second_started.set()
            operator_job_chunk_done(job_id=job.pk, chunk=1, orders=2, reapplied=2, failed=0)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        operator_job_chunk_done(job_id=job.pk, chunk=0, orders=2, reapplied=2, failed=0)
        thread = threading.Thread(target=report_second)
        thread.start()
        second_started.wait(5)
        time.sleep(0.5)  # the second report is now waiting for this transaction
    thread.join(10)
    assert errors == []
    job.refresh_from_db()
    assert (sorted(job.params["done_chunks"]), job.params["reapplied"]) == ([0, 1], 4)
    assert (job.status, job.progress_done) == ("done", 4)


def test_the_plan_takes_the_lanes_in_turn(setup: dict[str, Any], settings: Any) -> None:
    """Workers take chunks in queue order, and two chunks of one lane wait for each other: the
    plan alternates the lanes."""
    settings.ORDERS_APPLY_LANES = 4
    brand = setup["brand"]
    other = MembershipFactory(brand=brand).influencer
    Code.objects.create(brand=brand, campaign=setup["campaign"], influencer=other, text="OTHER10")
    assert other.pk % 4 != setup["influencer"].pk % 4
    _stored(setup)
    for order_id in ("941-01", "942-01"):
        order_apply(brand=brand, data=order_doc(order_id=order_id, coupon="OTHER10", status="invoiced"), source="t")
    OrderLine.objects.filter(order__brand=brand, item_index=0).update(quantity=9)  # all five differ now

    report, chunks = orders_reprocess_plan(brand=brand, chunk_size=1)

    assert (report.checked, report.differing) == (5, 5)
    lanes = [chunk.lane for chunk in chunks]
    maria, lucas = setup["influencer"].pk % 4, other.pk % 4
    first, second = sorted((maria, lucas))
    # Three orders in Maria's lane, two in the other: in turn, then what is left.
    expected = [first, second, first, second, maria]
    assert lanes == expected
    assert sorted(pk for chunk in chunks for pk in chunk.order_ids) == sorted(
        Order.objects.filter(brand=brand).values_list("pk", flat=True)
    )
