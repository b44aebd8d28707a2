"""API for a brand's systems: register an influencer (the join form's flow, same service and
rules), list memberships and decide on them (approve, reject with reason, suspend)."""

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_idempotency import idempotent
from affiliates.documents import DOCUMENT_TYPE_CHOICES
from affiliates.models import APPLICANT_COUNTRY_CHOICES, KYCDocument, Membership
from affiliates.services.decisions import membership_approve, membership_reject, membership_suspend
from affiliates.services.kyc import KycUpload
from affiliates.services.policies import policy_consents_resolve
from affiliates.services.registration import ApplicantProfile, applicant_email_verification_send, influencer_apply
from brands.scoping import brand_ids_for_request, scope_queryset
from campaigns.apis import brand_for_write
from campaigns.models import Campaign
from core.api import OrderingCursorPagination


class MembershipOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    brand = serializers.CharField(source="brand.slug")
    influencer_id = serializers.IntegerField()
    name = serializers.CharField(source="influencer.display_name")
    email = serializers.EmailField(source="influencer.user.email")
    country = serializers.CharField(source="influencer.country")
    instagram = serializers.CharField(source="influencer.instagram")
    tiktok = serializers.CharField(source="influencer.tiktok")
    youtube = serializers.CharField(source="influencer.youtube")
    audience_size = serializers.IntegerField(source="influencer.audience_size")
    campaign = serializers.CharField(source="campaign.slug", allow_null=True, default=None)
    reason = serializers.CharField(source="status_reason")

    class Meta:
        model = Membership
        fields = [
            "id",
            "brand",
            "influencer_id",
            "name",
            "email",
            "country",
            "instagram",
            "tiktok",
            "youtube",
            "audience_size",
            "campaign",
            "status",
            "reason",
            "status_changed_at",
            "approved_at",
            "created_at",
        ]


_MEMBERSHIP_EXAMPLE = {
    "id": 42,
    "brand": "acme",
    "influencer_id": 17,
    "name": "María Gómez",
    "email": "maria@example.com",
    "country": "CO",
    "instagram": "mariagomez",
    "tiktok": "",
    "youtube": "",
    "audience_size": 120000,
    "campaign": "summer-2026",
    "status": "pending",
    "reason": "",
    "status_changed_at": "2026-12-05T10:00:00Z",
    "approved_at": None,
    "created_at": "2026-12-05T10:00:00Z",
}


class RegistrationInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    brand = serializers.SlugField(required=False, help_text="Brand slug; an API key's own brand when omitted.")
    full_name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        max_length=128, style={"input_type": "password"}, help_text="Checked by the platform's password rules."
    )
    country = serializers.ChoiceField(choices=APPLICANT_COUNTRY_CHOICES)
    document_type = serializers.ChoiceField(choices=DOCUMENT_TYPE_CHOICES)
    document_number = serializers.CharField(max_length=30)
    phone = serializers.CharField(max_length=24, help_text="With country code, e.g. +57 300 123 4567.")
    instagram = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    tiktok = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    youtube = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    audience_size = serializers.IntegerField(min_value=0, max_value=2_000_000_000)
    campaign = serializers.SlugField(
        required=False, allow_blank=True, help_text="Slug of a campaign open to applications."
    )
    identity_document = serializers.FileField(help_text="PDF, JPEG or PNG of the identity document.")
    other_document = serializers.FileField(required=False, help_text="Tax registration or other document.")
    terms_policy = serializers.IntegerField(help_text="Id of the terms version the person read (GET the join page).")
    accept_terms = serializers.BooleanField()
    privacy_policy = serializers.IntegerField(help_text="Id of the privacy policy version the person read.")
    accept_privacy = serializers.BooleanField()
    language = serializers.ChoiceField(choices=["es", "en", "pt-br"], required=False)


class InfluencerRegisterApi(APIView):
    """Flow 1 from a brand's own site: the same checks as the join page (consent to the policy
    versions in force, document number, KYC files by content, password rules), a pending
    membership, managers notified and the email confirmation sent to the person."""

    scope_resource = "influencers"
    throttle_scope = "api"
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="influencer_register",
        summary="Register an influencer (pending membership)",
        request={"multipart/form-data": RegistrationInputSerializer},
        responses={201: MembershipOutputSerializer},
        examples=[OpenApiExample("Pending membership", value=_MEMBERSHIP_EXAMPLE, response_only=True)],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = RegistrationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        brand = brand_for_write(request, data.get("brand"))
        campaign = None
        if data.get("campaign"):
            campaign = Campaign.objects.filter(brand=brand, slug=data["campaign"], is_template=False).first()
            if campaign is None:
                raise serializers.ValidationError({"campaign": [_("No campaign with this slug in the brand.")]})
        terms, privacy = policy_consents_resolve(
            brand=brand,
            terms_id=data["terms_policy"],
            accept_terms=data["accept_terms"],
            privacy_id=data["privacy_policy"],
            accept_privacy=data["accept_privacy"],
        )
        documents = [KycUpload(kind=KYCDocument.Kind.IDENTITY, file=data["identity_document"])]
        if data.get("other_document"):
            documents.append(KycUpload(kind=KYCDocument.Kind.OTHER, file=data["other_document"]))
        membership = influencer_apply(
            brand=brand,
            email=data["email"],
            password=data["password"],
            profile=ApplicantProfile(
                full_name=data["full_name"],
                country=data["country"],
                document_type=data["document_type"],
                document_number=data["document_number"],
                phone=data["phone"],
                instagram=data["instagram"],
                tiktok=data["tiktok"],
                youtube=data["youtube"],
                audience_size=data["audience_size"],
            ),
            documents=documents,
            terms=terms,
            privacy=privacy,
            campaign=campaign,
            language=data.get("language") or translation.get_language(),
        )
        applicant_email_verification_send(request=request._request, user=membership.influencer.user)
        return Response(
            MembershipOutputSerializer(_membership_reload(membership.pk)).data, status=status.HTTP_201_CREATED
        )


def _membership_reload(pk: int) -> Membership:
    return Membership.objects.select_related("brand", "campaign", "influencer__user").get(pk=pk)


def _memberships(request: Request) -> QuerySet[Membership]:
    return scope_queryset(
        Membership.objects.select_related("brand", "campaign", "influencer__user"),
        brand_ids_for_request(request),
        brand_field=Membership.BRAND_FIELD,
    )


class MembershipFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__slug")
    influencer = django_filters.NumberFilter(field_name="influencer_id")
    email = django_filters.CharFilter(field_name="influencer__user__email", lookup_expr="iexact")
    created_since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Membership
        fields = ["status"]


class MembershipListApi(ListAPIView):  # type: ignore[type-arg]
    """Influencers of the brand: one membership per influencer and brand."""

    scope_resource = "influencers"
    throttle_scope = "api"
    serializer_class = MembershipOutputSerializer
    filterset_class = MembershipFilter
    pagination_class = OrderingCursorPagination
    ordering_fields = ["id", "created_at", "status_changed_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Membership]:
        return _memberships(self.request)


class MembershipDetailApi(RetrieveAPIView):  # type: ignore[type-arg]
    scope_resource = "influencers"
    throttle_scope = "api"
    serializer_class = MembershipOutputSerializer

    def get_queryset(self) -> QuerySet[Membership]:
        return _memberships(self.request)


class ApproveInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    campaigns = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        default=list,
        help_text="Campaign slugs to assign (codes are issued in each); empty: the brand's open campaigns.",
    )


class ReasonInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=2000, help_text="The influencer reads it in the email.")


class _MembershipDecisionApi(APIView):
    scope_resource = "influencers"
    throttle_scope = "api"

    def membership(self, request: Request, pk: int) -> Membership:
        membership = _memberships(request).filter(pk=pk).first()
        if membership is None:
            raise Http404
        return membership

    def done(self, membership: Membership) -> Response:
        return Response(MembershipOutputSerializer(_membership_reload(membership.pk)).data)


class MembershipApproveApi(_MembershipDecisionApi):
    @extend_schema(
        operation_id="membership_approve",
        summary="Approve: assigns campaigns, issues codes (synced to VTEX) and emails the influencer",
        request=ApproveInputSerializer,
        responses={200: MembershipOutputSerializer},
        examples=[OpenApiExample("Approve into one campaign", value={"campaigns": ["summer-2026"]}, request_only=True)],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        membership = self.membership(request, pk)
        serializer = ApproveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        slugs = serializer.validated_data["campaigns"]
        campaigns = list(Campaign.objects.filter(brand_id=membership.brand_id, slug__in=slugs, is_template=False))
        missing = sorted(set(slugs) - {c.slug for c in campaigns})
        if missing:
            raise serializers.ValidationError(
                {"campaigns": [_("Unknown campaign: %(slug)s") % {"slug": slug} for slug in missing]}
            )
        return self.done(membership_approve(membership=membership, actor=request.user, campaigns=campaigns))


class MembershipRejectApi(_MembershipDecisionApi):
    @extend_schema(
        operation_id="membership_reject",
        summary="Reject a pending application with the reason the applicant receives",
        request=ReasonInputSerializer,
        responses={200: MembershipOutputSerializer},
        examples=[OpenApiExample("Reason", value={"reason": "Audience outside our markets."}, request_only=True)],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        membership = self.membership(request, pk)
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return self.done(membership_reject(membership=membership, reason=reason, actor=request.user))


class MembershipSuspendApi(_MembershipDecisionApi):
    @extend_schema(
        operation_id="membership_suspend",
        summary="Suspend an approved influencer: their codes are archived until approved again",
        request=ReasonInputSerializer,
        responses={200: MembershipOutputSerializer},
        examples=[OpenApiExample("Reason", value={"reason": "Posts broke the brand guidelines."}, request_only=True)],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        membership = self.membership(request, pk)
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return self.done(membership_suspend(membership=membership, reason=reason, actor=request.user))
