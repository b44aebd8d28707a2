"""A payout account version is immutable (docs/ledger.md, "The approved account is the paid
account"): every DELETE and any UPDATE of its identity or fingerprint is refused. The encrypted
columns may be rewritten, because `encryption_rotate` re-encrypts them under a new key; their
content is bound by `fingerprint`, which the bank export checks before paying."""

from django.db import migrations

PG_FORWARD = [
    """
    CREATE TRIGGER payments_payoutaccountversion_immutable
        BEFORE UPDATE ON payments_payoutaccountversion
        FOR EACH ROW WHEN (
            OLD.fingerprint IS DISTINCT FROM NEW.fingerprint
            OR OLD.influencer_id IS DISTINCT FROM NEW.influencer_id
            OR OLD.number IS DISTINCT FROM NEW.number
            OR OLD.document_type IS DISTINCT FROM NEW.document_type
            OR OLD.bank_code IS DISTINCT FROM NEW.bank_code
            OR OLD.account_type IS DISTINCT FROM NEW.account_type
            OR OLD.key_type IS DISTINCT FROM NEW.key_type
            OR OLD.created_at IS DISTINCT FROM NEW.created_at
        )
        EXECUTE FUNCTION payments_refuse_change();
    """,
    """
    CREATE TRIGGER payments_payoutaccountversion_no_delete
        BEFORE DELETE ON payments_payoutaccountversion
        FOR EACH ROW EXECUTE FUNCTION payments_refuse_change();
    """,
]
PG_REVERSE = [
    "DROP TRIGGER IF EXISTS payments_payoutaccountversion_immutable ON payments_payoutaccountversion;",
    "DROP TRIGGER IF EXISTS payments_payoutaccountversion_no_delete ON payments_payoutaccountversion;",
]
_COLUMNS = ("fingerprint", "influencer_id", "number", "document_type", "bank_code", "account_type", "key_type")
SQLITE_FORWARD = [
    """
    CREATE TRIGGER IF NOT EXISTS payments_payoutaccountversion_no_update
    BEFORE UPDATE ON payments_payoutaccountversion
    WHEN """
    + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COLUMNS)
    + """
    BEGIN SELECT RAISE(ABORT, 'payout account versions are immutable'); END;
    """,
    """
    CREATE TRIGGER IF NOT EXISTS payments_payoutaccountversion_no_delete
    BEFORE DELETE ON payments_payoutaccountversion
    BEGIN SELECT RAISE(ABORT, 'payout account versions are immutable'); END;
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS payments_payoutaccountversion_no_update;",
    "DROP TRIGGER IF EXISTS payments_payoutaccountversion_no_delete;",
]


def forward(apps, schema_editor):
    statements = {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


def reverse(apps, schema_editor):
    statements = {"postgresql": PG_REVERSE, "sqlite": SQLITE_REVERSE}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


def approved_without_version_back_to_finance(apps, schema_editor):
    """Withdrawals approved before versions existed do not record which account was approved:
    they go back to finance for one more approval (which freezes the version)."""
    from django.utils import timezone

    Withdrawal = apps.get_model("payments", "Withdrawal")
    WithdrawalApproval = apps.get_model("payments", "WithdrawalApproval")
    WithdrawalWithholding = apps.get_model("payments", "WithdrawalWithholding")
    stale = Withdrawal.objects.filter(status="approved", payout_account_version__isnull=True)
    ids = list(stale.values_list("pk", flat=True))
    if not ids:
        return
    WithdrawalApproval.objects.filter(withdrawal_id__in=ids, voided_at__isnull=True).update(voided_at=timezone.now())
    WithdrawalWithholding.objects.filter(withdrawal_id__in=ids).delete()
    Withdrawal.objects.filter(pk__in=ids).update(status="requested", approved_at=None, withholding_cents=0)


class Migration(migrations.Migration):
    dependencies = [("payments", "0004_payout_versions_history_jobs")]

    operations = [
        migrations.RunPython(forward, reverse, elidable=False),
        migrations.RunPython(approved_without_version_back_to_finance, migrations.RunPython.noop, elidable=False),
    ]
