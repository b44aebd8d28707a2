"""Daily reconciliation against List orders, on the fake VTEX."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from commissions.models import Commission
from integrations.vtex.client import VTEXClient
from orders import reconciliation
from orders.models import Discrepancy, Order, ReconciliationRun
from orders.reconciliation import day_window, reconciliation_due_brands, reconciliation_run
from orders.services import order_apply
from tests.orders.conftest import order_doc

pytestmark = pytest.mark.django_db
DAY = date(2024, 2, 4)  # the sample's creation day in Bogotá (20:09 UTC = 15:09 local)


def test_it_finds_a_missed_cancel_and_a_missed_order(setup: dict[str, Any], fake_oms: Any) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(), source="t")  # we saw the approval…
    fake_oms.add_order(order_doc(status="canceled", last_change="2024-02-04T20:31:58+00:00"))  # …not the cancel
    fake_oms.add_order(order_doc(order_id="9999-01", creation="2024-02-04T22:00:00+00:00"))  # never notified

    run = reconciliation_run(brand=brand, day=DAY)
    assert run is not None
    assert (run.status, run.listed, run.missing, run.mismatched, run.unresolved) == ("done", 2, 1, 1, 0)
    assert Order.objects.get(vtex_order_id="1415461749731-01").status == "canceled"
    assert set(Commission.objects.filter(order__vtex_order_id="1415461749731-01").values_list("state", flat=True)) == {
        "reversed"
    }
    assert Commission.objects.filter(order__vtex_order_id="9999-01").count() == 3
    kinds = set(Discrepancy.objects.filter(run=run).values_list("vtex_order_id", "kind"))
    assert kinds == {("1415461749731-01", "status"), ("9999-01", "missing")}

    # Twice: the second run finds nothing and changes nothing.
    before = list(Commission.objects.order_by("pk").values_list("pk", "state", "ledger_posted_cents", "updated_at"))
    fake_oms.reset_log()
    second = reconciliation_run(brand=brand, day=DAY)
    assert second is not None
    assert (second.missing, second.mismatched, second.unresolved, second.fetched) == (0, 0, 0, 0)
    assert not Discrepancy.objects.filter(run=second).exists()
    assert (
        list(Commission.objects.order_by("pk").values_list("pk", "state", "ledger_posted_cents", "updated_at"))
        == before
    )
    assert not fake_oms.requests_to("/api/oms/pvt/orders/1")


def test_it_applies_missed_returns_listed_with_input_invoices(setup: dict[str, Any], fake_oms: Any) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"), source="t")
    fake_oms.add_order(
        order_doc(
            status="invoiced", last_change="2024-02-20T10:00:00+00:00", returns=[{"number": "R1", "items": [(1, 1)]}]
        )
    )
    run = reconciliation_run(brand=brand, day=DAY)
    assert run is not None
    assert Commission.objects.get(line__item_index=1).state == "reversed"
    assert Discrepancy.objects.filter(run=run, kind="return", resolved=True).count() == 1


def test_an_order_vtex_does_not_know_is_reported_and_managers_are_emailed(
    setup: dict[str, Any], fake_oms: Any, manager_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order_apply(brand=setup["brand"], data=order_doc(order_id="ghost-01"), source="t")
    with django_capture_on_commit_callbacks(execute=True):
        run = reconciliation_run(brand=setup["brand"], day=DAY)
    assert run is not None
    assert (run.orphaned, run.unresolved) == (1, 1)
    assert Discrepancy.objects.get(run=run).kind == "orphan"
    assert len(mail.outbox) == 1
    assert manager_a.email in mail.outbox[0].to


def test_a_window_over_30_pages_is_split(setup: dict[str, Any], fake_oms: Any) -> None:
    start, end = day_window(brand=setup["brand"], day=DAY)
    for i in range(7):
        fake_oms.add_order(order_doc(order_id=f"{i}-01", creation=f"2024-02-04T{10 + i}:00:00+00:00"))
    original = reconciliation.WINDOW_CAPACITY
    reconciliation.WINDOW_CAPACITY = 3
    try:
        ids = [
            s.order_id
            for s in reconciliation.orders_list_window(
                client=VTEXClient.for_brand(setup["brand"]), start=start, end=end
            )
        ]
    finally:
        reconciliation.WINDOW_CAPACITY = original
    assert sorted(ids) == sorted(f"{i}-01" for i in range(7))


def test_the_scheduled_run_happens_once_per_brand_and_day(setup: dict[str, Any], fake_oms: Any) -> None:
    now = datetime(2024, 2, 5, 8, 20, tzinfo=UTC)  # 03:20 in Bogotá
    assert reconciliation_due_brands(now=now) == [(setup["brand"].pk, DAY)]
    assert reconciliation_run(brand=setup["brand"], day=DAY, trigger="schedule") is not None
    assert reconciliation_run(brand=setup["brand"], day=DAY, trigger="schedule") is None
    assert reconciliation_due_brands(now=now) == []


def test_the_command_reconciles_a_day(setup: dict[str, Any], fake_oms: Any, capsys: Any) -> None:
    fake_oms.add_order(order_doc())
    call_command("vtex_reconcile", "--brand", "acme", "--date", "2024-02-04")
    assert "missing 1" in capsys.readouterr().out
    assert ReconciliationRun.objects.count() == 1


def test_an_order_that_cannot_be_reconciled_is_a_discrepancy_and_the_run_goes_on(
    setup: dict[str, Any], fake_oms: Any
) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(order_id="broken-01"), source="t")
    # Not in the day's list, and Get order answers a document without orderId (HookPayloadInvalid).
    fake_oms.orders["broken-01"] = {"orderId": "", "creationDate": "2024-01-01T00:00:00+00:00"}
    fake_oms.add_order(order_doc(order_id="9999-01", creation="2024-02-04T22:00:00+00:00"))

    run = reconciliation_run(brand=brand, day=DAY)

    assert run is not None
    assert (run.status, run.missing, run.unresolved, run.finished_at is not None) == ("done", 1, 1, True)
    failed = Discrepancy.objects.get(run=run, vtex_order_id="broken-01")
    assert (failed.kind, failed.resolved) == ("fetch_failed", False)
    assert "orderId" in failed.note
    assert Order.objects.get(vtex_order_id="broken-01").status == "payment-approved"  # unchanged
    assert Commission.objects.filter(order__vtex_order_id="9999-01").count() == 3


def test_an_unexpected_error_fails_the_run_tells_managers_and_the_scheduler_runs_the_day_again(
    setup: dict[str, Any], fake_oms: Any, manager_a: Any, django_capture_on_commit_callbacks: Any
) -> None:

    brand = setup["brand"]
    fake_oms.add_order(order_doc())

    def time_is_up(run: ReconciliationRun) -> None:
        raise SoftTimeLimitExceeded()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SoftTimeLimitExceeded):
        reconciliation_run(brand=brand, day=DAY, trigger="schedule", progress=time_is_up)

    failed = ReconciliationRun.objects.get()
    assert (failed.status, failed.finished_at is not None) == ("failed", True)
    assert "SoftTimeLimitExceeded" in failed.error
    assert not Order.objects.exists()
    assert len(mail.outbox) == 1
    assert manager_a.email in mail.outbox[0].to

    later = datetime(2024, 2, 5, 10, 20, tzinfo=UTC)  # 05:20 in Bogotá, after the usual hour
    assert reconciliation_due_brands(now=later) == [(brand.pk, DAY)]
    again = reconciliation_run(brand=brand, day=DAY, trigger="schedule")
    assert again is not None
    assert again.status == "done"
    assert again.missing == 1
    assert reconciliation_due_brands(now=later) == []
    assert reconciliation_run(brand=brand, day=DAY, trigger="schedule") is None


def test_a_day_that_keeps_failing_is_retried_a_bounded_number_of_times(setup: dict[str, Any], settings: Any) -> None:
    settings.ORDERS_RECONCILE_MAX_ATTEMPTS = 2
    later = datetime(2024, 2, 5, 10, 20, tzinfo=UTC)
    never_ran = datetime(2024, 2, 5, 9, 20, tzinfo=UTC)  # 04:20: the 03:00 slot was missed
    assert reconciliation_due_brands(now=never_ran) == []
    for expected in ([(setup["brand"].pk, DAY)], []):
        ReconciliationRun.objects.create(
            brand=setup["brand"], day=DAY, trigger="schedule", status="failed", started_at=timezone.now()
        )
        assert reconciliation_due_brands(now=later) == expected


def test_a_day_reconciled_before_the_lists_lag_has_passed_is_reconciled_again_after_it(
    setup: dict[str, Any], fake_oms: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """VTEX's List orders lags a few minutes: a run just after midnight may not see the day's
    last orders, so the day is queued again for when the lag has passed."""
    settings.VTEX_ORDERS_LIST_LAG_SECONDS = 600
    brand = setup["brand"]
    _start, end = day_window(brand=brand, day=DAY)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kw: sent.append({"name": name, **kw}))

    monkeypatch.setattr(timezone, "now", lambda: end + timedelta(minutes=2))  # 00:02 local
    early = reconciliation_run(brand=brand, day=DAY)
    assert early is not None
    assert early.status == "done"
    [recheck] = sent
    assert recheck["name"] == "orders.tasks.reconcile_brand_task"
    assert recheck["kwargs"] == {"brand_id": brand.pk, "day": DAY.isoformat(), "trigger": "manual"}
    assert recheck["countdown"] == pytest.approx(8 * 60, abs=1)

    sent.clear()
    monkeypatch.setattr(timezone, "now", lambda: end + timedelta(hours=3))  # the nightly run
    late = reconciliation_run(brand=brand, day=DAY)
    assert late is not None
    assert late.status == "done"
    assert sent == []
