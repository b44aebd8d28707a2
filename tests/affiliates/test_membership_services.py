from itertools import product

import pytest
from django.core import mail

import codes.services.issuing
from affiliates.models import Membership
from affiliates.services.decisions import membership_approve, membership_block, membership_reject, membership_suspend
from audit.models import AuditEvent
from codes.models import Code
from core.errors import ApplicationError, Conflict
from tests.factories import CampaignFactory, MembershipFactory

pytestmark = pytest.mark.django_db

S = Membership.Status
SERVICES = {
    S.APPROVED: lambda m, actor: membership_approve(membership=m, actor=actor),
    S.REJECTED: lambda m, actor: membership_reject(membership=m, actor=actor, reason="Perfil no encaja"),
    S.SUSPENDED: lambda m, actor: membership_suspend(membership=m, actor=actor, reason="Revisión de fraude"),
    S.BLOCKED: lambda m, actor: membership_block(membership=m, actor=actor, reason="Fraude confirmado"),
}


def test_transition_table_is_the_documented_machine():
    assert {
        S.PENDING: {S.APPROVED, S.REJECTED, S.BLOCKED},
        S.APPROVED: {S.SUSPENDED, S.BLOCKED},
        S.SUSPENDED: {S.APPROVED, S.BLOCKED},
        S.REJECTED: {S.BLOCKED},
        S.BLOCKED: set(),
    } == Membership.ALLOWED_TRANSITIONS


@pytest.mark.parametrize(("start", "target"), [(a, b) for a, b in product(S.values, SERVICES) if a != b])
def test_every_move_is_allowed_or_refused_by_the_table(start, target, brand_a, manager_a):
    membership = MembershipFactory(brand=brand_a, status=start)
    events_before = AuditEvent.objects.count()
    if target in Membership.ALLOWED_TRANSITIONS[start]:
        moved = SERVICES[target](membership, manager_a)
        assert moved.status == target
        assert moved.reviewed_by == manager_a
        assert AuditEvent.objects.filter(action__startswith="membership.", target_id=str(membership.pk)).exists()
    else:
        with pytest.raises(Conflict) as excinfo:
            SERVICES[target](membership, manager_a)
        assert "cannot become" in str(excinfo.value)
        membership.refresh_from_db()
        assert membership.status == start  # nothing changed
        assert AuditEvent.objects.count() == events_before


def test_repeating_a_move_is_a_no_op(brand_a, manager_a):
    membership = MembershipFactory(brand=brand_a, status=S.PENDING)
    membership_reject(membership=membership, actor=manager_a, reason="No encaja")
    events = AuditEvent.objects.count()
    again = membership_reject(membership=membership, actor=manager_a, reason="Otra razón")
    assert again.status == S.REJECTED
    assert again.status_reason == "No encaja"
    assert AuditEvent.objects.count() == events


def test_approval_assigns_the_campaigns_issues_codes_and_emails_them(
    applicant, campaign_a, manager_a, fake_vtex, django_capture_on_commit_callbacks
):
    membership = applicant()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approved = membership_approve(membership=membership, actor=manager_a, campaigns=[campaign_a])
    assert approved.status == S.APPROVED
    assert approved.approved_at is not None
    code = Code.objects.get(influencer=membership.influencer, campaign=campaign_a)
    assert code.status == Code.Status.ACTIVE
    assert membership.influencer.campaign_assignments.filter(campaign=campaign_a, is_active=True).exists()
    assert code.text in fake_vtex.coupons  # the worker synced the coupon to VTEX
    [email] = [m for m in mail.outbox if m.to == ["ana@example.com"]]
    assert code.text in email.body
    assert "/portal/acme/" in email.body
    audit = AuditEvent.objects.get(action="membership.approved", target_id=str(membership.pk))
    assert audit.before == {"status": "pending"}
    assert audit.after["status"] == "approved"


def test_approval_refuses_campaigns_of_another_brand_and_changes_nothing(applicant, brand_b, manager_a):
    membership = applicant()
    foreign = CampaignFactory(brand=brand_b)
    with pytest.raises(ApplicationError):
        membership_approve(membership=membership, actor=manager_a, campaigns=[foreign])
    membership.refresh_from_db()
    assert membership.status == S.PENDING
    assert not Code.objects.exists()


def test_code_failure_rolls_the_approval_back(applicant, campaign_a, manager_a, monkeypatch):
    def broken(**kwargs):
        raise Conflict("VTEX said no")

    monkeypatch.setattr(codes.services.issuing, "codes_issue_for_influencer", broken)
    membership = applicant()
    with pytest.raises(Conflict):
        membership_approve(membership=membership, actor=manager_a, campaigns=[campaign_a])
    membership.refresh_from_db()
    assert membership.status == S.PENDING
    assert not AuditEvent.objects.filter(action="membership.approved").exists()


def test_rejection_needs_a_reason_and_sends_it(applicant, manager_a, django_capture_on_commit_callbacks):
    membership = applicant(language="en")
    mail.outbox.clear()
    with pytest.raises(ApplicationError):
        membership_reject(membership=membership, actor=manager_a, reason="  ")
    membership.refresh_from_db()
    assert membership.status == S.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        membership_reject(membership=membership, actor=manager_a, reason="Audiencia fuera del mercado objetivo")
    [email] = mail.outbox
    assert email.to == ["ana@example.com"]
    assert "Audiencia fuera del mercado objetivo" in email.body
    assert "did not approve" in email.body  # in the applicant's language


def test_suspension_archives_codes_and_reapproval_brings_them_back(
    applicant, campaign_a, manager_a, fake_vtex, django_capture_on_commit_callbacks
):
    membership = applicant()
    with django_capture_on_commit_callbacks(execute=True):
        membership_approve(membership=membership, actor=manager_a, campaigns=[campaign_a])
    code = Code.objects.get(influencer=membership.influencer)

    with django_capture_on_commit_callbacks(execute=True):
        membership_suspend(membership=membership, actor=manager_a, reason="Revisión")
    code.refresh_from_db()
    assert code.status == Code.Status.ARCHIVED

    with django_capture_on_commit_callbacks(execute=True):
        back = membership_approve(membership=membership, actor=manager_a)
    code.refresh_from_db()
    assert back.status == S.APPROVED
    assert code.status == Code.Status.ACTIVE
    assert Code.objects.filter(influencer=membership.influencer).count() == 1  # no new code


def test_blocking_archives_codes_for_good(
    applicant, campaign_a, manager_a, fake_vtex, django_capture_on_commit_callbacks
):
    membership = applicant()
    with django_capture_on_commit_callbacks(execute=True):
        membership_approve(membership=membership, actor=manager_a, campaigns=[campaign_a])
        membership_block(membership=membership, actor=manager_a, reason="Fraude")
    assert Code.objects.get(influencer=membership.influencer).status == Code.Status.ARCHIVED
    with pytest.raises(Conflict):
        membership_approve(membership=membership, actor=manager_a)
