"""Seal the chain after commit instead of under a lock at write time.

Rows are inserted unsealed; `audit_chain_seal` later sets (seq, prev_hash, hash) once. The
trigger now refuses DELETE, any change of content, and any change of an already sealed row.
Rows sealed by the old scheme are unsealed here and resealed (with `seq` in the hash)."""

from django.db import migrations, models

TRIGGER = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_auditevent is append-only: DELETE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The one update allowed: sealing an unsealed row, touching only the chain columns.
    IF OLD.hash IS NOT NULL OR NEW.hash IS NULL OR NEW.seq IS NULL
       OR (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash')
          IS DISTINCT FROM (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
        RAISE EXCEPTION 'audit_auditevent is append-only: UPDATE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete", params=None)
    schema_editor.execute("UPDATE audit_auditevent SET seq = NULL, prev_hash = NULL, hash = NULL", params=None)
    if vendor == "postgresql":
        schema_editor.execute(TRIGGER, params=None)
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True, unique=True, verbose_name="chain position"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
