from django.urls import path

from payments.apis import BalanceListApi, LedgerEntryListApi, PayoutBatchListApi, WithdrawalDetailApi, WithdrawalListApi

urlpatterns = [
    path("balances/", BalanceListApi.as_view(), name="balance-list"),
    path("ledger-entries/", LedgerEntryListApi.as_view(), name="ledger-entry-list"),
    path("withdrawals/", WithdrawalListApi.as_view(), name="withdrawal-list"),
    path("withdrawals/<int:pk>/", WithdrawalDetailApi.as_view(), name="withdrawal-detail"),
    path("payout-batches/", PayoutBatchListApi.as_view(), name="payout-batch-list"),
]
