from django.db import migrations

# (old app label, model) -> new app label. Permissions hang on content types: relabelling them
# keeps every group's and person's brand permissions (and admin log entries) pointing at the
# moved models instead of leaving them on stale rows.
MOVED = [("campaigns", "brand"), ("campaigns", "historicalbrand"), ("accounts", "staffbrandaccess")]


def relabel(apps, schema_editor, *, forward=True):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old_label, model in MOVED:
        source, target = (old_label, "brands") if forward else ("brands", old_label)
        if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            continue
        ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def relabel_back(apps, schema_editor):
    relabel(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(relabel, relabel_back)]
