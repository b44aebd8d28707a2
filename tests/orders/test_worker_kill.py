"""A worker that dies loses no time: a real Celery worker process (solo pool, Redis broker,
PostgreSQL) drains 30 accepted VTEX notifications in small batches, is killed with SIGKILL
halfway, and a new worker is started (its start-up sweep requeues what the dead one held). Every accepted event must be processed within two minutes of the restart,
and nothing doubled (orders, commissions, ledger postings). The figures are written to
test-artifacts/kill-test.txt."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client

from commissions.models import Commission
from config.celery import app
from orders import tasks as order_tasks
from orders.models import HookEvent, Order
from payments.models import LedgerTransaction
from payments.selectors import ledger_verify
from tests.orders.conftest import hook_payload, order_doc

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
URL = "/api/v1/webhooks/vtex/acme/orders/"
EVENTS = 30
KILL_AFTER = 8


def _start_worker(log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    handle = log.open("ab")
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait(predicate: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _processed() -> int:
    return HookEvent.objects.filter(status=HookEvent.Status.PROCESSED).count()


def _stop(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is None or worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=5)


def test_a_killed_worker_loses_no_event_and_doubles_none(setup, fake_oms, monkeypatch, tmp_path):
    broker_url = settings.REDIS_URL

    redis.Redis.from_url(broker_url).flushdb()
    for index in range(EVENTS):
        fake_oms.add_order(order_doc(order_id=f"14154617497{index:02d}-01"))
    # Each Get order takes a moment, so the kill lands while events are in flight.
    fake_oms.delay_next(EVENTS * 3, 0.4, path_contains="/orders/")

    # The web process queues to the real broker (the test settings run tasks in-process).
    connection_for_broker = app.connection_for_write(broker_url)

    def delay(**kwargs: Any) -> Any:
        return app.send_task("orders.tasks.hook_events_process_task", kwargs=kwargs, connection=connection_for_broker)

    # The hook asks for a drain after each notification (orders.drain); it goes to the worker.
    monkeypatch.setattr(order_tasks.hook_events_process_task, "delay", delay)

    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.orders.kill_worker_settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "KILL_TEST_BROKER_URL": broker_url,
        "KILL_TEST_VTEX_URL": fake_oms.url,
        "PYTEST_XDIST_WORKER": "",
    }
    log = tmp_path / "worker.log"
    first = second = None
    try:
        first = _start_worker(log, env)
        _wait(lambda: b"ready." in log.read_bytes(), 90, "the first worker to start")

        token = setup["brand"].hook_token
        client = Client()
        for index in range(EVENTS):
            body = json.dumps(hook_payload(order_id=f"14154617497{index:02d}-01"))
            response = client.post(URL, data=body, content_type="application/json", HTTP_X_HOOK_TOKEN=token)
            assert response.status_code == 200
        assert HookEvent.objects.count() == EVENTS  # accepted

        _wait(lambda: _processed() >= KILL_AFTER, 90, f"{KILL_AFTER} events processed")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = _processed()
        in_flight = HookEvent.objects.filter(status=HookEvent.Status.PENDING, attempts__gt=0).count()
        assert at_kill < EVENTS, "the worker finished before it was killed; nothing was proven"

        restarted = time.monotonic()
        second = _start_worker(log, env)
        _wait(lambda: _processed() == EVENTS, 150, "every accepted event processed after the restart")
        after_restart = time.monotonic() - restarted
    finally:
        _stop(first)
        _stop(second)
        connection_for_broker.release()

    retried = HookEvent.objects.filter(attempts__gt=1).count()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "kill-test.txt").write_text(
        f"events accepted: {EVENTS}\nprocessed when SIGKILL landed: {at_kill}\n"
        f"claimed by the killed worker (in flight): {in_flight}\n"
        f"all processed {after_restart:.1f} s after the restart\nevents attempted twice: {retried}\n"
        f"load average: {os.getloadavg()}\n"
    )
    sys.stdout.write((ARTIFACTS / "kill-test.txt").read_text())  # shown with -s and in CI logs
    assert after_restart < 120
    # Nothing doubled: one order per event, three commissions and three accruals per order.
    assert Order.objects.count() == EVENTS
    assert Commission.objects.count() == 3 * EVENTS
    assert LedgerTransaction.objects.filter(kind="accrue").count() == 3 * EVENTS
    assert LedgerTransaction.objects.count() == 3 * EVENTS
    assert ledger_verify() == []
