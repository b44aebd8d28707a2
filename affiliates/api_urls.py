from django.urls import path

from affiliates.apis import (
    InfluencerRegisterApi,
    MembershipApproveApi,
    MembershipDetailApi,
    MembershipListApi,
    MembershipRejectApi,
    MembershipSuspendApi,
)

urlpatterns = [
    path("influencers/register", InfluencerRegisterApi.as_view(), name="influencer-register"),
    path("memberships/", MembershipListApi.as_view(), name="membership-list"),
    path("memberships/<int:pk>/", MembershipDetailApi.as_view(), name="membership-detail"),
    path("memberships/<int:pk>/approve", MembershipApproveApi.as_view(), name="membership-approve"),
    path("memberships/<int:pk>/reject", MembershipRejectApi.as_view(), name="membership-reject"),
    path("memberships/<int:pk>/suspend", MembershipSuspendApi.as_view(), name="membership-suspend"),
]
