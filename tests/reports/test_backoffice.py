import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core import mail
from django.utils import translation
from openpyxl import load_workbook

from affiliates.models import Membership
from brands.models import StaffBrandAccess
from core.errors import PermissionRefused
from core.exports import csv_bytes, export_bytes
from orders.services import order_apply
from portal.selectors import Period, portal_dashboard
from reports.exports import export_download_token, export_job_create, export_job_run
from reports.models import ExportJob, ReportDelivery, SavedReport, ScheduledReport
from reports.services import (
    ScheduleInvalid,
    saved_report_save,
    scheduled_report_create,
    scheduled_report_send,
    scheduled_reports_due,
)
from tests.factories import StaffFactory
from tests.reports.conftest import order_doc, store_clicks

pytestmark = pytest.mark.django_db

SPEC = {
    "date_from": "2024-02-01",
    "date_to": "2024-02-29",
    "dimensions": ["influencer"],
    "metrics": ["clicks", "orders"],
}


@pytest.fixture
def facts(setup: dict[str, Any], link_maria: Any, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    with django_capture_on_commit_callbacks(execute=True):
        store_clicks(
            brand=setup["brand"],
            campaign=setup["campaign"],
            influencer=setup["influencer"],
            link=link_maria,
            moments=[("2024-02-04T15:00:00+00:00", "v1", True)],
        )
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=setup["brand"], data=order_doc(), source="t")
    return setup


def test_csv_injection_cells_are_neutralised_and_files_open_cleanly() -> None:
    header = ["name", "amount"]
    rows = [['=HYPERLINK("http://x")', -5], ["+1", 3], ["-2+3", 0], ["@SUM(A1)", 1], ["\tx", 1], ["\rx", 1], ["ok", 2]]
    text = csv_bytes(header, rows).decode("utf-8")
    assert text.startswith("\ufeffname,amount\r\n")

    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert [row[0] for row in parsed[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok",
    ]
    assert parsed[1][1] == "-5"  # numbers stay numbers
    assert json.loads(export_bytes("json", header, rows))[0] == {"name": '=HYPERLINK("http://x")', "amount": -5}

    sheet = load_workbook(io.BytesIO(export_bytes("xlsx", header, rows))).active
    assert sheet is not None
    assert sheet["A2"].value == '\'=HYPERLINK("http://x")'
    assert sheet["B2"].value == -5


def test_the_manager_dashboard_shows_kpis_chart_counters_and_live_panel(
    facts: dict[str, Any], manager_a: Any, verified_client: Any, brand_b: Any
) -> None:
    client = verified_client(manager_a)
    response = client.get("/admin/?period=30")
    assert response.status_code == 200
    html = response.content.decode()
    for marker in (
        'data-testid="dashboard-chart"',
        'data-testid="kpi-revenue"',
        'data-testid="counter-pending_applications"',
        'hx-trigger="every 30s"',
        'data-testid="pending-applications"',
    ):
        assert marker in html
    assert "Globex" not in html
    live = client.get("/admin/reports/live/", HTTP_HX_REQUEST="true")
    assert live.status_code == 200
    assert b'id="live-panel"' in live.content
    # Another brand in the query string falls back to the manager's own.
    assert b"Globex" not in client.get(f"/admin/?brand={brand_b.pk}").content


def test_saved_reports_are_scoped_and_only_shared_ones_reach_colleagues(
    facts: dict[str, Any], manager_a: Any, manager_b: Any, verified_client: Any
) -> None:
    report = saved_report_save(user=manager_a, brand=facts["brand"], name="Feb", spec_data=SPEC)
    colleague = StaffFactory(email="colleague.a@example.com", role="Manager", brands=[facts["brand"]])
    url = f"/admin/reports/savedreport/{report.pk}/preview/"
    assert verified_client(manager_a).get(url).status_code == 200
    assert verified_client(manager_b).get(url).status_code == 404
    assert verified_client(colleague).get(url).status_code == 404
    saved_report_save(user=manager_a, brand=facts["brand"], name="Feb", spec_data=SPEC, is_shared=True, report=report)
    assert verified_client(colleague).get(url).status_code == 200
    # Another brand's manager cannot save into brand A; nothing is created.

    with pytest.raises(PermissionRefused):
        saved_report_save(user=manager_b, brand=facts["brand"], name="x", spec_data=SPEC)
    assert SavedReport.objects.count() == 1


def test_the_builder_previews_saves_and_exports(facts: dict[str, Any], manager_a: Any, verified_client: Any) -> None:
    client = verified_client(manager_a)
    query = (
        f"?brand={facts['brand'].pk}&date_from=2024-02-01&date_to=2024-02-29&dimensions=influencer"
        "&metrics=clicks&metrics=orders&attribution=recorded&limit=100&descending=on"
    )
    page = client.get("/admin/reports/savedreport/builder/" + query)
    assert page.status_code == 200
    assert b'data-testid="builder-table"' in page.content
    assert b"Maria" in page.content
    assert b'data-testid="builder-chart"' in page.content
    exported = client.get("/admin/reports/savedreport/builder/" + query + "&export=csv")
    assert exported["Content-Type"].startswith("text/csv")
    assert b"".join(exported.streaming_content if exported.streaming else [exported.content]).startswith(
        b"\xef\xbb\xbf"
    )
    data = {k: v for k, v in [p.split("=") for p in query[1:].split("&")] if k != "metrics"}
    saved = client.post(
        "/admin/reports/savedreport/builder/",
        {**data, "metrics": ["clicks", "orders"], "name": "Mine", "action": "save"},
    )
    assert saved.status_code == 302
    assert SavedReport.objects.get().spec["metrics"] == ["clicks", "orders"]


def test_a_large_export_runs_as_a_job_with_a_link_only_its_owner_can_use(
    facts: dict[str, Any], manager_a: Any, manager_b: Any, verified_client: Any, settings: Any, tmp_path: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    job = export_job_create(
        user=manager_a,
        source=ExportJob.Source.REPORT,
        fmt="csv",
        label="Feb",
        params={"brand_id": facts["brand"].pk, "spec": SPEC},
        brand=facts["brand"],
    )

    job = export_job_run(job_id=job.pk)
    assert job.status == ExportJob.Status.DONE
    assert job.percent == 100
    assert job.progress_total == 1
    token = export_download_token(job=job)
    owner = verified_client(manager_a)
    progress = owner.get(f"/admin/reports/exportjob/{job.pk}/progress/")
    assert b'data-testid="export-download"' in progress.content
    download = owner.get(f"/admin/reports/download/{token}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\xef\xbb\xbf")
    stranger = verified_client(manager_b)
    assert stranger.get(f"/admin/reports/download/{token}/").status_code == 404
    assert stranger.get(f"/admin/reports/exportjob/{job.pk}/progress/").status_code == 404
    assert owner.get(f"/admin/reports/download/{token}x/").status_code == 404
    settings.REPORTS_EXPORT_LINK_SECONDS = -1
    assert owner.get(f"/admin/reports/download/{token}/").status_code == 403


def test_a_job_for_a_brand_the_requester_lost_fails_without_a_file(facts: dict[str, Any], manager_b: Any) -> None:
    job = export_job_create(
        user=manager_b, source="report", fmt="json", label="x", params={"brand_id": facts["brand"].pk, "spec": SPEC}
    )
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportJob.Status.FAILED
    assert not job.file_name


def test_a_scheduled_report_is_emailed_once_per_period_with_the_file(facts: dict[str, Any], manager_a: Any) -> None:
    report = saved_report_save(user=manager_a, brand=facts["brand"], name="Weekly", spec_data=SPEC)
    schedule = scheduled_report_create(
        user=manager_a,
        report=report,
        fmt="xlsx",
        recipients="boss@example.com, ops@example.com",
        cadence="weekly",
        send_hour=7,
    )
    # Monday 2024-02-05 06:00 in Bogotá: not yet; 08:00: last week (2024-W05) is due.
    assert scheduled_reports_due(now=datetime(2024, 2, 5, 11, 0, tzinfo=UTC)) == []
    due = scheduled_reports_due(now=datetime(2024, 2, 5, 13, 0, tzinfo=UTC))
    assert due == [(schedule.pk, "2024-W05")]
    with translation.override("en"):
        delivery = scheduled_report_send(schedule_id=schedule.pk, period_key="2024-W05")
        again = scheduled_report_send(schedule_id=schedule.pk, period_key="2024-W05")
    assert delivery is not None
    assert delivery.status == ReportDelivery.Status.SENT
    assert delivery.rows == 1
    assert again is not None
    assert again.pk == delivery.pk
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["boss@example.com", "ops@example.com"]
    assert message.attachments[0][0].endswith("2024-W05.xlsx")
    assert scheduled_reports_due(now=datetime(2024, 2, 5, 13, 0, tzinfo=UTC)) == []
    assert ScheduledReport.objects.get().last_sent_period == "2024-W05"


def _colleague_schedule(facts: dict[str, Any], manager_a: Any) -> tuple[Any, Any, Any]:
    """A report of manager A, shared, scheduled by a colleague of the same brand."""
    report = saved_report_save(user=manager_a, brand=facts["brand"], name="Shared", spec_data=SPEC, is_shared=True)
    colleague = StaffFactory(email="colleague.a@example.com", role="Manager", brands=[facts["brand"]])
    schedule = scheduled_report_create(
        user=colleague, report=report, fmt="csv", recipients="ops@example.com", cadence="weekly"
    )
    return report, colleague, schedule


def _assert_refused_and_nothing_sent(schedule: Any) -> None:
    with translation.override("en"):
        delivery = scheduled_report_send(schedule_id=schedule.pk, period_key="2024-W05")
    assert delivery is not None
    assert delivery.status == ReportDelivery.Status.FAILED
    assert not delivery.sent_at
    assert mail.outbox == []
    assert ScheduledReport.objects.get(pk=schedule.pk).last_sent_period == ""


def test_a_colleagues_schedule_of_a_shared_report_is_sent(facts: dict[str, Any], manager_a: Any) -> None:
    _report, _colleague, schedule = _colleague_schedule(facts, manager_a)
    with translation.override("en"):
        delivery = scheduled_report_send(schedule_id=schedule.pk, period_key="2024-W05")
    assert delivery is not None
    assert delivery.status == ReportDelivery.Status.SENT
    assert len(mail.outbox) == 1


def test_a_schedule_stops_when_its_creator_loses_the_brand(facts: dict[str, Any], manager_a: Any) -> None:
    _report, colleague, schedule = _colleague_schedule(facts, manager_a)
    StaffBrandAccess.objects.filter(user=colleague).delete()
    _assert_refused_and_nothing_sent(schedule)


def test_a_schedule_stops_when_the_report_is_no_longer_shared(facts: dict[str, Any], manager_a: Any) -> None:
    report, _colleague, schedule = _colleague_schedule(facts, manager_a)
    saved_report_save(user=manager_a, brand=facts["brand"], name="Shared", spec_data=SPEC, report=report)
    assert not SavedReport.objects.get(pk=report.pk).is_shared
    _assert_refused_and_nothing_sent(schedule)


def test_a_schedule_whose_creator_was_deleted_is_not_sent(facts: dict[str, Any], manager_a: Any) -> None:
    _report, colleague, schedule = _colleague_schedule(facts, manager_a)
    colleague.delete()
    _assert_refused_and_nothing_sent(schedule)


def test_a_schedule_with_a_bad_recipient_is_refused_and_nothing_is_created(
    facts: dict[str, Any], manager_a: Any
) -> None:

    report = saved_report_save(user=manager_a, brand=facts["brand"], name="W", spec_data=SPEC)
    with pytest.raises(ScheduleInvalid):
        scheduled_report_create(user=manager_a, report=report, fmt="csv", recipients="not-an-email", cadence="daily")
    assert not ScheduledReport.objects.exists()


def test_the_portal_dashboard_shows_real_numbers(facts: dict[str, Any]) -> None:
    membership = Membership.objects.get(brand=facts["brand"], influencer=facts["influencer"])
    dashboard = portal_dashboard(
        membership=membership, period=Period(key="30d", label="x", start=date(2024, 2, 1), end=date(2024, 2, 29))
    )
    assert (dashboard.clicks, dashboard.orders) == (1, 1)
    assert dashboard.commissions.estimated_cents == 1191
    assert sum(p.orders for p in dashboard.series) == 1
    assert len(dashboard.series) == 29
