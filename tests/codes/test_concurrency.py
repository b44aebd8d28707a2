import threading

import pytest
from django.db import connection

from codes.models import Code
from codes.services.issuing import codes_issue_for_influencer
from tests.campaigns.factories import RunnableCampaignFactory
from tests.factories import BrandFactory, InfluencerFactory, MembershipFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(*calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def worker(call):
        try:
            barrier.wait()
            results.append(call())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_concurrent_issues_give_one_code_per_campaign_and_unique_texts(fake_vtex):
    brand = BrandFactory(slug="race", vtex_account="race")
    campaign = RunnableCampaignFactory(brand=brand)
    same = MembershipFactory(brand=brand, influencer=InfluencerFactory(handle="twin"), status="approved").influencer
    other = MembershipFactory(brand=brand, influencer=InfluencerFactory(handle="TWIN"), status="approved").influencer

    results, errors = run_concurrently(
        lambda: codes_issue_for_influencer(brand=brand, influencer=same, campaigns=[campaign]),
        lambda: codes_issue_for_influencer(brand=brand, influencer=same, campaigns=[campaign]),
        lambda: codes_issue_for_influencer(brand=brand, influencer=other, campaigns=[campaign]),
    )

    assert errors == []
    assert Code.objects.filter(influencer=same).count() == 1
    texts = sorted(Code.objects.values_list("text", flat=True))
    assert len(texts) == 2
    assert texts[0] == "TWIN10"
    assert texts[1].startswith("TWIN10-")
    assert set(fake_vtex.coupons) == set(texts)  # each synced after its own commit
    same_results = [r[0].pk for r in results if r[0].influencer_id == same.pk]
    assert len(same_results) == 2
    assert len(set(same_results)) == 1
