"""Admin exports: core's action publishes what was downloaded (audit records it) and hands large
selections to the starter reports registered, without importing either app."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from campaigns.models import Campaign
from core import admin_exports
from reports.exports import export_job_start_for_admin
from reports.models import ExportJob
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _export(client, fmt="csv"):
    return client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": f"export_{fmt}", "_selected_action": list(Campaign.objects.values_list("pk", flat=True))},
    )


def test_reports_registers_its_export_jobs_as_the_large_export_starter():
    assert admin_exports.large_export_starter() is export_job_start_for_admin


def test_a_small_export_is_downloaded_and_audited_through_the_event(verified_client, manager_a, brand_a):
    CampaignFactory(brand=brand_a, name="Verano A")
    CampaignFactory(brand=brand_a, name="Otoño A")
    response = _export(verified_client(manager_a), "json")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="export.downloaded")
    assert event.actor_id == manager_a.pk
    assert event.after == {"model": "campaign", "format": "json", "rows": 2}
    assert not ExportJob.objects.exists()


def test_a_selection_past_the_limit_becomes_an_export_job(verified_client, manager_a, brand_a, monkeypatch):
    CampaignFactory(brand=brand_a, name="Verano A")
    CampaignFactory(brand=brand_a, name="Otoño A")
    monkeypatch.setattr(admin_exports, "SYNC_EXPORT_MAX_ROWS", 1)
    response = _export(verified_client(manager_a))
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_exportjob_progress", args=[job.pk])
    assert job.params["model"] == "campaigns.campaign"
    assert len(job.params["pks"]) == 2
    # Nothing was downloaded yet, so nothing is on the record as downloaded.
    assert not AuditEvent.objects.filter(action="export.downloaded").exists()


def test_without_a_registered_starter_a_large_selection_is_exported_here(
    verified_client, manager_a, brand_a, monkeypatch
):
    CampaignFactory(brand=brand_a, name="Verano A")
    CampaignFactory(brand=brand_a, name="Otoño A")
    monkeypatch.setattr(admin_exports, "SYNC_EXPORT_MAX_ROWS", 1)
    monkeypatch.setattr(admin_exports, "_large_export", [])
    response = _export(verified_client(manager_a))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Verano A" in body
    assert "Otoño A" in body
    assert not ExportJob.objects.exists()
