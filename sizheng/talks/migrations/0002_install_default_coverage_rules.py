"""Load the default talk coverage rules (BR-TALK-1; rules.md §3 and §5) as data administrators may edit."""

from django.db import migrations

# A copy taken when this migration was written, so later edits to talks.coverage.DEFAULTS do not
# change what this migration did.
DEFAULTS = [
    # code, target_kind, label, count, severity, source, is_local
    ("BR-TALK-1", "branch_member", "党员每年与支委谈心谈话一般不少于1次", 1, "warning",
     "BR-TALK-1 · 《中国共产党支部工作条例（试行）》：支委之间、支委与党员、党员之间每年一般至少谈心谈话一次。",
     False),
    ("LEAD-TALK-1", "team_member", "主要负责同志与班子成员每年谈心谈话不少于1次（地方规定）", 1, "warning",
     "LEAD-TALK-1 · 常见地方规定：主要负责同志与班子成员每年至少谈心谈话一次（民主生活会前尤应开展，DLM-6）。",
     True),
    ("GROUP-TALK-1", "group_member", "党小组长与每名组员每年谈心谈话不少于2次（地方规定）", 2, "warning",
     "GROUP-TALK-1 · 常见地方规定：党小组长与本小组每名党员每年至少谈心谈话两次。", True),
]  # fmt: skip


def load(apps, schema_editor):
    CoverageRule = apps.get_model("talks", "CoverageRule")
    for code, target_kind, label, count, severity, source, is_local in DEFAULTS:
        CoverageRule.objects.update_or_create(
            code=code,
            defaults={"target_kind": target_kind, "label": label, "count": count, "severity": severity,
                      "source": source, "is_local": is_local},
        )  # fmt: skip


def unload(apps, schema_editor):
    CoverageRule = apps.get_model("talks", "CoverageRule")
    CoverageRule.objects.filter(code__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("talks", "0001_talks_triggers_coverage_rules")]

    operations = [migrations.RunPython(load, unload)]
