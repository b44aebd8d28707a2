"""The back office as managers and finance use it: navigation by work with the internals kept
for superusers, only the actions a person may take, a translated refusal with a way back,
today's queues, operator jobs with progress, discrepancies marked handled."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from backoffice.models import OperatorJob
from backoffice.navigation import SYSTEM, group_of
from backoffice.views import permission_denied
from orders.models import Discrepancy, ReconciliationRun
from tests.factories import StaffFactory


def _run(client, **data):
    # The worker picks a job up after its row commits (eager in tests): here, right after.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("admin:backoffice_operatorjob_run"), data)


pytestmark = pytest.mark.django_db

INTERNALS = ["TOTP devices", "Sites", "Periodic tasks", "Ledger entries", "Ledger transactions", "Groups"]
GROUPS = ["Influencers", "Campaigns &amp; codes", "Orders &amp; commissions", "Payouts", "Settings"]


@pytest.fixture
def viewer_a(brand_a: Any) -> Any:
    return StaffFactory(email="viewer.a@example.com", role="Brand viewer", brands=[brand_a])


def test_a_manager_sees_the_work_groups_and_no_internals(verified_client, manager_a):
    html = verified_client(manager_a).get(reverse("admin:index")).content.decode()
    for group in GROUPS:
        assert f">{group}</a>" in html
    for internal in INTERNALS:
        assert internal not in html
    assert 'class="app-work-system' not in html


def test_a_superuser_finds_the_internals_under_system(verified_client, superuser):
    html = verified_client(superuser).get(reverse("admin:index")).content.decode()
    assert 'class="app-work-system' in html
    for internal in INTERNALS:
        assert internal in html


def test_groups_come_in_the_order_of_the_work(verified_client, finance_a):
    html = verified_client(finance_a).get(reverse("admin:index")).content.decode()
    positions = [html.index(f'class="app-work-{slug}') for slug in ("influencers", "orders", "payouts")]
    assert positions == sorted(positions)


def test_a_group_has_its_own_page_and_system_is_not_for_managers(verified_client, manager_a, superuser):
    client = verified_client(manager_a)
    page = client.get(reverse("admin:work_group", args=["payouts"]))
    assert page.status_code == 200
    assert "Withdrawals" in page.content.decode()
    assert client.get(reverse("admin:work_group", args=["system"])).status_code == 404
    assert client.get(reverse("admin:work_group", args=["nothing"])).status_code == 404
    assert verified_client(superuser).get(reverse("admin:work_group", args=["system"])).status_code == 200


def test_infrastructure_models_are_placed_under_system():
    labels = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    for label in ["otp_totp.totpdevice", "sites.site", "django_celery_beat.periodictask", "payments.ledgerentry"]:
        assert label in labels
        assert group_of(*label.split(".")) is SYSTEM
    assert group_of("payments", "withdrawal") is not SYSTEM
    assert group_of("some_new_library", "thing") is SYSTEM  # nothing unplaced reaches managers


def test_the_admin_header_has_a_language_switcher_that_works(verified_client, manager_a):
    client = verified_client(manager_a)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'class="language-switcher"' in html
    response = client.post(reverse("set_language"), {"language": "es", "next": reverse("admin:index")})
    assert response.status_code == 302
    spanish = client.get(reverse("admin:index")).content.decode()
    assert "Pagos a influencers" in spanish or "Retiros" in spanish
    assert '<html lang="es"' in spanish


def test_a_refused_action_is_a_translated_page_with_a_way_back(verified_client, manager_a, settings):
    client = verified_client(manager_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    came_from = "http://testserver" + reverse("admin:payments_withdrawal_changelist")
    response = client.post(
        reverse("admin:payments_withdrawal_approve", args=[1]), headers={"referer": came_from, "accept-language": "es"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="refusal"' in html
    assert "No puedes hacer esto" in html
    assert f'href="{came_from}"' in html
    assert 'id="header"' in html  # in the back office's frame


def test_a_refusal_outside_the_back_office_has_the_site_look(client, settings):
    request = client.get("/").wsgi_request
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert b'data-testid="refusal"' in response.content


def test_today_shows_each_person_the_queues_they_work(verified_client, manager_a, finance_a, viewer_a):
    manager = verified_client(manager_a).get(reverse("admin:index")).content.decode()
    finance = verified_client(finance_a).get(reverse("admin:index")).content.decode()
    viewer = verified_client(viewer_a).get(reverse("admin:index")).content.decode()
    assert 'data-testid="queue-applications"' in manager
    assert 'data-testid="queue-fraud"' in manager
    assert 'data-testid="queue-approve"' not in manager
    assert 'data-testid="queue-approve"' in finance
    assert 'data-testid="queue-pay"' in finance
    assert 'data-testid="queue-applications"' not in finance
    assert 'data-testid="queue-' not in viewer  # a viewer decides nothing


# --- Operator jobs ----------------------------------------------------------------------------


def test_a_manager_rebuilds_a_period_of_reports_and_watches_it_finish(verified_client, manager_a, brand_a):
    client = verified_client(manager_a)
    today = timezone.localdate()
    response = _run(
        client,
        kind="rollups_rebuild",
        brand=brand_a.pk,
        date_from=(today - timedelta(days=9)).isoformat(),
        date_to=today.isoformat(),
    )
    job = OperatorJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:backoffice_operatorjob_progress", args=[job.pk])
    assert (job.status, job.percent, job.progress_done, job.progress_total) == ("done", 100, 10, 10)
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="job-result"' in page
    assert "Reports rebuilt from" in page
    assert "hx-trigger" not in page  # finished: no more polling
    actions = list(AuditEvent.objects.filter(target_id=str(job.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["backoffice.job_finished", "backoffice.job_started"]


def test_finance_verifies_the_ledger_of_its_brand(verified_client, finance_a, brand_a):
    response = _run(verified_client(finance_a), kind="ledger_verify", brand=brand_a.pk)
    assert response.status_code == 302
    job = OperatorJob.objects.get()
    assert job.status == "done"
    assert job.result[0]["text"] == "The ledger balances: every invariant holds."


def test_a_job_someone_may_not_run_is_not_offered_and_not_started(verified_client, manager_a, finance_a, brand_a):
    manager = verified_client(manager_a)
    form = manager.get(reverse("admin:backoffice_operatorjob_run")).content.decode()
    assert 'value="ledger_verify"' not in form
    assert 'value="rollups_rebuild"' in form
    response = _run(manager, kind="ledger_verify", brand=brand_a.pk)
    assert response.status_code == 400
    finance_form = verified_client(finance_a).get(reverse("admin:backoffice_operatorjob_run")).content.decode()
    assert 'value="hook_check"' not in finance_form
    assert not OperatorJob.objects.exists()


def test_a_job_for_another_brand_is_refused(verified_client, manager_a, brand_b):
    response = _run(verified_client(manager_a), kind="hook_check", brand=brand_b.pk)
    assert response.status_code == 400
    assert not OperatorJob.objects.exists()


def test_checking_a_hook_never_registered_says_so(verified_client, manager_a, brand_a):
    client = verified_client(manager_a)
    _run(client, kind="hook_check", brand=brand_a.pk)
    job = OperatorJob.objects.get()
    assert job.status == "done"
    texts = [line["text"] for line in job.result]
    assert texts == [
        "No hook is registered for this brand yet: register it first.",
        "No notification received from VTEX yet.",
    ]


def test_another_brands_job_page_is_404(verified_client, manager_a, manager_b, brand_a):
    _run(verified_client(manager_a), kind="hook_check", brand=brand_a.pk)
    job = OperatorJob.objects.get()
    other = verified_client(manager_b)
    assert other.get(reverse("admin:backoffice_operatorjob_progress", args=[job.pk])).status_code == 404


# --- Discrepancies ----------------------------------------------------------------------------


@pytest.fixture
def discrepancies(brand_a: Any) -> list[Discrepancy]:
    run = ReconciliationRun.objects.create(
        brand=brand_a, day=date(2024, 2, 4), status="done", started_at=timezone.now(), trigger="manual"
    )
    return [
        Discrepancy.objects.create(run=run, vtex_order_id="1-01", kind="status", resolved=False, note="check in VTEX"),
        Discrepancy.objects.create(run=run, vtex_order_id="2-01", kind="missing", resolved=True, note="reconciled"),
    ]


def test_a_manager_marks_a_discrepancy_handled_with_a_note(verified_client, manager_a, discrepancies):
    client = verified_client(manager_a)
    url = reverse("admin:orders_discrepancy_changelist")
    ids = [d.pk for d in discrepancies]
    confirm = client.post(url, {"action": "mark_handled", "_selected_action": ids})
    assert confirm.status_code == 200
    assert "1-01" in confirm.content.decode()
    done = client.post(url, {"action": "mark_handled", "_selected_action": ids, "note": "Cancelled in VTEX by support"})
    assert done.status_code == 302
    first, second = (Discrepancy.objects.get(pk=pk) for pk in ids)
    assert (first.resolved, first.note, first.resolved_by_id) == (True, "Cancelled in VTEX by support", manager_a.pk)
    assert first.resolved_at is not None
    # The one a re-sync fixed keeps its note and nobody's name.
    assert (second.note, second.resolved_by_id) == ("reconciled", None)
    event = AuditEvent.objects.get(action="orders.discrepancy_handled")
    assert event.target_id == str(first.pk)


def test_a_viewer_cannot_mark_discrepancies(verified_client, viewer_a, discrepancies):
    client = verified_client(viewer_a)
    url = reverse("admin:orders_discrepancy_changelist")
    assert 'value="mark_handled"' not in client.get(url).content.decode()
    client.post(url, {"action": "mark_handled", "_selected_action": [discrepancies[0].pk], "note": "x"})
    assert Discrepancy.objects.get(pk=discrepancies[0].pk).resolved is False
    assert not AuditEvent.objects.filter(action="orders.discrepancy_handled").exists()


def test_an_empty_note_is_refused(verified_client, manager_a, discrepancies):
    client = verified_client(manager_a)
    url = reverse("admin:orders_discrepancy_changelist")
    response = client.post(url, {"action": "mark_handled", "_selected_action": [discrepancies[0].pk], "note": " "})
    assert response.status_code == 200
    assert Discrepancy.objects.get(pk=discrepancies[0].pk).resolved is False
