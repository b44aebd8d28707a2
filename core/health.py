"""Operational health: the signals that page someone, computed once for Prometheus and the admin.

Each app knows what "unhealthy" means for its own data (orders: a silent VTEX hook; codes: coupons
that do not sync...). It registers a *probe* here from its `AppConfig.ready()`; core imports no
app. A probe reads the database (or the broker) and returns `Reading`s, the numbers exported as
Prometheus gauges at `/metrics`, and `Finding`s, the same numbers judged against the same
thresholds the alert rules use (`compose/prometheus/alerts.yml`), which the admin shows
superusers as the "health" panel. A test keeps each threshold and its alert rule in agreement.

Probes run when Prometheus scrapes (every 15 s per web process), so their results are cached for
`HEALTH_CACHE_SECONDS` in the shared cache: a scrape costs a handful of indexed queries at most
twice a minute, whatever the number of web processes.
"""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import prometheus_client
from django.conf import settings
from django.core.cache import cache
from django.utils.functional import Promise
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger(__name__)

CACHE_KEY = "core:health:v1"
# Header config.celery stamps on every task message with the time it was sent (Unix seconds).
PUBLISHED_AT_HEADER = "mgm_published_at"


class State(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Gauge:
    """A metric a probe exports. `kind` "counter" for values that only grow (Prometheus's
    `increase()` then works across restarts of the web process, because the value lives in the
    database, not in the process)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    kind: str = "gauge"


@dataclass(frozen=True)
class Reading:
    gauge: Gauge
    value: float
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One line of the health panel. `alert` names the Prometheus alert that fires on the same
    condition, so a person who got paged finds the matching line."""

    title: str | Promise
    state: State
    detail: str | Promise
    alert: str
    subject: str = ""  # a brand slug, a queue, a check name


@dataclass
class ProbeResult:
    readings: list[Reading] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def read(self, gauge: Gauge, value: float, *labels: str) -> None:
        self.readings.append(Reading(gauge, float(value), tuple(labels)))

    def find(self, finding: Finding) -> None:
        self.findings.append(finding)


Probe = Callable[[], ProbeResult]
_probes: dict[str, Probe] = {}


def probe_register(name: str, probe: Probe) -> None:
    """Register `probe` under `name` (idempotent: `ready()` may run more than once in tests)."""
    _probes[name] = probe


def probes() -> dict[str, Probe]:
    return dict(_probes)


@dataclass
class HealthReport:
    readings: list[Reading]
    findings: list[Finding]
    failed_probes: list[str]
    taken_at: float

    @property
    def state(self) -> State:
        states = {f.state for f in self.findings}
        if State.CRITICAL in states or self.failed_probes:
            return State.CRITICAL
        return State.WARNING if State.WARNING in states else State.OK

    def problems(self) -> list[Finding]:
        order = {State.CRITICAL: 0, State.WARNING: 1, State.OK: 2}
        return sorted((f for f in self.findings if f.state != State.OK), key=lambda f: order[f.state])


PROBE_FAILED = Gauge("mgm_health_probe_up", "1 when the health probe ran, 0 when it raised", ("probe",))


def health_report(*, fresh: bool = False) -> HealthReport:
    """Every probe's readings and findings, from the cache unless `fresh` or older than
    HEALTH_CACHE_SECONDS. A probe that raises is reported (`mgm_health_probe_up` 0), never
    hides the others."""
    if not fresh:
        cached = cache.get(CACHE_KEY)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
    readings: list[Reading] = []
    findings: list[Finding] = []
    failed: list[str] = []
    for name, probe in sorted(_probes.items()):
        try:
            result = probe()
        except Exception:
            logger.exception("health probe %s failed", name)
            failed.append(name)
            readings.append(Reading(PROBE_FAILED, 0.0, (name,)))
            continue
        readings.append(Reading(PROBE_FAILED, 1.0, (name,)))
        readings.extend(result.readings)
        findings.extend(result.findings)
    report = HealthReport(readings=readings, findings=findings, failed_probes=failed, taken_at=time.time())
    cache.set(CACHE_KEY, report, getattr(settings, "HEALTH_CACHE_SECONDS", 30))
    return report


class HealthCollector:
    """A prometheus_client collector over `health_report()`: each gauge once, with all its
    label sets."""

    def describe(self) -> list[Any]:
        # Registering must not run the probes (no database at import time).
        return []

    def collect(self) -> Iterator[Any]:
        report = health_report()
        families: dict[str, Any] = {}
        for reading in report.readings:
            gauge = reading.gauge
            family = families.get(gauge.name)
            if family is None:
                if gauge.kind == "counter":
                    family = CounterMetricFamily(gauge.name.removesuffix("_total"), gauge.help, labels=gauge.labels)
                else:
                    family = GaugeMetricFamily(gauge.name, gauge.help, labels=gauge.labels)
                families[gauge.name] = family
            family.add_metric(list(reading.labels), reading.value)
        yield from families.values()


_registered = False


def collector_register() -> None:
    """Add the health gauges to the process registry once (from CoreConfig.ready)."""
    global _registered
    if _registered:
        return

    prometheus_client.REGISTRY.register(HealthCollector())  # type: ignore[arg-type]
    _registered = True
