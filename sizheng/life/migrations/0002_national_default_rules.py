"""Load the national default rules of rules.md §1–4 as data (administrators may edit them)."""

from django.db import migrations

# A copy taken when this migration was written, so later edits to the code's defaults do not
# change what this migration did.
DEFAULTS = [
    # code, activity, org_kinds, count, period, within, severity, is_local, label, source
    ("BR-MTG-1", "members_meeting", "branch", 1, "quarter", "", "warning", False, "党员大会一般每季度召开1次",
     "《中国共产党支部工作条例（试行）》：支部党员大会一般每季度召开1次。"),
    ("BR-MTG-2", "committee_meeting", "branch", 1, "month", "", "warning", False, "支委会一般每月召开1次",
     "《中国共产党支部工作条例（试行）》：支部委员会会议一般每月召开1次；未设支委会的支部可登记豁免。"),
    ("BR-MTG-3", "group_meeting", "group", 1, "month", "", "warning", False, "党小组会一般每月召开1次",
     "《中国共产党支部工作条例（试行）》：党小组会一般每月召开1次。"),
    ("BR-DAY-1", "theme_day", "branch", 1, "month", "", "warning", False, "主题党日每月开展1次",
     "《中国共产党支部工作条例（试行）》：党支部每月相对固定1天开展主题党日。"),
    ("BR-LEC-1", "party_lecture", "branch", 1, "quarter", "", "warning", True, "党课每季度1次（本地规则）",
     "常见地方规定：党员每季度至少听1次党课（《支部工作条例》未规定次数）。"),
    ("BR-OLM-1", "life_meeting", "branch", 1, "year", "", "violation", False, "组织生活会每年至少召开1次",
     "《中国共产党支部工作条例（试行）》：组织生活会每年至少召开1次。"),
    ("BR-OLM-1-Q4", "life_meeting", "branch", 1, "year", "Q4", "warning", False, "组织生活会一般在第四季度召开",
     "《中国共产党支部工作条例（试行）》：组织生活会一般安排在第四季度。"),
    ("BR-EVAL-1", "member_appraisal", "branch", 1, "year", "", "warning", False, "民主评议党员一般每年1次",
     "《中国共产党支部工作条例（试行）》：民主评议党员一般每年开展1次。"),
    ("DLM-2", "democratic_life_meeting", "leading_group", 1, "year", "", "violation", False,
     "民主生活会每年召开1次", "《县以上党和国家机关党员领导干部民主生活会若干规定》：每年召开1次。"),
    ("DLM-2-Q4", "democratic_life_meeting", "leading_group", 1, "year", "Q4", "warning", False,
     "民主生活会一般在第四季度召开", "《县以上党和国家机关党员领导干部民主生活会若干规定》：一般安排在第四季度。"),
    ("CGS-1", "central_group_study", "leading_group", 6, "year", "", "warning", True,
     "中心组学习每年不少于6次（本地规则）", "常见地方规定：中心组每年集体学习不少于6次。"),
    ("CGS-2", "central_group_study", "leading_group", 1, "quarter", "", "warning", True,
     "中心组学习每季度至少1次（本地规则）", "常见地方规定：中心组每季度至少集体学习1次。"),
]


def load(apps, schema_editor):
    ComplianceRule = apps.get_model("life", "ComplianceRule")
    for code, activity, kinds, count, period, within, severity, local, label, source in DEFAULTS:
        ComplianceRule.objects.update_or_create(
            code=code,
            defaults={
                "activity": activity, "org_kinds": kinds, "count": count, "period": period, "within": within,
                "severity": severity, "is_local": local, "label": label, "source": source,
            },
        )  # fmt: skip


def unload(apps, schema_editor):
    ComplianceRule = apps.get_model("life", "ComplianceRule")
    ComplianceRule.objects.filter(code__in=[d[0] for d in DEFAULTS], scope_org__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("life", "0001_meetings_rules_appraisal")]

    operations = [migrations.RunPython(load, unload)]
