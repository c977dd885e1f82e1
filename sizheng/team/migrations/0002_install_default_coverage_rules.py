"""Load the default staffing rules (TEAM-1: rules.md §6; TEAM-2: local) as data administrators may edit."""

from django.db import migrations

# A copy taken when this migration was written, so later edits to team.coverage.DEFAULTS do not
# change what this migration did.
DEFAULTS = [
    # code, label, team_role, full_time_only, inherit, org_kinds, min_members, count, severity, source, is_local
    ("TEAM-1", "党员50名以上的党组织应配备专职党务干部", "party_cadre", True, True,
     "committee,general_branch,branch", 50, 1, "violation",
     "TEAM-1 · 基层党组织分类定级自评表“保障机制”：党员50名以上未配备专职党务干部的扣5分"
     "（中组厅字〔2012〕6号配套做法）。", False),
    ("TEAM-2", "每个党支部至少有1名思政骨干（地方规定）", "backbone", False, False,
     "branch", 0, 1, "warning",
     "本地规定：每个党支部至少培养1名思想政治工作骨干（含青年干部、先进典型），"
     "协助书记开展谈心谈话和思想动态分析。", True),
]  # fmt: skip


def load(apps, schema_editor):
    CoverageRule = apps.get_model("team", "CoverageRule")
    for code, label, role, full_time, inherit, kinds, min_members, count, severity, source, local in DEFAULTS:
        CoverageRule.objects.update_or_create(
            code=code,
            defaults={"label": label, "team_role": role, "full_time_only": full_time, "inherit": inherit,
                      "org_kinds": kinds, "min_members": min_members, "count": count, "severity": severity,
                      "source": source, "is_local": local},
        )  # fmt: skip


def unload(apps, schema_editor):
    CoverageRule = apps.get_model("team", "CoverageRule")
    Gap = apps.get_model("team", "Gap")
    codes = [d[0] for d in DEFAULTS]
    Gap.objects.filter(rule__code__in=codes).delete()
    CoverageRule.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("team", "0001_register_rules_gaps_trainings")]

    operations = [migrations.RunPython(load, unload)]
