"""Alerts that page someone: the Prometheus rules load and pass their unit tests (promtool), every
metric they read is one /metrics really exports, their thresholds are the ones the admin's health
panel applies, and the health probes read the database and the broker right."""

import importlib
import json
import os
import re
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from django.urls import reverse
from django.utils import timezone
from kombu import Connection

from audit.services import audit_record
from audit.tasks import audit_verify_chain_task
from codes.models import Code
from config.celery import app
from core import health
from core.health import Gauge, health_report
from core.integrity import AUDIT_CHAIN, LEDGER, integrity_check_record
from core.models import IntegrityCheck
from orders.models import HookEvent, HookRegistration, ReconciliationRun
from payments.tasks import ledger_verify_task
from tests.factories import BrandFactory, CampaignFactory, InfluencerFactory
from webhooks.models import WebhookEndpoint

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "compose" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "compose" / "prometheus" / "alerts_test.yml"
ALERTMANAGER = ROOT / "compose" / "alertmanager" / "alertmanager.yml"
REQUIRE = os.environ.get("MGM_REQUIRE_SERVICES") == "1"


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        if REQUIRE:
            pytest.fail(f"CI must run this: {name} is missing (apt-get install {package})")
        pytest.skip(f"needs {name} (Debian package {package})")
    return path


def _rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


# --- The rules themselves ------------------------------------------------------------------------


def test_promtool_loads_the_rules():
    result = subprocess.run(  # noqa: S603 - promtool/amtool from PATH, our own files
        [_tool("promtool", "prometheus"), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_promtool_unit_tests_of_the_key_rules_pass():
    result = subprocess.run(  # noqa: S603 - promtool/amtool from PATH, our own files
        [_tool("promtool", "prometheus"), "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=RULE_TESTS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    must_be_tested = {
        "VTEXHookSilent",
        "VTEXHookLost",
        "VTEXHookRestored",
        "VTEXHookRejected",
        "ReconciliationDayFailed",
        "CouponSyncFailing",
        "LedgerBroken",
        "IntegrityCheckNotRunning",
        "CeleryQueueBacklog",
        "CeleryQueueStale",
        "WebhookDeliveriesFailing",
        "HighServerErrorRate",
    }
    assert must_be_tested <= tested, must_be_tested - tested


def test_a_rule_test_that_expects_the_wrong_thing_fails(tmp_path):
    """The promtool run above can fail: the same tests with one expectation changed do."""
    promtool = _tool("promtool", "prometheus")
    shutil.copy(RULES, tmp_path / "alerts.yml")
    broken = RULE_TESTS.read_text().replace("6h 12m 0s", "6h 13m 0s")
    (tmp_path / "alerts_test.yml").write_text(broken)
    result = subprocess.run(  # noqa: S603 - promtool/amtool from PATH, our own files
        [promtool, "test", "rules", "alerts_test.yml"], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "VTEXHookSilent" in result.stdout + result.stderr


def test_alertmanager_config_is_valid_and_routes_every_severity_to_email():
    config = yaml.safe_load(ALERTMANAGER.read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    assert all(r.get("email_configs") for r in receivers.values())
    assert config["global"]["smtp_smarthost"] == "mailpit:1025"
    severities = {rule["labels"]["severity"] for rule in _rules()}
    routed = {m.split("=")[1].strip('"') for route in config["route"]["routes"] for m in route["matchers"]}
    assert severities <= routed
    amtool = shutil.which("amtool")
    if amtool:  # Debian's prometheus-alertmanager
        result = subprocess.run(  # noqa: S603 - promtool/amtool from PATH, our own files
            [amtool, "check-config", str(ALERTMANAGER)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_thresholds_of_the_rules_are_the_health_panels():
    """Each rule names the Python constant (or gauge) the health panel judges with; a change
    on one side without the other fails here."""

    scale = {"HOOK_SILENCE_HOURS": 3600}
    checked = 0
    for rule in _rules():
        source = rule.get("annotations", {}).get("threshold_source")
        if not source:
            continue
        module, name = source.rsplit(".", 1)
        value = getattr(importlib.import_module(module), name)
        if isinstance(value, Gauge):
            assert value.name in rule["expr"], f"{rule['alert']} does not read {value.name}"
        else:
            numbers = [eval(n, {}) for n in re.findall(r"[<>]=?\s*([\d.]+(?:\s*\*\s*[\d.]+)?)", rule["expr"])]  # noqa: S307
            wanted = value * scale.get(name, 1)
            if name == "RECONCILIATION_LOOKBACK_DAYS":
                continue  # a look-back window, not a threshold: the gauge applies it
            assert wanted in numbers, f"{rule['alert']}: {numbers} vs {source} = {wanted}"
        checked += 1
    assert checked >= 12


# --- The metrics the rules read ------------------------------------------------------------------


@pytest.fixture
def unhealthy(db: None, settings: Any) -> Any:
    """A brand in every kind of trouble the alerts watch."""
    settings.HEALTH_CACHE_SECONDS = 0
    now = timezone.now()
    brand = BrandFactory(slug="busy")
    HookRegistration.objects.create(
        brand=brand,
        url="https://mgm.example/hook",
        configured_at=now - timedelta(days=30),
        last_checked_at=now - timedelta(hours=3),
        last_check_result="restored",
        restored_count=2,
    )
    for n in range(40):  # a store that sends notifications all day...
        HookEvent.objects.create(
            brand=brand,
            vtex_order_id=f"v{n}-01",
            state="payment-approved",
            change_key=str(n),
            payload={},
            received_at=now - timedelta(hours=8, minutes=n * 30),
            status=HookEvent.Status.PROCESSED,
        )
    HookEvent.objects.create(  # ...went silent 8 hours ago, and one of its last failed
        brand=brand,
        vtex_order_id="v99-01",
        state="invoiced",
        change_key="99",
        payload={},
        received_at=now - timedelta(hours=9),
        status=HookEvent.Status.FAILED,
    )
    quiet = BrandFactory(slug="quiet")  # sells twice a week: silence is normal
    HookRegistration.objects.create(brand=quiet, url="https://mgm.example/q", configured_at=now - timedelta(days=30))
    for day in (2, 5):
        HookEvent.objects.create(
            brand=quiet,
            vtex_order_id=f"q{day}",
            state="invoiced",
            change_key="1",
            payload={},
            received_at=now - timedelta(days=day),
            status=HookEvent.Status.PROCESSED,
        )
    lost = BrandFactory(slug="lost")
    HookRegistration.objects.create(
        brand=lost, url="https://mgm.example/l", last_check_result="error", last_error="401 Unauthorized"
    )
    ReconciliationRun.objects.create(
        brand=brand, day=timezone.localdate() - timedelta(days=1), status="failed", started_at=now, error="VTEX 503"
    )
    campaign = CampaignFactory(brand=brand)
    Code.objects.create(
        brand=brand,
        campaign=campaign,
        influencer=InfluencerFactory(),
        text="ANA10",
        sync_status=Code.SyncStatus.FAILED,
        last_sync_error="VTEX 400",
    )
    WebhookEndpoint.objects.create(brand=brand, url="https://erp.example/hooks", secret="s", failing_since=now)
    integrity_check_record(name=LEDGER, problems=["transaction 7 does not balance (net 100, 2 legs)"])
    integrity_check_record(name=AUDIT_CHAIN, problems=[])
    return brand


def _metrics(client: Any, settings: Any) -> str:
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    client.get("/healthz")  # so django_http_* series exist
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")) and all(
            f'{key}="{value}"' in line for key, value in labels.items()
        ):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{labels} not exported")


def test_every_metric_the_rules_read_is_exported(unhealthy, client, settings):
    text = _metrics(client, settings)
    exported = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    # A labelled counter nobody incremented yet in this process is declared, with no sample.
    for kind_line in re.findall(r"^# TYPE (\S+) counter$", text, flags=re.MULTILINE):
        exported |= {kind_line, f"{kind_line.removesuffix('_total')}_total"}
    used = set()
    for rule in _rules():
        used |= set(re.findall(r"\b((?:mgm|django)_[a-z0-9_]+)", rule["expr"]))
    # Celery queue gauges need the Redis broker (their own test below); the rest are here.
    missing = {name for name in used - exported if not name.startswith("mgm_celery_")}
    assert not missing, f"rules read metrics /metrics does not export: {sorted(missing)}"


def test_metrics_say_what_the_database_holds(unhealthy, client, settings):
    text = _metrics(client, settings)
    assert _sample(text, "mgm_vtex_hook_silence_seconds", brand="busy") >= 8 * 3600
    assert _sample(text, "mgm_vtex_hooks_expected", brand="busy") == 1
    assert _sample(text, "mgm_vtex_hooks_expected", brand="quiet") == 0
    assert _sample(text, "mgm_vtex_hook_registered", brand="lost") == 0
    assert _sample(text, "mgm_vtex_hook_registered", brand="busy") == 1
    assert _sample(text, "mgm_vtex_hook_restored_total", brand="busy") == 2
    assert _sample(text, "mgm_vtex_hook_events_failed", brand="busy") == 1
    assert _sample(text, "mgm_reconciliation_failed_days", brand="busy") == 1
    assert _sample(text, "mgm_coupon_sync_failed", brand="busy") == 1
    assert _sample(text, "mgm_webhook_endpoints_failing", brand="busy") == 1
    assert _sample(text, "mgm_integrity_check_ok", check="ledger") == 0
    assert _sample(text, "mgm_integrity_check_ok", check="audit_chain") == 1
    assert _sample(text, "mgm_health_probe_up", probe="orders") == 1


def test_a_reconciliation_day_redone_successfully_no_longer_counts(unhealthy, client, settings):
    ReconciliationRun.objects.create(
        brand=unhealthy, day=timezone.localdate() - timedelta(days=1), status="done", started_at=timezone.now()
    )
    assert _sample(_metrics(client, settings), "mgm_reconciliation_failed_days", brand="busy") == 0


def test_the_health_panel_shows_the_same_conditions_to_superusers_only(
    unhealthy, verified_client, superuser, manager_a
):
    report = health_report(fresh=True)
    alerts = {(f.alert, f.subject) for f in report.problems()}
    assert {
        ("VTEXHookSilent", "busy"),
        ("VTEXHookLost", "lost"),
        ("VTEXHookEventsFailed", "busy"),
        ("ReconciliationDayFailed", "busy"),
        ("CouponSyncFailing", "busy"),
        ("WebhookDeliveriesFailing", "busy"),
        ("LedgerBroken", LEDGER),
    } <= alerts
    assert ("VTEXHookSilent", "quiet") not in alerts
    assert not [f for f in report.problems() if f.subject == AUDIT_CHAIN]

    html = verified_client(superuser).get(reverse("admin:index")).content.decode()
    assert 'id="health-panel"' in html
    assert 'data-alert="VTEXHookSilent"' in html
    assert 'data-alert="LedgerBroken"' in html
    assert "transaction 7 does not balance" in html

    staff_html = verified_client(manager_a).get(reverse("admin:index")).content.decode()
    assert 'id="health-panel"' not in staff_html


def test_the_health_panel_says_all_is_well_when_it_is(db, verified_client, superuser, settings):
    settings.HEALTH_CACHE_SECONDS = 0
    for name in (LEDGER, AUDIT_CHAIN, "audit_exports"):
        integrity_check_record(name=name, problems=[])
    html = verified_client(superuser).get(reverse("admin:index")).content.decode()
    assert 'data-testid="health-ok"' in html
    assert "data-alert=" not in html


@pytest.mark.parametrize("language", ["es", "pt-br"])
def test_the_health_panel_speaks_the_staff_members_language(unhealthy, verified_client, superuser, language):
    client = verified_client(superuser)
    client.cookies["django_language"] = language
    html = client.get(reverse("admin:index"), headers={"accept-language": language}).content.decode()
    expected = {"es": "Salud de la plataforma", "pt-br": "Saúde da plataforma"}[language]
    assert expected in html


def test_a_probe_that_raises_is_reported_and_does_not_hide_the_others(unhealthy, monkeypatch):
    def broken() -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(health._probes, "broken", broken)
    report = health_report(fresh=True)
    assert report.failed_probes == ["broken"]
    assert report.state == health.State.CRITICAL
    assert ("VTEXHookSilent", "busy") in {(f.alert, f.subject) for f in report.findings}


# --- The Celery queue, read from a real Redis broker ---------------------------------------------


@pytest.mark.redis
def test_queue_length_and_age_come_from_the_broker(db, settings):
    url = settings.REDIS_URL
    settings.HEALTH_BROKER_URL = url
    settings.HEALTH_CACHE_SECONDS = 0
    client = redis.Redis.from_url(url)
    client.delete("default")
    try:
        with Connection(url) as connection:
            for _ in range(3):
                app.send_task("core.tests.noop", connection=connection)
        raw = client.lindex("default", -1)
        published = json.loads(raw)["headers"]["mgm_published_at"]
        assert abs(published - time.time()) < 60
        # Make the oldest message twenty minutes old, as a stopped worker would leave it.
        message = json.loads(raw)
        message["headers"]["mgm_published_at"] = time.time() - 1200
        client.lset("default", -1, json.dumps(message))

        report = health_report(fresh=True)
        values = {(r.gauge.name, r.labels): r.value for r in report.readings}
        assert values[("mgm_celery_queue_length", ("default",))] == 3
        assert values[("mgm_celery_queue_oldest_age_seconds", ("default",))] >= 1200
        assert "CeleryQueueStale" in {f.alert for f in report.findings}
        assert "CeleryQueueBacklog" not in {f.alert for f in report.findings}
    finally:
        client.delete("default")


# --- Integrity checks are recorded by the scheduled runs -----------------------------------------


def test_the_daily_ledger_and_audit_runs_record_their_outcome(db, brand_a):
    audit_record(action="test.event", target=brand_a, brand_id=brand_a.pk, after={})
    assert ledger_verify_task() == 0
    audit_verify_chain_task()
    checks = {c.name: c for c in IntegrityCheck.objects.all()}
    assert [checks[name].ok for name in (LEDGER, AUDIT_CHAIN, "audit_exports")] == [True, True, True]
    assert timezone.now() - checks[LEDGER].checked_at < timedelta(minutes=1)
