"""Two indexes of orders_hookevent that the unique key (brand, order id, state, change time)
already serves with its leading columns: (brand, order id) and the brand foreign key's own.
Each notification's INSERT updated both for nothing.

The foreign key's index is dropped by name rather than by AlterField: Django would also drop
and re-add the foreign key constraint, which re-checks every row of a large table under lock."""

import django.db.models.deletion
from django.db import migrations, models

FK_INDEX = "orders_hookevent_brand_id_d9f3a6ac"


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0006_vtex_as_documented"),
        ("orders", "0009_attribution_source_manual"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="hookevent",
            name="hook_event_order_idx",
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{FK_INDEX}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{FK_INDEX}" ON "orders_hookevent" ("brand_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="hookevent",
                    name="brand",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="hook_events",
                        to="brands.brand",
                        verbose_name="brand",
                    ),
                ),
            ],
        ),
    ]
