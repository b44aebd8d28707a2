"""Fault-injection simulation of the order pipeline (Hypothesis stateful; one seed drives every
choice). Real services: hook notifications stored by `hook_event_record`, processed in batches by
`hook_events_process_batch` against the fake VTEX over HTTP, payout cutoffs by
`payout_cutoff_run`. Faults: duplicated, reordered and forged notifications; VTEX answering 429
with Retry-After, 5xx and too slowly; orders that change (approved, invoiced, partial return,
item removed, canceled); a worker crash after any step of applying an order.

After every step: every ledger transaction balances; the influencer's money equals an independent
reference model computed from the orders' applied VTEX documents (10 % per line, banker's
rounding, units taken back); ledger entries are append-only (nothing posted or paid is edited);
every ledger reference posts once. At the end, after the faults stop and the queue drains, the
state equals an in-order run of the same VTEX histories on another brand.

Regression seeds: keep a failing example as an explicit test below (see `test_regression_*`).
"""

import copy
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F, Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

import orders.services.orders as order_steps
from campaigns.models import CommissionRule
from codes.models import Code
from commissions.models import Commission
from orders.models import HookEvent, Order
from orders.parsing import hook_parse
from orders.services import hook_event_record, hook_events_process_batch, order_apply
from payments.models import LedgerEntry, LedgerTransaction
from payments.services import payout_cutoff_run
from tests.factories import BrandFactory, CampaignFactory, InfluencerFactory, MembershipFactory
from tests.orders.conftest import COUPON, hook_payload, order_doc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ORDERS = ["5001-01", "5002-01", "5003-01"]
LINES = [(18, 2, 5922), (25, 1, 4491), (31, 1, 1500)]  # (sku, quantity, line total) of the sample
STEPS = [
    "_order_write",
    "_lines_write",
    "_returns_write",
    "_attribution_write",
    "_tracking_after_attribution",
    "order_applied_react",
    "facts_changed",
]


class SimulatedCrash(BaseException):
    """A worker dying: not an Exception, so nothing in the pipeline catches it."""


def _cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def expected_net(doc: dict[str, Any]) -> int:
    """The reference model: what one applied VTEX document owes the influencer, written from
    docs/orders.md without the engine's code."""
    if doc["status"] == "canceled":
        return 0
    returned: Counter[int] = Counter()
    for package in (doc.get("packageAttachment") or {}).get("packages") or []:
        for item in package["items"]:
            returned[item["itemIndex"]] += item["quantity"]
    removed: Counter[str] = Counter()
    for change in (doc.get("changesAttachment") or {}).get("changesData") or []:
        for item in change["itemsRemoved"]:
            removed[str(item["id"])] += item["quantity"]
    net = 0
    for index, (sku, quantity, total) in enumerate(LINES):
        amount = _cents(Decimal(total) / 10)
        units = min(quantity, returned[index] + removed[str(sku)])
        reversed_cents = amount if units >= quantity else _cents(Decimal(amount) * units / quantity)
        net += amount - reversed_cents
    return net


def _brand_setup(slug: str) -> tuple[Any, Any]:
    brand = BrandFactory(slug=slug, name=slug.title(), vtex_account=slug)
    campaign = CampaignFactory(brand=brand, hold_days=15)
    CommissionRule.objects.create(
        campaign=campaign, name="Everything 10%", kind="percentage", rate_percent=Decimal("10"), dimension="all"
    )
    influencer = MembershipFactory(brand=brand, influencer=InfluencerFactory(display_name="Maria")).influencer
    Code.objects.create(brand=brand, campaign=campaign, influencer=influencer, text=COUPON)
    return brand, influencer


def influencer_money(brand: Any, influencer: Any) -> dict[str, int]:
    rows = (
        LedgerEntry.objects.filter(account__brand=brand, account__influencer=influencer)
        .values("account__kind", "side")
        .annotate(total=Sum("amount_cents"))
    )
    out: dict[str, int] = {}
    for row in rows:
        sign = 1 if row["side"] == "C" else -1
        out[row["account__kind"]] = out.get(row["account__kind"], 0) + sign * row["total"]
    return {kind: value for kind, value in out.items() if value}


def commissions_fingerprint(brand: Any) -> list[tuple[Any, ...]]:
    return sorted(
        Commission.objects.filter(brand=brand).values_list(
            "order__vtex_order_id", "line__item_index", "state", "amount_cents", "reversed_cents", "ledger_posted_cents"
        )
    )


class PipelineSimulation(RuleBasedStateMachine):
    fake: Any = None

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.fake.orders.clear()
        self.fake._script.clear()
        self.brand, self.influencer = _brand_setup("acme")
        self.docs: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.clock: dict[str, int] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.entries: dict[int, tuple[Any, ...]] = {}
        self.returns: dict[str, int] = {}

    # --- VTEX: orders change -------------------------------------------------------------------

    def _change(self, order_id: str, **changes: Any) -> None:
        tick = self.clock.get(order_id, 0) + 1
        self.clock[order_id] = tick
        previous = self.docs.get(order_id)
        kwargs: dict[str, Any] = {
            "status": previous["status"] if previous else "payment-approved",
            "returns": copy.deepcopy(previous.get("_returns", [])) if previous else [],
            "removed": copy.deepcopy(previous.get("_removed")) if previous else None,
        }
        kwargs.update(changes)
        doc = order_doc(
            order_id=order_id,
            status=kwargs["status"],
            last_change=f"2024-02-{5 + tick // 24:02d}T{tick % 24:02d}:00:00+00:00",
            returns=kwargs["returns"],
            removed=kwargs["removed"],
        )
        doc["_returns"], doc["_removed"] = kwargs["returns"], kwargs["removed"]
        self.docs[order_id] = doc
        self.history.setdefault(order_id, []).append(copy.deepcopy(doc))
        served = copy.deepcopy(doc)
        served.pop("_returns")
        served.pop("_removed")
        self.fake.add_order(served)
        self.deliveries.append(
            hook_payload(order_id=order_id, state=doc["status"], change=doc["lastChange"].replace("+00:00", "Z"))
        )

    @rule(order_id=st.sampled_from(ORDERS))
    def order_created(self, order_id: str) -> None:
        if order_id not in self.docs:
            self._change(order_id, status="payment-approved")

    @precondition(lambda self: any(d["status"] == "payment-approved" for d in self.docs.values()))
    @rule(data=st.data())
    def order_invoiced(self, data: Any) -> None:
        order_id = data.draw(
            st.sampled_from(sorted(k for k, d in self.docs.items() if d["status"] == "payment-approved"))
        )
        self._change(order_id, status="invoiced")

    @precondition(lambda self: any(d["status"] == "invoiced" for d in self.docs.values()))
    @rule(data=st.data(), index=st.sampled_from([0, 1, 2]))
    def partial_return(self, data: Any, index: int) -> None:
        order_id = data.draw(st.sampled_from(sorted(k for k, d in self.docs.items() if d["status"] == "invoiced")))
        number = self.returns[order_id] = self.returns.get(order_id, 0) + 1
        returns = [*copy.deepcopy(self.docs[order_id]["_returns"]), {"number": f"RET-{number}", "items": [(index, 1)]}]
        self._change(order_id, returns=returns)

    @precondition(lambda self: any(d["status"] != "canceled" for d in self.docs.values()))
    @rule(data=st.data())
    def item_removed(self, data: Any) -> None:
        order_id = data.draw(st.sampled_from(sorted(k for k, d in self.docs.items() if d["status"] != "canceled")))
        self._change(order_id, removed=[{"id": "25", "name": "x", "quantity": 1, "price": 4491}])

    @precondition(lambda self: any(d["status"] != "canceled" for d in self.docs.values()))
    @rule(data=st.data())
    def order_canceled(self, data: Any) -> None:
        order_id = data.draw(st.sampled_from(sorted(k for k, d in self.docs.items() if d["status"] != "canceled")))
        self._change(order_id, status="canceled")

    # --- Hook deliveries ----------------------------------------------------------------------

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data(), duplicate=st.booleans())
    def deliver(self, data: Any, duplicate: bool) -> None:
        """Any queued notification (reordering); a duplicate stays queued for a redelivery."""
        index = data.draw(st.integers(0, len(self.deliveries) - 1))
        payload = self.deliveries[index] if duplicate else self.deliveries.pop(index)
        hook_event_record(brand=self.brand, notification=hook_parse(payload), payload=payload)

    @rule(known=st.booleans())
    def forged(self, known: bool) -> None:
        """A notification VTEX did not send: an unknown order, or a state VTEX's document denies."""
        order_id = next(iter(sorted(self.docs)), "9999-01") if known else "9999-01"
        payload = hook_payload(order_id=order_id, state="canceled", change="2030-01-01T00:00:00Z")
        hook_event_record(brand=self.brand, notification=hook_parse(payload), payload=payload)

    # --- VTEX misbehaves ----------------------------------------------------------------------

    @rule(kind=st.sampled_from(["429", "500", "slow"]))
    def vtex_fault(self, kind: str) -> None:
        if kind == "429":
            self.fake.fail_next(1, 429, headers={"Retry-After": "0"}, path_contains="/api/oms/pvt/orders/")
        elif kind == "500":
            self.fake.fail_next(1, 500, path_contains="/api/oms/pvt/orders/")
        else:
            self.fake.delay_next(1, seconds=0.3, path_contains="/api/oms/pvt/orders/")

    # --- Workers ------------------------------------------------------------------------------

    @rule(limit=st.integers(1, 6))
    def process(self, limit: int) -> None:
        hook_events_process_batch(limit=limit)

    @rule(step=st.sampled_from(STEPS), limit=st.integers(1, 6))
    def crash_while_applying(self, step: str, limit: int) -> None:
        real = getattr(order_steps, step)

        def crashing(*args: Any, **kwargs: Any) -> Any:
            real(*args, **kwargs)
            raise SimulatedCrash(step)

        setattr(order_steps, step, crashing)
        try:
            hook_events_process_batch(limit=limit)
        except SimulatedCrash:
            pass
        finally:
            setattr(order_steps, step, real)

    @rule()
    def cutoff(self) -> None:
        payout_cutoff_run(brand=self.brand, period_start=self._period_start())

    def _period_start(self) -> Any:
        return date(2024, 3, 1)

    # --- Invariants ---------------------------------------------------------------------------

    @invariant()
    def every_transaction_balances(self) -> None:
        unbalanced = (
            LedgerEntry.objects.values("transaction_id")
            .annotate(
                credit=Sum("amount_cents", filter=Q(side="C")),
                debit=Sum("amount_cents", filter=Q(side="D")),
            )
            .exclude(credit=models_f("debit"))
        )
        assert not list(unbalanced)

    @invariant()
    def money_equals_the_reference_model(self) -> None:
        applied = {o.vtex_order_id: o.snapshot for o in Order.objects.filter(brand=self.brand) if o.snapshot}
        owed = sum(expected_net(doc) for doc in applied.values())
        estimated = sum(expected_net(doc) for doc in applied.values() if doc["status"] != "invoiced")
        money = influencer_money(self.brand, self.influencer)
        assert sum(money.values()) == owed, (money, owed)
        assert money.get("estimated", 0) == estimated, (money, estimated)

    @invariant()
    def nothing_posted_is_edited(self) -> None:
        for row in LedgerEntry.objects.values_list("pk", "transaction_id", "account_id", "side", "amount_cents"):
            assert self.entries.setdefault(row[0], row) == row
        assert set(self.entries) <= set(LedgerEntry.objects.values_list("pk", flat=True))

    @invariant()
    def each_effect_posts_once(self) -> None:
        refs = Counter(LedgerTransaction.objects.values_list("brand_id", "kind", "reference"))
        assert all(n == 1 for n in refs.values()), refs
        lines = Counter(Commission.objects.values_list("line_id", "influencer_id"))
        assert all(n == 1 for n in lines.values())

    def teardown(self) -> None:
        try:
            self._drain_and_compare()
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    def _drain_and_compare(self) -> None:
        self.fake._script.clear()
        for payload in self.deliveries:
            hook_event_record(brand=self.brand, notification=hook_parse(payload), payload=payload)
        for _round in range(50):
            if not hook_events_process_batch(limit=50).claimed:
                break
        assert not HookEvent.objects.filter(status="pending").exists()
        # The in-order run: every VTEX history applied in order on a fresh brand.
        other, other_influencer = _brand_setup("inorder")
        for _order_id, docs in sorted(self.history.items()):
            for doc in docs:
                order_apply(brand=other, data={k: v for k, v in doc.items() if not k.startswith("_")}, source="t")
        assert commissions_fingerprint(self.brand) == commissions_fingerprint(other)
        assert sum(influencer_money(self.brand, self.influencer).values()) == sum(
            influencer_money(other, other_influencer).values()
        )
        assert sorted(Order.objects.filter(brand=self.brand).values_list("vtex_order_id", "status", "value_cents")) == (
            sorted(Order.objects.filter(brand=other).values_list("vtex_order_id", "status", "value_cents"))
        )


def models_f(name: str) -> Any:
    return F(name)


@pytest.fixture
def simulation_settings(settings: Any, fake_oms: Any) -> Any:
    settings.ORDERS_BATCH_LEASE_SECONDS = 0
    settings.ORDERS_FETCH_CONCURRENCY = 1  # one seed, one order of requests: reproducible faults
    settings.ORDERS_BATCH_RETRY_AFTER_MAX_WAIT = 0
    settings.VTEX_MAX_ATTEMPTS = 1
    settings.VTEX_READ_TIMEOUT = 0.1
    settings.VTEX_BACKOFF_BASE_SECONDS = 0.0
    PipelineSimulation.fake = fake_oms
    return fake_oms


def test_the_pipeline_survives_faults(simulation_settings: Any) -> None:
    run_state_machine_as_test(
        PipelineSimulation,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_regression_crash_after_the_commissions_then_a_cancel(simulation_settings: Any) -> None:
    """A worker dies after the commissions were written (rolled back with it), VTEX cancels the
    order meanwhile; the redelivered notifications leave nothing owed."""
    sim = PipelineSimulation()
    sim.order_created("5001-01")
    sim.deliver(data=_Draw([0]), duplicate=True)
    sim.crash_while_applying(step="order_applied_react", limit=5)
    sim.money_equals_the_reference_model()
    sim.order_canceled(data=_Draw(["5001-01"]))
    sim.deliver(data=_Draw([1]), duplicate=False)
    sim.vtex_fault(kind="500")
    sim.process(limit=5)
    sim.process(limit=5)
    sim.money_equals_the_reference_model()
    sim.every_transaction_balances()
    sim.each_effect_posts_once()
    sim.teardown()


class _Draw:
    """Stands in for Hypothesis' `data` in an explicit regression sequence."""

    def __init__(self, values: list[Any]) -> None:
        self.values = list(values)

    def draw(self, strategy: Any) -> Any:
        return self.values.pop(0)
