"""Database-level guarantees for the ledger (docs/ledger.md):

- a deferred constraint trigger refuses, at commit, any transaction whose entries do not
  balance or that has fewer than two legs (PostgreSQL);
- entries and transactions cannot be updated or deleted (PostgreSQL and SQLite);
- a paid withdrawal cannot be changed (PostgreSQL and SQLite).
"""

from django.db import migrations

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION payments_check_transaction_balanced() RETURNS trigger AS $$
    DECLARE
        net BIGINT;
        legs INTEGER;
    BEGIN
        SELECT COALESCE(SUM(CASE WHEN side = 'C' THEN amount_cents ELSE -amount_cents END), 0), COUNT(*)
          INTO net, legs
          FROM payments_ledgerentry WHERE transaction_id = NEW.transaction_id;
        IF net <> 0 OR legs < 2 THEN
            RAISE EXCEPTION 'ledger transaction % does not balance (net %, % legs)', NEW.transaction_id, net, legs
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE CONSTRAINT TRIGGER payments_ledgerentry_balanced
        AFTER INSERT ON payments_ledgerentry
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION payments_check_transaction_balanced();
    """,
    """
    CREATE OR REPLACE FUNCTION payments_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% rows are append-only: post a correcting transaction instead', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER payments_ledgerentry_append_only
        BEFORE UPDATE OR DELETE ON payments_ledgerentry
        FOR EACH ROW EXECUTE FUNCTION payments_refuse_change();
    """,
    """
    CREATE TRIGGER payments_ledgertransaction_append_only
        BEFORE UPDATE OR DELETE ON payments_ledgertransaction
        FOR EACH ROW EXECUTE FUNCTION payments_refuse_change();
    """,
    """
    CREATE TRIGGER payments_withdrawal_paid_is_final
        BEFORE UPDATE OR DELETE ON payments_withdrawal
        FOR EACH ROW WHEN (OLD.status = 'paid')
        EXECUTE FUNCTION payments_refuse_change();
    """,
]
PG_REVERSE = [
    "DROP TRIGGER IF EXISTS payments_withdrawal_paid_is_final ON payments_withdrawal;",
    "DROP TRIGGER IF EXISTS payments_ledgertransaction_append_only ON payments_ledgertransaction;",
    "DROP TRIGGER IF EXISTS payments_ledgerentry_append_only ON payments_ledgerentry;",
    "DROP FUNCTION IF EXISTS payments_refuse_change();",
    "DROP TRIGGER IF EXISTS payments_ledgerentry_balanced ON payments_ledgerentry;",
    "DROP FUNCTION IF EXISTS payments_check_transaction_balanced();",
]

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {name} BEFORE {op} ON {table}{when}
    BEGIN SELECT RAISE(ABORT, '{table} rows are append-only: post a correcting transaction instead'); END;
    """
    for name, op, table, when in [
        ("payments_ledgerentry_no_update", "UPDATE", "payments_ledgerentry", ""),
        ("payments_ledgerentry_no_delete", "DELETE", "payments_ledgerentry", ""),
        ("payments_ledgertransaction_no_update", "UPDATE", "payments_ledgertransaction", ""),
        ("payments_ledgertransaction_no_delete", "DELETE", "payments_ledgertransaction", ""),
        ("payments_withdrawal_paid_no_update", "UPDATE", "payments_withdrawal", " WHEN OLD.status = 'paid'"),
        ("payments_withdrawal_paid_no_delete", "DELETE", "payments_withdrawal", " WHEN OLD.status = 'paid'"),
    ]
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in [
        "payments_ledgerentry_no_update",
        "payments_ledgerentry_no_delete",
        "payments_ledgertransaction_no_update",
        "payments_ledgertransaction_no_delete",
        "payments_withdrawal_paid_no_update",
        "payments_withdrawal_paid_no_delete",
    ]
]


def forward(apps, schema_editor):
    statements = {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


def reverse(apps, schema_editor):
    statements = {"postgresql": PG_REVERSE, "sqlite": SQLITE_REVERSE}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse, elidable=False)]
