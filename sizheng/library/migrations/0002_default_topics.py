"""Load the default topic tags (四史, 法治, 形势政策 …) as data the committee admin may edit."""

from django.db import migrations

# A copy taken when this migration was written, so later edits do not change what it did.
TOPICS = ["党史", "新中国史", "改革开放史", "社会主义发展史", "法治", "形势政策", "党规党纪", "理论学习", "其他"]


def load(apps, schema_editor):
    Topic = apps.get_model("library", "Topic")
    for i, name in enumerate(TOPICS, start=1):
        Topic.objects.get_or_create(name=name, defaults={"order": i})


def unload(apps, schema_editor):
    Topic = apps.get_model("library", "Topic")
    Topic.objects.filter(name__in=TOPICS, materials__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("library", "0001_materials_topics_columns_attachments")]

    operations = [migrations.RunPython(load, unload)]
